"""A manager accepts a tidal proposal in the browser and sees the window change on the live hall
without reloading; the manager's window actions from the live hall."""

from __future__ import annotations

import uuid

from selenium.webdriver.common.by import By

from tests.ui.web.conftest import WebHall, login, wait_until


def _swell_shebao(bus, n: int = 20) -> None:
    for _ in range(n):
        bus.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})


def test_accepting_a_proposal_moves_the_window_live(web_hall: WebHall, browser, bus_factory) -> None:
    login(browser, web_hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    browser.get(web_hall.url + "/tidal")
    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#load tbody tr"))
    marker = browser.execute_script("window.__page = Math.random(); return window.__page")
    _swell_shebao(bus_factory("kiosk-1"))
    row = wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#proposals tbody tr"), timeout=15)[0]
    assert "社保" in row.text
    row.find_element(By.CSS_SELECTOR, "button.accept").click()
    wait_until(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "#proposals tbody tr"), timeout=10)
    assert web_hall.controller.engine.window(3).domains == ["yibao", "shebao"]
    assert browser.execute_script("return window.__page") == marker  # the same page: nothing reloaded

    browser.get(web_hall.url + "/hall")
    cell = wait_until(browser, lambda d: d.find_element(By.CSS_SELECTOR, '#windows tr[data-window="3"] td.domains'))
    assert "医保" in cell.text and "社保" in cell.text
    marker = browser.execute_script("window.__page = Math.random(); return window.__page")
    browser.find_element(By.CSS_SELECTOR, '#windows tr[data-window="3"] button.pause').click()
    wait_until(
        browser,
        lambda d: "暂停服务" in d.find_element(By.CSS_SELECTOR, '#windows tr[data-window="3"] td.state').text,
    )
    assert web_hall.controller.engine.window(3).paused
    assert browser.execute_script("return window.__page") == marker
    entries = web_hall.controller.engine.audit_log(20)
    assert any(e["action"] == "window.assign" and e["actor"].startswith("web/M0001") for e in entries)
