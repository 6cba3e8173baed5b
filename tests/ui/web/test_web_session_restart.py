"""Staff stay logged in when the web console restarts (an upgrade, a crash): the sessions are kept in
web.db by the SHA-256 of their id only (the id itself is only in the browser's signed cookie), with
the window a clerk took; a restarted console knows the cookie, shows the clerk at the desk again, and
drops what logged out or went idle meanwhile."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from hall_bus import config as hallconfig
from hall_bus.controller.service import HallController
from hall_bus.features.evaluation.settings import load as staff_settings
from tests.ui.web.conftest import PASSWORD
from tests.ui.web.test_web_login import _login
from ui.web.accounts import Accounts
from ui.web.app import COOKIE
from ui.web.server import WebServer
from ui.web.settings import WebSettings


def console(cfg, bus_factory, settings: WebSettings) -> WebServer:
    web = WebServer(cfg, settings=settings, bus=bus_factory("web"), port=0).start()
    for staff_no in ("S0101", "S0102", "M0001"):
        web.accounts.set_password(staff_no, PASSWORD)
    return web


def test_a_restarted_console_keeps_its_staff_logged_in_and_at_their_windows(tmp_hall: Path, bus_factory) -> None:
    cfg = hallconfig.load(tmp_hall)
    controller = HallController(cfg, bus_factory("controller")).start()
    settings = WebSettings(port=0, idle_timeout_min=15)
    web = console(cfg, bus_factory, settings)
    try:
        clerk, gone = httpx.Client(base_url=web.url), httpx.Client(base_url=web.url)
        token = _login(clerk, "S0101")
        assert clerk.post("/api/desk/take", json={"window": 1}, headers={"X-CSRF-Token": token}).status_code == 200
        other = _login(gone, "S0102")
        assert gone.post("/logout", headers={"X-CSRF-Token": other}, data={"csrf": other}).status_code in (200, 303)
        cookie = clerk.cookies[COOKIE]
        with sqlite3.connect(Path(cfg.data_dir) / "web.db") as db:
            rows = db.execute("SELECT key, staff_no, window FROM web_sessions").fetchall()
        assert [(r[1], r[2]) for r in rows] == [("S0101", 1)]  # the logged-out one is gone
        sid = cookie.split(".")[0]
        assert sid not in str(rows) and len(rows[0][0]) == 64  # only the id's hash is stored
        web.stop()

        web = console(cfg, bus_factory, settings)  # the same data_dir: a restart
        assert web.live.get("desk/1") == {"staff_no": "S0101", "staff_name": "王芳"}
        again = httpx.Client(base_url=web.url, cookies={COOKIE: cookie}, follow_redirects=False)
        page = again.get("/clerk")
        assert page.status_code == 200 and 'id="desk"' in page.text  # logged in, still at window 1
        r = again.post("/api/desk/leave", headers={"X-CSRF-Token": token})
        assert r.status_code == 200  # the same CSRF token
        assert web.live.get("desk/1") is None
        web.stop()

        web = console(cfg, bus_factory, settings)  # the clerk left: no desk to show after a restart
        assert web.live.get("desk/1") is None
    finally:
        web.stop()
        controller.stop()


def test_a_session_idle_past_the_timeout_is_not_restored(tmp_path: Path, hall_toml: Path) -> None:
    cfg = hallconfig.load(hall_toml)
    staff = staff_settings(cfg).staff
    now = [1_000_000.0]
    settings = WebSettings(idle_timeout_min=1)
    first = Accounts(tmp_path, staff, settings, clock=lambda: now[0])
    first.open_session(staff[0])
    first.close()
    now[0] += 30
    assert len(Accounts(tmp_path, staff, settings, clock=lambda: now[0]).restored()) == 1  # within the minute
    now[0] += 60
    again = Accounts(tmp_path, staff, settings, clock=lambda: now[0])
    assert again.restored() == []
    assert again.db.execute("SELECT COUNT(*) FROM web_sessions").fetchone()[0] == 0  # and gone from web.db
