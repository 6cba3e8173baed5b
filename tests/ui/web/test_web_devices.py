"""The devices page and its alerts, in a real browser: the kiosk's receipt printer runs on its simulator
(sim://printer) and publishes its health on the bus through a bus client logged in as kiosk-1, as the
kiosk's device host does (hall_bus/hosts/kiosk_devices.py); the alert opens when the roll runs out,
is acknowledged, and closes by itself when paper is back."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from devices.base import Device
from hall_bus.bus import topics
from hall_bus.hosts.device_bridge import open_bus_device
from simulators import registry
from tests.helpers import wait_for
from tests.ui.web.conftest import WebHall, login, wait_until
from tests.ui.web.test_web_login import _login
from ui.web import alerts
from ui.web.alerts import AlertBook, AlertWatcher


@pytest.fixture
def watcher(web_hall: WebHall) -> AlertWatcher:
    """The alerts as ``WebServer`` started them (pads that said nothing for 1 s are silent here)."""
    watcher = alerts.install(web_hall.web.context)
    watcher.silent_after_s = 1.0
    return watcher


@pytest.fixture
def kiosk_printer(web_hall: WebHall, bus_factory, tmp_path) -> Iterator[tuple[Device, object]]:
    """kiosk-1's printer of hall.toml on its simulator, bridged to the bus as client kiosk-1."""
    config = web_hall.web.config
    name = f"wp-{uuid.uuid4().hex[:8]}"
    dev_cfg = next(d for d in config.devices if d.id == "kiosk-1-printer")
    dev_cfg = dataclasses.replace(dev_cfg, url=f"sim://printer?id={name}&out={tmp_path}")
    device = open_bus_device(dev_cfg, bus_factory("kiosk-1"), config.hall_id)
    yield device, registry.instance(name)
    device.close()


def _text(driver, css: str) -> str | None:
    """The text of the first element ``css`` finds, read in one step (the tables are redrawn live)."""
    found = driver.execute_script("const n = document.querySelector(arguments[0]); return n ? n.innerText : null;", css)
    return None if found is None else str(found)


def _alert_text(driver, words: str) -> str:
    """The text of the alert row that contains ``words`` ('' when there is none)."""
    rows = driver.execute_script("return [...document.querySelectorAll('#alerts tbody tr')].map((r) => r.innerText);")
    return next((r for r in rows if words in r), "")


def _click_ack(driver, words: str) -> bool:
    return bool(
        driver.execute_script(
            "const row = [...document.querySelectorAll('#alerts tbody tr')].find((r) => r.innerText.includes(arguments[0]));"
            "const b = row && row.querySelector('button.ack'); if (b) { b.focus(); b.click(); } return !!b;",
            words,
        )
    )


def test_paper_out_opens_an_alert_that_is_acknowledged_and_clears(
    web_hall: WebHall, watcher: AlertWatcher, kiosk_printer, browser
) -> None:
    device, sim = kiosk_printer
    login(browser, web_hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    browser.get(web_hall.url + "/devices")
    row = '#devices tr[data-device="kiosk-1-printer"] td.health'
    wait_until(browser, lambda d: _text(d, row) == "正常")

    sim.paper = "out"
    started = time.monotonic()
    device.refresh()  # the status the kiosk reads before every ticket
    alert = wait_until(browser, lambda d: _alert_text(d, "打印机缺纸"), timeout=5)
    assert time.monotonic() - started < 5
    assert "大厅入口自助机的打印机缺纸" in alert and "严重" in alert and "未解除" in alert
    health = wait_until(browser, lambda d: _text(d, row) if "缺纸" in (_text(d, row) or "") else None)
    assert "故障" in health
    shown = [a for a in watcher.book.open_alerts() if a.kind == "paper_out"]
    assert len(shown) == 1 and web_hall.web.live.get(f"alert/{shown[0].id}")["open"]  # the live hall shows it

    assert _click_ack(browser, "打印机缺纸")
    wait_until(browser, lambda d: "M0001 已确认" in _alert_text(d, "打印机缺纸"))
    assert watcher.book.get(shown[0].id).acknowledged_by == "M0001"
    reread = AlertBook(web_hall.web.accounts.db, lambda a: None, time.time)  # as after a restart
    assert reread.get(shown[0].id).acknowledged_by == "M0001"

    sim.paper = "ok"
    device.refresh()
    wait_until(browser, lambda d: "已解除" in _alert_text(d, "打印机缺纸"), timeout=5)
    assert not _click_ack(browser, "打印机缺纸")  # a resolved alert has nothing left to acknowledge
    wait_until(browser, lambda d: _text(d, row) == "正常")
    assert not [a for a in watcher.book.open_alerts() if a.kind == "paper_out"]


def test_a_kiosk_going_offline_and_a_silent_pad_open_alerts(web_hall: WebHall, watcher: AlertWatcher, bus_factory):
    kiosk = bus_factory("kiosk-1")
    wait_for(lambda: watcher.online.get("kiosk-1") is True, timeout=5, what="kiosk-1 online")
    kiosk.stop()  # its availability goes offline, as its last will says when the network drops
    wait_for(lambda: any(a.kind == "kiosk_offline" for a in watcher.book.open_alerts()), timeout=5, what="alert")

    wait_for(lambda: any(a.key == "pad_silent:window-1-pad" for a in watcher.book.open_alerts()), timeout=5)
    window = bus_factory("window-1")  # the window host publishes its pad's health: the pad speaks again
    window.publish_state(
        topics.device_state(web_hall.web.config.hall_id, "window-1-pad"),
        "device.state",
        {"id": "window-1-pad", "kind": "pad", "state": "ready", "detail": "", "profile": "generic-pad", "since": 1.0},
    )
    wait_for(lambda: not any(a.key == "pad_silent:window-1-pad" for a in watcher.book.open_alerts()), timeout=5)
    with httpx.Client(base_url=web_hall.url) as manager:
        _login(manager, "M0001")
        answer = manager.get("/api/devices").json()
    pad = next(d for d in answer["devices"] if d["id"] == "window-1-pad")
    assert pad["state"]["state"] == "ready" and pad["heard_at"]
    offline = next(a for a in answer["alerts"] if a["kind"] == "kiosk_offline")
    assert (
        offline["open"] and offline["text_en"] == "The kiosk kiosk-1 is offline." and offline["severity"] == "critical"
    )


def test_a_clerk_may_not_open_the_devices_page_nor_acknowledge(web_hall: WebHall, browser) -> None:
    login(browser, web_hall, "S0101")
    wait_until(browser, lambda d: d.current_url.endswith("/clerk") or "/login" not in d.current_url)
    browser.get(web_hall.url + "/devices")
    assert "无权访问" in browser.page_source
    with httpx.Client(base_url=web_hall.url) as clerk:
        token = _login(clerk, "S0101")
        r = clerk.post("/api/alerts/1/ack", headers={"X-CSRF-Token": token})
        assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
        assert clerk.get("/api/devices").status_code == 403
