"""The clerk's window page in a real browser: take a window, call and finish a ticket issued at the
kiosk and see it change without reloading; the server refuses a window the clerk may not work."""

from __future__ import annotations

import uuid

import httpx
from selenium.webdriver.common.by import By

from hall_bus.bus import topics
from tests.ui.web.conftest import WebHall, login, wait_until
from tests.ui.web.test_web_login import _login


def issue(kiosk, service: str = "shebao-card") -> str:
    answer = kiosk.request("ticket.issue", {"service": service, "idempotency_key": uuid.uuid4().hex}, timeout=5)
    return str(answer["ticket"]["code"])


def serve_pad(bus, hall_id: str, pad: str) -> None:
    """Window 1's serial pad, as its host answers (the rating itself is the tablet test's)."""
    bus.serve(topics.device_request(hall_id, pad, "pad.evaluate"), lambda env: {"accepted": True})


def take_window(driver, hall: WebHall, staff_no: str, window: int) -> None:
    login(driver, hall, staff_no)
    wait_until(driver, lambda d: d.current_url.endswith("/clerk"))
    select = driver.find_element(By.ID, "take-window")
    select.find_element(By.CSS_SELECTOR, f'option[value="{window}"]').click()
    driver.find_element(By.ID, "take").click()
    wait_until(driver, lambda d: d.find_elements(By.ID, "desk"))


def test_a_clerk_takes_window_1_calls_and_finishes_a_ticket_live(web_hall: WebHall, browser, bus_factory) -> None:
    kiosk = bus_factory("kiosk-1")
    serve_pad(bus_factory("window-1"), web_hall.controller.config.hall_id, "window-1-pad")
    take_window(browser, web_hall, "S0101", 1)
    assert "1号窗口" in browser.find_element(By.ID, "desk-title").text
    assert web_hall.web.live.get("desk/1") == {"staff_no": "S0101", "staff_name": "王芳"}  # the live hall's clerk
    wait_until(browser, lambda d: "实时更新中" in d.find_element(By.ID, "live-state").text)
    assert browser.find_element(By.ID, "current-code").text == "当前没有号码"
    code = issue(kiosk)
    waiting = '#desk-queues tr[data-domain="shebao"] td.waiting'
    wait_until(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, waiting) and d.find_element(By.CSS_SELECTOR, waiting).text == "1",
    )
    browser.find_element(By.ID, "act-call").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "current-code").text == code)
    assert "已叫号" in browser.find_element(By.ID, "current-state").text
    assert code in browser.find_element(By.ID, "desk-message").text
    browser.find_element(By.ID, "act-finish").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "current-code").text == "当前没有号码")
    assert f"{code} 已办结" in browser.find_element(By.ID, "desk-message").text
    assert web_hall.controller.engine.ticket(code, None).state == "finished"
    browser.find_element(By.ID, "leave").click()  # leaving the window clears the clerk from the live hall
    wait_until(browser, lambda d: d.find_elements(By.ID, "take-form"))
    assert web_hall.web.live.get("desk/1") is None


def test_a_clerk_may_not_take_a_window_that_is_not_theirs(web_hall: WebHall, browser) -> None:
    login(browser, web_hall, "S0101")
    wait_until(browser, lambda d: d.current_url.endswith("/clerk"))
    options = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#take-window option")]
    assert options == ["1"]  # the page offers only the clerk's own windows
    with httpx.Client(base_url=web_hall.url) as clerk:
        token = _login(clerk, "S0101")
        r = clerk.post("/api/desk/take", json={"window": 3}, headers={"X-CSRF-Token": token})
        assert r.status_code == 403
        assert r.json() == {"ok": False, "code": "window_not_yours", "message": "您不能操作这个窗口。"}
        r = clerk.post("/api/desk/call", json={}, headers={"X-CSRF-Token": token})  # no window taken yet
        assert r.status_code == 409 and r.json()["message"] == "请先选择您所在的窗口。"
        clerk.cookies.set("hallkit_lang", "en")
        r = clerk.post("/api/desk/take", json={"window": 3}, headers={"X-CSRF-Token": token})
        assert r.json()["message"] == "You may not work at that window."
    assert web_hall.web.live.get("desk/3") is None


def test_transfer_to_a_skilled_window_pause_and_resume(web_hall: WebHall, bus_factory) -> None:
    kiosk = bus_factory("kiosk-1")
    code = issue(kiosk)
    with httpx.Client(base_url=web_hall.url) as clerk:
        token = _login(clerk, "S0101")
        h = {"X-CSRF-Token": token}
        assert clerk.post("/api/desk/take", json={"window": 1}, headers=h).status_code == 200
        r = clerk.post("/api/desk/transfer", json={}, headers=h)
        assert r.status_code == 422 and r.json()["code"] == "transfer_target"
        r = clerk.post("/api/desk/transfer", json={"to_window": 2}, headers=h)
        assert r.status_code == 409 and r.json()["code"] == "no_current_ticket"  # nothing called yet
        assert clerk.post("/api/desk/call", json={}, headers=h).json()["result"]["ticket"]["code"] == code
        r = clerk.post("/api/desk/transfer", json={"to_window": 2}, headers=h)
        assert r.status_code == 200 and r.json()["message"] == f"{code} 已转到 2号窗口"
        assert web_hall.controller.engine.ticket(code, None).target_window == 2
        audit = web_hall.controller.store.db.execute(
            "SELECT actor FROM audit WHERE action='ticket.transfer'"
        ).fetchone()
        assert audit[0] == "web/S0101"  # the controller audits the clerk who acted
        r = clerk.post("/api/desk/pause", json={"reason": "会议"}, headers=h)
        assert r.status_code == 200 and r.json()["message"] == "窗口已暂停服务"
        assert web_hall.controller.engine.window(1).paused
        r = clerk.post("/api/desk/resume", json={}, headers=h)
        assert r.json()["message"] == "窗口已恢复服务" and not web_hall.controller.engine.window(1).paused
