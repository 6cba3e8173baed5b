"""Receipts printed at the window from the web console, in a real browser, down to the window's printer
simulator (controller -> window host -> sim://printer over the test broker): 打印回执 on /mandates prints
the 回执 at the clerk's window (a manager chooses the window); 打印受理回执 on the clerk's desk prints a
case's receipt with its verification code, and paper out is told in a sentence; the citizen's mandate
page /m/<token> follows the mandate's state without a reload. The controller answers a print at once
with its job; the page waits for the job's ``print`` event in the live hall (HallLive.wait_event) and
tells 已打印 or the printer's reason, ``printer_offline`` at once when the window's host is gone and
``print_unknown`` when no outcome comes in time (a host that hangs)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.controller.service import HallController
from hall_bus.hosts.window_host import WindowHost
from simulators import registry
from simulators.printer import PrinterSimulator
from tests.hall_bus.features.mandates.conftest import new_mandate
from tests.hall_bus.hosts.test_window_printer import with_window_printer
from tests.ui.web.conftest import PASSWORD, WebHall, login, wait_until
from tests.ui.web.test_web_clerk import take_window
from ui.web.live import HallLive
from ui.web.routes import clerk
from ui.web.server import WebServer
from ui.web.settings import WebSettings

CASE_NO = "SB20261125007"
SHOTS = os.environ.get("HALLKIT_SCREENSHOTS")


@dataclass
class ReceiptHall(WebHall):
    host: WindowHost
    sim: PrinterSimulator
    manager: Any


@pytest.fixture
def hall(tmp_hall: Path, tmp_path: Path, bus_factory: Any, web_settings: WebSettings) -> Iterator[ReceiptHall]:
    name = f"wr-{uuid.uuid4().hex[:8]}"
    cfg = hallconfig.load(with_window_printer(tmp_hall, name, tmp_path / "paper"))
    controller = HallController(cfg, bus_factory("controller")).start()
    host = WindowHost(cfg, 1, bus_factory("window-1")).start()
    web = WebServer(cfg, settings=web_settings, bus=bus_factory("web"), port=0).start()
    for staff_no in ("S0101", "M0001"):
        web.accounts.set_password(staff_no, PASSWORD)
    sim = registry.instance(name)
    assert isinstance(sim, PrinterSimulator)
    yield ReceiptHall(controller, web, host, sim, bus_factory("manager"))
    web.stop()
    host.stop()
    controller.stop()


def snap(driver: Any, name: str) -> None:
    if SHOTS:
        driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def press_and_wait(browser: Any, button: Any) -> None:
    browser.execute_script("window.__before = true")
    button.click()
    wait_until(browser, lambda d: d.execute_script("return window.__before === undefined"), 15)


def test_print_receipt_on_mandates_prints_at_the_clerks_window(hall: ReceiptHall, browser: Any) -> None:
    m = new_mandate(hall.manager, hall.controller, agent="S0101")
    take_window(browser, hall, "S0101", 1)  # the clerk's window: where the 回执 comes out
    browser.get(hall.url + "/mandates")
    row = browser.find_element(By.CSS_SELECTOR, f"#mandates tr[data-no='{m['mandate_no']}']")
    assert not row.find_elements(By.CSS_SELECTOR, "form.print select")  # a clerk does not choose
    press_and_wait(browser, row.find_element(By.CSS_SELECTOR, "button.print-receipt"))
    assert browser.find_element(By.ID, "mandate-printed").text == f"{m['mandate_no']} 的回执已在1号窗口打印。"
    snap(browser, "mandates-printed")
    page = hall.sim.wait_pages(1)[0]
    assert "帮办代办委托单回执" in page.text and m["mandate_no"] in page.text.replace("\n", "")
    assert [q.data for q in page.qr_codes] == [m["follow_url"]]
    hall.sim.paper = "out"  # the roll ends: the clerk reads why, and nothing more comes out
    row = browser.find_element(By.CSS_SELECTOR, f"#mandates tr[data-no='{m['mandate_no']}']")
    press_and_wait(browser, row.find_element(By.CSS_SELECTOR, "button.print-receipt"))
    assert browser.find_element(By.ID, "mandate-error").text == "窗口打印机缺纸，请装纸后重新打印。"
    assert len(hall.sim.wait_pages(2, timeout=1.0)) == 1


def test_a_manager_chooses_the_window_and_a_clerk_without_one_is_told(hall: ReceiptHall, browser: Any) -> None:
    m = new_mandate(hall.manager, hall.controller, agent="S0101")
    login(browser, hall, "M0001")
    browser.get(hall.url + "/mandates")
    row = browser.find_element(By.CSS_SELECTOR, f"#mandates tr[data-no='{m['mandate_no']}']")
    Select(row.find_element(By.CSS_SELECTOR, "form.print select[name=window]")).select_by_value("1")
    press_and_wait(browser, row.find_element(By.CSS_SELECTOR, "button.print-receipt"))
    assert m["mandate_no"] in browser.find_element(By.ID, "mandate-printed").text
    assert m["mandate_no"] in hall.sim.wait_pages(1)[0].text.replace("\n", "")
    browser.delete_all_cookies()
    login(browser, hall, "S0101")  # a clerk who has not taken a window
    browser.get(hall.url + "/mandates")
    row = browser.find_element(By.CSS_SELECTOR, f"#mandates tr[data-no='{m['mandate_no']}']")
    press_and_wait(browser, row.find_element(By.CSS_SELECTOR, "button.print-receipt"))
    assert browser.find_element(By.ID, "mandate-error").text == "请先选择您所在的窗口。"
    assert len(hall.sim.wait_pages(2, timeout=1.0)) == 1


def test_the_clerk_prints_a_case_receipt_at_the_desk(hall: ReceiptHall, browser: Any) -> None:
    hall.manager.request(
        "case.update", {"case_no": CASE_NO, "status": "received", "actor": "S0101", "service": "shebao-card"}
    )
    code = hall.manager.request("case.receipt", {"case_no": CASE_NO})["code"]
    take_window(browser, hall, "S0101", 1)
    box = browser.find_element(By.ID, "receipt-case")
    box.send_keys(CASE_NO.lower())  # typed as it comes
    browser.find_element(By.ID, "receipt-print").click()
    message = browser.find_element(By.ID, "receipt-message")
    wait_until(browser, lambda d: message.text, 15)
    assert message.text == f"{CASE_NO} 的受理回执已打印。"
    snap(browser, "clerk-case-receipt")
    page = hall.sim.wait_pages(1)[0]
    assert code in page.text and "办件受理回执" in page.text
    assert [q.data for q in page.qr_codes] == [f"http://127.0.0.1:8080/case?no={CASE_NO}"]
    hall.sim.cover_open = True
    browser.find_element(By.ID, "receipt-print").click()
    wait_until(browser, lambda d: message.text not in ("", f"{CASE_NO} 的受理回执已打印。"), 15)
    assert message.text == "窗口打印机的盖子没有关好，请关好后重新打印。"
    box.clear()
    box.send_keys("SB-NO-SUCH-1")
    browser.find_element(By.ID, "receipt-print").click()
    wait_until(browser, lambda d: message.text and "盖子" not in message.text, 15)
    assert message.text == "没有找到相关记录"  # (not_found)
    assert len(hall.sim.wait_pages(2, timeout=1.0)) == 1


def test_the_mandate_phone_page_follows_its_state_without_a_reload(hall: ReceiptHall, browser: Any) -> None:
    m = new_mandate(hall.manager, hall.controller, agent="S0101")
    browser.set_window_size(390, 844)
    browser.get(m["follow_url"].replace("http://127.0.0.1:8080", hall.url))
    assert browser.find_element(By.ID, "mandate-state").text == "已受理"
    wait_until(browser, lambda d: d.find_element(By.ID, "live-state").text == "实时更新中", 10)
    browser.execute_script("window.__same_page = true")
    hall.manager.request("mandate.update", {"mandate_no": m["mandate_no"], "state": "processing", "actor": "S0101"})
    wait_until(browser, lambda d: d.find_element(By.ID, "mandate-state").text == "办理中", 10)
    steps = [li.get_attribute("data-state") for li in browser.find_elements(By.CSS_SELECTOR, "#steps li")]
    assert steps == ["processing", "received"]
    assert "processing" in browser.find_element(By.ID, "status-now").get_attribute("class")
    hall.manager.request(
        "mandate.update", {"mandate_no": m["mandate_no"], "state": "escalated", "actor": "S0101", "note": "报市局"}
    )
    wait_until(browser, lambda d: d.find_element(By.ID, "mandate-state").text == "已上报", 10)
    assert browser.execute_script("return window.__same_page === true")  # no reload
    assert "报市局" not in browser.find_element(By.TAG_NAME, "body").text  # no notes on the phone
    token = m["follow_url"].rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert httpx.get(f"{hall.url}/m/{forged}/events", timeout=5).status_code == 404  # nothing to follow


def test_a_host_that_is_gone_is_told_at_once_and_one_that_hangs_as_unknown(
    hall: ReceiptHall, browser: Any, bus_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hall.manager.request(
        "case.update", {"case_no": CASE_NO, "status": "received", "actor": "S0101", "service": "shebao-card"}
    )
    take_window(browser, hall, "S0101", 1)
    browser.find_element(By.ID, "receipt-case").send_keys(CASE_NO)
    message = browser.find_element(By.ID, "receipt-message")
    hall.host.stop()
    hall.host.bus.stop()  # the window PC is gone: its client's availability says offline
    wait_until(
        browser, lambda d: hall.web.live.get("client-availability/window-1") == {"online": False, "state": "offline"}
    )
    started = time.monotonic()
    browser.find_element(By.ID, "receipt-print").click()
    wait_until(browser, lambda d: message.text, 15)
    assert message.text == "窗口打印机未连接，请检查电源和连线后重试。" and time.monotonic() - started < 3.0
    heard = threading.Event()  # a window PC back whose printer hangs: it hears the print, never answers
    hung = bus_factory("window-1")
    topic = topics.device_request(hall.controller.config.hall_id, "window-1-printer", "printer.print")
    hung.subscribe(topic, lambda _t, _env: heard.set())
    wait_until(browser, lambda d: (hall.web.live.get("client-availability/window-1") or {}).get("online"), 10)
    monkeypatch.setattr(clerk, "PRINT_WAIT_S", 1.5)  # the page gives up before the controller's 8 s
    started = time.monotonic()
    browser.find_element(By.ID, "receipt-print").click()
    wait_until(browser, lambda d: message.text and "未连接" not in message.text, 15)
    assert message.text == "打印结果未知：请先看打印机是否已出纸，再决定是否重新打印。"
    assert time.monotonic() - started < 6.0  # the page's own bound, not the controller's outcome
    assert heard.is_set() and hall.sim.wait_pages(1, timeout=0.5) == []


def test_the_live_hall_hands_a_waiting_route_its_event(bus_factory: Any, hall_id: str) -> None:
    live = HallLive(bus_factory("web"), hall_id)
    live.publish("event/print", {"job": "a" * 16})  # before the mark: not what a later ask waits for
    mark = live.event_mark()
    live.publish("event/print", {"job": "b" * 16})  # after the mark but before the wait (a fast printer)
    assert live.wait_event("event/print", lambda d: d["job"] == "b" * 16, mark, 0.1) == {"job": "b" * 16}
    assert live.wait_event("event/print", lambda d: d["job"] == "a" * 16, mark, 0.2) is None
    later = threading.Timer(0.3, lambda: live.publish("event/print", {"job": "c" * 16}))
    later.start()
    started = time.monotonic()
    assert live.wait_event("event/print", lambda d: d["job"] == "c" * 16, mark, 10) == {"job": "c" * 16}
    assert time.monotonic() - started < 5  # woken by the event, not by the timeout
