"""Logging in to the staff web console, in a real browser; and what the server refuses without a
session, without the role, or without the CSRF token."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.ui.web.conftest import PASSWORD, WebHall, login, wait_until


def test_a_wrong_password_is_refused_and_five_lock_the_account(web_hall: WebHall, browser) -> None:
    login(browser, web_hall, "M0001", "not-the-password")
    error = wait_until(browser, lambda d: d.find_element(By.ID, "login-error"))
    assert error.text == "工号或密码不正确。"
    for _ in range(4):
        login(browser, web_hall, "M0001", "still-wrong")
    error = wait_until(browser, lambda d: d.find_element(By.ID, "login-error"))
    assert "锁定" in error.text
    login(browser, web_hall, "M0001", PASSWORD)  # the right password no longer opens it while locked
    assert "锁定" in wait_until(browser, lambda d: d.find_element(By.ID, "login-error")).text
    assert browser.current_url.endswith("/login")


def test_a_manager_logs_in_sees_the_live_hall_and_logs_out(web_hall: WebHall, browser) -> None:
    login(browser, web_hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    rows = wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#windows tbody tr"))
    assert len(rows) == len(web_hall.controller.config.windows)
    assert "实时更新中" in browser.find_element(By.ID, "live-state").text
    browser.find_element(By.ID, "logout").click()
    wait_until(browser, lambda d: "/login" in d.current_url)
    assert "您已退出登录" in browser.page_source
    browser.get(web_hall.url + "/hall")  # the session is over: back to the login page
    assert "/login" in browser.current_url


@pytest.fixture
def web_settings():
    from ui.web.settings import WebSettings

    return WebSettings(port=0, idle_timeout_min=1)


def test_an_idle_session_ends(web_hall: WebHall, browser) -> None:
    login(browser, web_hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    accounts = web_hall.web.accounts
    accounts.clock = lambda: __import__("time").time() + 61  # a minute and a second without a request
    browser.get(web_hall.url + "/tidal")
    assert "/login" in browser.current_url


def test_the_server_refuses_without_session_role_or_csrf(web_hall: WebHall) -> None:
    base = web_hall.url
    with httpx.Client(base_url=base, follow_redirects=False) as anon:
        r = anon.get("/api/live")
        assert r.status_code == 401 and r.json()["code"] == "not_logged_in"
        r = anon.post("/api/windows/1/pause", json={})
        assert r.status_code == 401
    with httpx.Client(base_url=base, follow_redirects=False) as clerk:
        _login(clerk, "S0101")
        r = clerk.get("/hall")
        assert r.status_code == 403 and "无权访问" in r.text
        r = clerk.post("/api/windows/1/pause", json={}, headers={"X-CSRF-Token": "x"})
        assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
    with httpx.Client(base_url=base, follow_redirects=False) as manager:
        token = _login(manager, "M0001")
        r = manager.post("/api/windows/2/pause", json={})  # no CSRF token
        assert r.status_code == 403 and r.json()["code"] == "csrf"
        assert not web_hall.controller.engine.window(2).paused
        r = manager.post("/api/windows/2/pause", json={"reason": "午休"}, headers={"X-CSRF-Token": token})
        assert r.status_code == 200, r.text
        assert web_hall.controller.engine.window(2).paused
        audit = web_hall.controller.store.db.execute(
            "SELECT actor FROM audit WHERE action LIKE '%pause%' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert audit[0] == "web/M0001"  # the authenticated client and the logged-in staff member


def _login(client: httpx.Client, staff_no: str) -> str:
    page = client.get("/login")
    token = page.text.split('name="login_token" value="', 1)[1].split('"', 1)[0]
    r = client.post("/login", data={"staff_no": staff_no, "password": PASSWORD, "login_token": token})
    assert r.status_code == 303, r.text
    home = client.get(r.headers["location"])
    assert home.status_code == 200, home.text
    return home.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
