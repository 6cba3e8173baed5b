"""The window tablet (评价平板) in a real browser: paired once with a one-time code, it shows window 2
and its clerk, and answers the controller's ``pad.evaluate`` like the serial pad; the rating is stored
once. The pairing code works once and expires; a pairing survives a restart and can be undone."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.conftest import ROOT
from tests.ui.web.conftest import WebHall, wait_until
from tests.ui.web.test_web_clerk import issue
from tests.ui.web.test_web_login import _login
from ui.web.tablets import Pairings, TabletError

PAD = "window-2-tablet"
TABLET = f"""
[[devices]]
id = "{PAD}"
kind = "pad"
url = "web://tablet"
window = 2
"""


@pytest.fixture
def hall_toml(tmp_path: Path) -> Path:
    """The demo hall with window 2's tablet pad (the last pad listed for a window is the one asked)."""
    path = tmp_path / "with-tablet.toml"
    path.write_text((ROOT / "hall.toml").read_text(encoding="utf-8") + TABLET, encoding="utf-8")
    return path


def pairing_code(client: httpx.Client, token: str) -> str:
    r = client.post(f"/api/tablets/{PAD}/pairing-code", json={}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    code = r.json()["code"]
    assert len(code) == 6 and code.isdigit()
    return str(code)


def pair_browser(driver, hall: WebHall, code: str) -> None:
    driver.get(hall.url + "/tablet")
    driver.find_element(By.ID, "pair-code").send_keys(code)
    driver.find_element(By.ID, "pair-submit").click()


def test_the_tablet_of_window_2_rates_the_ticket_window_2_finished_once(
    web_hall: WebHall, browser, bus_factory
) -> None:
    kiosk = bus_factory("kiosk-1")
    with httpx.Client(base_url=web_hall.url) as manager:
        code = pairing_code(manager, _login(manager, "M0001"))
    pair_browser(browser, web_hall, code)
    wait_until(browser, lambda d: d.find_elements(By.ID, "tablet"))
    assert browser.find_element(By.ID, "tablet-window").text == "2号窗口"
    cookie = browser.get_cookie("hallkit_tablet")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    wait_until(browser, lambda d: "实时更新中" in d.find_element(By.ID, "live-state").text)
    health = web_hall.web.live.get(f"device/{PAD}")
    assert health["state"] == "ready"  # online while a tablet is connected
    assert f"device-availability/{PAD}" in web_hall.web.live.snapshot()

    with httpx.Client(base_url=web_hall.url) as clerk:
        h = {"X-CSRF-Token": _login(clerk, "S0102")}
        assert clerk.post("/api/desk/take", json={"window": 2}, headers=h).status_code == 200
        wait_until(browser, lambda d: d.find_element(By.ID, "clerk-name").text == "李强")
        assert browser.find_element(By.ID, "clerk-no").text == "工号 S0102"
        ticket = issue(kiosk)
        assert clerk.post("/api/desk/call", json={}, headers=h).status_code == 200
        wait_until(browser, lambda d: ticket in d.find_element(By.ID, "now-text").text)
        assert clerk.post("/api/desk/finish", json={}, headers=h).status_code == 200

    wait_until(browser, lambda d: d.find_element(By.ID, "rate").is_displayed())
    assert ticket in browser.find_element(By.ID, "rate-ticket").text
    levels = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "button.level")]
    assert levels == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    browser.find_element(By.ID, "level-4").click()  # a bad level asks the reason
    wait_until(browser, lambda d: d.find_element(By.ID, "reasons").is_displayed())
    browser.find_element(By.ID, "reason-efficiency").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "thanks").is_displayed())
    assert not browser.find_element(By.ID, "rate").is_displayed()

    def stored() -> dict:
        return kiosk.request("evaluation.get", {"ticket": ticket}, timeout=5)["evaluation"]

    deadline = time.monotonic() + 5
    while stored()["status"] != "rated" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored() == {
        **stored(),
        "status": "rated",
        "level": 4,
        "channel": "pad",
        "reason": "efficiency",
        "window": 2,
    }
    again = browser.execute_async_script(  # a second press for the same ticket is refused
        """const done = arguments[arguments.length - 1];
        fetch('/api/tablet/rate', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': CSRF},
          body: JSON.stringify({ticket: arguments[0], level: 1})}).then(r => r.json()).then(done);""",
        ticket,
    )
    assert again["code"] == "tablet_not_asked"
    rows = web_hall.controller.store.db.execute("SELECT COUNT(*) FROM evaluations WHERE code=?", (ticket,)).fetchone()
    assert rows[0] == 1 and stored()["level"] == 4


def test_a_pairing_code_works_once_and_expires_and_unpairing_ends_the_tablet(web_hall: WebHall, browser) -> None:
    with httpx.Client(base_url=web_hall.url) as manager:
        token = _login(manager, "M0001")
        code = pairing_code(manager, token)
        pair_browser(browser, web_hall, code)
        wait_until(browser, lambda d: d.find_elements(By.ID, "tablet"))
        paired = browser.get_cookie("hallkit_tablet")["value"]
        browser.delete_all_cookies()  # a second tablet with the same code is refused
        pair_browser(browser, web_hall, code)
        error = wait_until(browser, lambda d: d.find_element(By.ID, "pair-error"))
        assert error.text == "配对码不正确或已过期，请在管理页面重新生成。"

        restarted = Pairings(web_hall.web.accounts.db, web_hall.web.config.data_dir)  # the pairing is in web.db
        assert restarted.device_of(paired) == PAD
        late = pairing_code(manager, token)
        web_hall.web.context.extras["tablets"].pairings.clock = lambda: time.time() + 10 * 60 + 1
        pair_browser(browser, web_hall, late)
        assert wait_until(browser, lambda d: d.find_element(By.ID, "pair-error"))
        assert not browser.find_elements(By.ID, "tablet")

        r = manager.post(f"/api/tablets/{PAD}/unpair", json={}, headers={"X-CSRF-Token": token})
        assert r.json()["unpaired"] == 1 and restarted.device_of(paired) is None
        r = manager.post("/api/tablets/window-1-pad/pairing-code", json={}, headers={"X-CSRF-Token": token})
        assert r.status_code == 404 and r.json()["code"] == "unknown_tablet"  # a serial pad is not a tablet
    with httpx.Client(base_url=web_hall.url) as clerk:
        r = clerk.post(f"/api/tablets/{PAD}/pairing-code", json={}, headers={"X-CSRF-Token": _login(clerk, "S0102")})
        assert r.status_code == 403
    with httpx.Client(base_url=web_hall.url) as anybody:
        assert anybody.get("/api/tablet/stream").status_code == 401


def test_five_wrong_codes_void_the_outstanding_ones(tmp_path: Path) -> None:
    import sqlite3

    pairings = Pairings(sqlite3.connect(":memory:", isolation_level=None), tmp_path)
    code, _ = pairings.new_code(PAD, 10)
    for _ in range(5):
        with pytest.raises(TabletError):
            pairings.pair("000000" if code != "000000" else "111111")
    with pytest.raises(TabletError):
        pairings.pair(code)


def wait_status(kiosk, ticket: str, status: str) -> dict:
    deadline = time.monotonic() + 5
    while True:
        found = kiosk.request("evaluation.get", {"ticket": ticket}, timeout=5)["evaluation"]
        if found["status"] == status or time.monotonic() > deadline:
            return dict(found)
        time.sleep(0.05)


def serve_one(web_hall: WebHall, kiosk) -> str:
    """A ticket issued, called and finished at window 2 by its clerk."""
    with httpx.Client(base_url=web_hall.url) as clerk:
        h = {"X-CSRF-Token": _login(clerk, "S0102")}
        clerk.post("/api/desk/take", json={"window": 2}, headers=h)
        ticket = issue(kiosk)
        assert clerk.post("/api/desk/call", json={}, headers=h).status_code == 200
        assert clerk.post("/api/desk/finish", json={}, headers=h).status_code == 200
    return ticket


def test_no_press_before_the_timeout_is_not_evaluated_and_no_tablet_is_pad_offline(
    web_hall: WebHall, browser, bus_factory
) -> None:
    kiosk = bus_factory("kiosk-1")
    with httpx.Client(base_url=web_hall.url) as manager:
        code = pairing_code(manager, _login(manager, "M0001"))
    pair_browser(browser, web_hall, code)
    wait_until(browser, lambda d: d.find_elements(By.ID, "tablet"))  # (the pairing page has a #live-state too)
    wait_until(browser, lambda d: "实时更新中" in d.find_element(By.ID, "live-state").text)
    ticket = serve_one(web_hall, kiosk)
    wait_until(browser, lambda d: d.find_element(By.ID, "rate").is_displayed())
    pads = web_hall.web.context.extras["tablets"].pads
    pads.clock = lambda: time.time() + 61  # the evaluation's timeout_s (60) has passed without a press
    wait_until(browser, lambda d: not d.find_element(By.ID, "rate").is_displayed())
    assert wait_status(kiosk, ticket, "not_evaluated")["level"] is None

    browser.get(web_hall.url + "/login")  # the tablet goes away: the pad is offline and answers so at once
    wait_until(browser, lambda d: web_hall.web.live.get(f"device/{PAD}")["state"] == "offline")
    ticket = serve_one(web_hall, kiosk)
    assert wait_status(kiosk, ticket, "not_evaluated")["status"] == "not_evaluated"
