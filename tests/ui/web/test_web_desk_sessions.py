"""A clerk's desk is freed when the clerk's session ends without 离开窗口: idle past ``[web]
idle_timeout_min`` (the web server's sweep ends it, no request needed) or logged out. The live hall
in a manager's real browser stops showing the clerk at the window; a second live session of the same
clerk at that window keeps the desk."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By

from hall_bus import config as hallconfig
from tests.ui.web.conftest import WebHall, login, running, wait_until
from tests.ui.web.test_web_login import _login
from ui.web.settings import WebSettings

CLERK = {"staff_no": "S0101", "staff_name": "王芳"}


@pytest.fixture
def desk_hall(tmp_hall: Path, bus_factory) -> Iterator[WebHall]:
    """The console with a one-minute idle timeout, sweeping the idle sessions every 0.1 s."""
    cfg = hallconfig.load(tmp_hall)
    settings = WebSettings(port=0, idle_timeout_min=1)
    with running(cfg, bus_factory, settings, ("S0101", "M0001"), sweep_s=0.1) as hall:
        yield hall


def at_window(client: httpx.Client, window: int) -> str:
    """Log the clerk in on ``client``, take ``window``; the session's CSRF token."""
    token = _login(client, "S0101")
    r = client.post("/api/desk/take", json={"window": window}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text
    return token


def clerk_cell(browser) -> str:
    return str(browser.find_element(By.CSS_SELECTOR, "#windows tbody tr:first-child td.clerk").text)


def test_an_idle_clerks_session_ends_and_the_live_hall_shows_nobody_at_the_desk(desk_hall: WebHall, browser) -> None:
    web = desk_hall.web
    login(browser, desk_hall, "M0001")  # the manager watches the live hall
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    with httpx.Client(base_url=desk_hall.url, follow_redirects=False) as clerk:
        at_window(clerk, 1)
        assert web.live.get("desk/1") == CLERK
        wait_until(browser, lambda d: clerk_cell(d) == "王芳")
        time.sleep(0.5)  # several sweeps: a session in use is not ended
        assert web.live.get("desk/1") == CLERK
        (session,) = web.accounts.sessions_of("S0101")
        session.last_seen -= 61  # the clerk walked away a minute and a second ago, without 离开窗口
        wait_until(browser, lambda d: clerk_cell(d) == "—")  # the sweep ended it: no request came
        assert web.live.get("desk/1") is None and web.accounts.sessions_of("S0101") == []
        r = clerk.get("/api/scans/current")
        assert r.status_code == 401  # the session is over
    assert web.accounts.sessions_of("M0001")  # the manager's own session goes on
    assert "/hall" in browser.current_url


def test_logging_out_frees_the_desk_unless_the_clerk_is_there_in_another_session(desk_hall: WebHall) -> None:
    web = desk_hall.web
    with (
        httpx.Client(base_url=desk_hall.url, follow_redirects=False) as pc,
        httpx.Client(base_url=desk_hall.url, follow_redirects=False) as tablet,
    ):
        pc_token = at_window(pc, 1)
        tablet_token = at_window(tablet, 1)  # the same clerk, a second browser at the same window
        r = tablet.post("/logout", data={"csrf": tablet_token})
        assert r.status_code == 303
        assert web.live.get("desk/1") == CLERK  # still at the window on the PC
        r = pc.post("/logout", data={"csrf": pc_token})
        assert r.status_code == 303
        assert web.live.get("desk/1") is None


def test_a_session_at_no_window_ends_without_touching_the_desks(desk_hall: WebHall) -> None:
    web = desk_hall.web
    with httpx.Client(base_url=desk_hall.url, follow_redirects=False) as clerk:
        at_window(clerk, 1)
    with httpx.Client(base_url=desk_hall.url, follow_redirects=False) as other:
        token = _login(other, "M0001")  # a manager with no window, logging out
        assert other.post("/logout", data={"csrf": token}).status_code == 303
    assert web.live.get("desk/1") == CLERK
    assert web.accounts.sweep(now=time.time() + 61) == 1  # the clerk's session, by the sweep itself
    assert web.live.get("desk/1") is None
