"""The 24-hour pickup page and the audit log, in a real browser: an item deposited through the bus (a
window terminal's client, the real locker host on the locker simulator) is listed and returned to the
window by a manager; the audit log is filtered by actor, action and day."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By

from hall_bus.hosts.device_bridge import open_bus_device
from simulators import registry
from tests.hall_bus.features.pickup.pickup_harness import PickupHall
from tests.helpers import ROOT, wait_for
from tests.ui.web.conftest import PASSWORD, WebHall, login, wait_until
from tests.ui.web.test_web_login import _login
from ui.web import alerts
from ui.web.server import WebServer
from ui.web.settings import WebSettings


@pytest.fixture
def pickup_hall(tmp_hall, bus_factory) -> Iterator[tuple[PickupHall, WebHall]]:
    hall = PickupHall(tmp_hall, bus_factory).start()
    web = WebServer(hall.config, settings=WebSettings(port=0), bus=bus_factory("web"), port=0).start()
    web.accounts.set_password("M0001", PASSWORD)
    assert hall.controller is not None
    yield hall, WebHall(hall.controller, web)
    web.stop()
    hall.stop()


def test_the_pickup_page_lists_a_deposited_item_and_returns_it(pickup_hall, browser) -> None:
    hall, web_hall = pickup_hall
    deposit = hall.deposit("CASE-2001")
    item, comp = deposit["item"], deposit["comp"]
    login(browser, web_hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    browser.get(web_hall.url + "/pickup")
    row = f'#items tr[data-item="{item["item_id"]}"]'
    found = wait_until(browser, lambda d: d.find_element(By.CSS_SELECTOR, row))
    assert "CASE-2001" in found.text and comp.no in found.text and "待取件" in found.text

    found.find_element(By.CSS_SELECTOR, "button.return").click()
    browser.find_element(By.ID, "return-reason").send_keys("群众改为邮寄")
    browser.find_element(By.ID, "return-ok").click()
    wait_for(lambda: hall.sim.door_open(comp.board, comp.lock), what="the compartment opened for the return")
    hall.sim.close_door(comp.board, comp.lock)  # the clerk took the item out and closed the door
    wait_for(lambda: hall.item(item["item_id"])["state"] == "returned", what="returned")
    wait_until(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, row), timeout=5)  # live: it left the lockers
    audit = hall.controller.features["pickup"].service.audit(20)
    assert any(a["actor"] == "web/M0001" and a["action"] == "open_requested" for a in audit)


def test_the_audit_page_shows_the_pickup_return_by_web_staff(pickup_hall, browser) -> None:
    hall, web_hall = pickup_hall
    item = hall.deposit("CASE-2002")["item"]
    with httpx.Client(base_url=web_hall.url) as manager:
        token = _login(manager, "M0001")
        r = manager.post(f"/api/pickup/{item['item_id']}/return", json={}, headers={"X-CSRF-Token": token})
        assert r.status_code == 200, r.text
    login(browser, web_hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    browser.get(web_hall.url + "/audit?actor=web/M0001")
    assert "web/M0001" in browser.find_element(By.ID, "audit").text


def test_the_audit_page_filters_by_actor_action_and_day(web_hall: WebHall, browser) -> None:
    with httpx.Client(base_url=web_hall.url) as manager:
        token = _login(manager, "M0001")
        for n in (3, 4):
            r = manager.post(f"/api/windows/{n}/pause", json={"reason": "午休"}, headers={"X-CSRF-Token": token})
            assert r.status_code == 200, r.text
    web_hall.controller.engine.audit("cli", "note", "hall", {"x": 1})
    login(browser, web_hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    browser.get(web_hall.url + "/audit")
    browser.find_element(By.ID, "f-actor").send_keys("web/M0001")
    browser.find_element(By.ID, "f-action").send_keys("pause")
    browser.find_element(By.ID, "audit-submit").click()
    wait_until(browser, lambda d: "actor=web" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")
    assert len(rows) == 2
    assert all("web/M0001" in r.find_element(By.CSS_SELECTOR, ".actor").text for r in rows)
    assert "共 2 条" in browser.find_element(By.ID, "audit-count").text
    today = dt.datetime.now(web_hall.web.config.tz()).date()
    browser.get(web_hall.url + f"/audit?actor=cli&date={today.isoformat()}")
    assert [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#audit td.actor")] == ["cli"]
    browser.get(web_hall.url + f"/audit?actor=cli&date={(today - dt.timedelta(days=1)).isoformat()}")
    assert browser.find_element(By.ID, "no-audit").text == "没有符合条件的记录。"


@pytest.mark.slow
def test_screenshots_of_devices_pickup_and_audit(pickup_hall, bus_factory, browser, tmp_path) -> None:
    """docs/screenshots/web-{devices,pickup,audit}-{zh,en}.png (run with -m slow)."""
    hall, web_hall = pickup_hall
    alerts.install(web_hall.web.context)
    name = f"shot-{uuid.uuid4().hex[:8]}"
    dev_cfg = next(d for d in hall.config.devices if d.id == "kiosk-1-printer")
    printer = open_bus_device(
        dataclasses.replace(dev_cfg, url=f"sim://printer?id={name}&out={tmp_path}"),
        bus_factory("kiosk-1"),
        hall.config.hall_id,
    )
    for case in ("CASE-3001", "CASE-3002"):
        hall.deposit(case)
    registry.instance(name).paper = "out"
    printer.refresh()
    with httpx.Client(base_url=web_hall.url) as manager:
        token = _login(manager, "M0001")
        manager.post("/api/windows/2/pause", json={"reason": "午休"}, headers={"X-CSRF-Token": token})
    login(browser, web_hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    out = ROOT / "docs" / "screenshots"
    for lang in ("zh", "en"):
        for page, ready in (("devices", "#alerts tbody tr"), ("pickup", "#items tbody tr"), ("audit", "#audit")):
            browser.get(f"{web_hall.url}/{page}")
            wait_until(browser, lambda d, css=ready: d.find_elements(By.CSS_SELECTOR, css))
            time.sleep(1.5)
            browser.save_screenshot(str(out / f"web-{page}-{lang}.png"))
        browser.get(web_hall.url + "/lang/en")
    printer.close()
