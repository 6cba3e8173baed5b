"""The citizen's whole journey in one run, with real parts only: booked on the phone page (Chromium at
390x844), checked in at the headless kiosk with the code (its own bus login, the receipt on the
printer simulator), the printed QR read back from the printed paper and opened on the phone, called
by the clerk on the web desk (a second browser window) and seen on the phone as 请到 N 号窗口
without a reload, served, rated through the QR page, and counted in the manager's report.

The hall: the test hall with slots all day every day (the booking tests' ``[booking]`` and calm time
zone, so a slot that starts within ten minutes is open whatever the hour), window 4 (不动产) without
a pad so that only the QR link can rate, and the web console on a port chosen before the controller
starts, so that the link the controller prints is the address the phone opens.

Screenshots: with ``HALLKIT_SCREENSHOTS`` set to a folder, each step is saved there as chain-*.png.
"""

from __future__ import annotations

import os
import shutil
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from selenium.webdriver.common.by import By

from devices import printer as printer_mod
from devices.config import DeviceConfig
from hall_bus import config as hallconfig
from simulators import registry
from tests.hall_bus.features.booking.booking_harness import ALL_DAY, calm_zone
from tests.kiosk.kiosk_helpers import kiosk
from tests.ui.web.conftest import WebHall, login, running, wait_until
from tests.ui.web.test_phone_booking import book_in_browser
from tests.ui.web.test_web_clerk import take_window
from ui.web.server import bound
from ui.web.settings import web_settings as settings_of

PHONE = (390, 844)
DESK = (1366, 768)
WINDOW = 4  # 不动产: the window of the bookable service, here without a pad
CLERK = "S0104"  # the clerk of window 4 in hall.toml
SHOTS = os.environ.get("HALLKIT_SCREENSHOTS")
NO_TICKET = "当前没有号码"


def snap(driver, name: str) -> None:
    if SHOTS:
        time.sleep(0.3)
        driver.save_screenshot(str(Path(SHOTS) / f"chain-{name}.png"))


@pytest.fixture
def chain_hall(tmp_hall: Path, bus_factory) -> Iterator[WebHall]:
    data = tomllib.loads(tmp_hall.read_text(encoding="utf-8"))
    data["booking"] = ALL_DAY
    data["hall"]["timezone"] = calm_zone()
    data["hall"]["hours"]["holidays"] = []
    data["devices"] = [d for d in data["devices"] if d["id"] != f"window-{WINDOW}-pad"]
    listen = bound("127.0.0.1", 0)  # held from here: the QR links name this very console
    data["web"] = {"host": "127.0.0.1", "port": listen.getsockname()[1]}
    cfg = hallconfig.parse(data, str(tmp_hall), base_dir=tmp_hall.parent)
    assert not [d for d in cfg.devices if d.kind == "pad" and d.window == WINDOW]
    with running(cfg, bus_factory, settings_of(cfg), (CLERK, "M0001"), window=WINDOW, listen=listen) as hall:
        yield hall


@pytest.fixture
def phone_browser(browser) -> Iterator[object]:
    """The session's Chromium at phone size; the windows a test opens are closed after it."""
    home = browser.current_window_handle
    browser.set_window_size(*PHONE)
    yield browser
    for handle in browser.window_handles:
        if handle != home:
            browser.switch_to.window(handle)
            browser.close()
    browser.switch_to.window(home)


@pytest.fixture
def printer(tmp_path: Path):
    """The kiosk's receipt printer on its simulator, keeping a PNG of every printed page."""
    name = f"chain-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "printed"
    out.mkdir()
    cfg = DeviceConfig(
        id="kiosk-1-printer",
        kind="printer",
        url=f"sim://printer?id={name}&out={out}",
        profile="generic-80mm",
        host="kiosk-1",
    )
    dev = printer_mod.ReceiptPrinter(cfg).open()
    yield dev, registry.instance(name)
    dev.close()


def check_in_at_the_kiosk(bus_factory, printer, code: str, shots: bool) -> tuple[str, str]:
    """The kiosk's appointment flow with the code typed on its keypad; (ticket code, the URL read
    back from the QR code on the printed paper)."""
    dev, sim = printer
    session = kiosk(bus_factory, devices={"printer": dev})
    assert session.refresh_hall()
    flow = session.start("appointment")
    assert flow.state == "appointment"
    for ch in code.lower():
        flow.type_char(ch)
    flow.lookup_appointment()
    assert flow.state == "appointment_found", flow.message
    assert flow.view()["appointment"]["service_name"] == "不动产登记"
    flow.check_in()
    assert flow.state == "done", flow.message
    ticket = flow.view()["ticket"]
    assert ticket["printed"], ticket
    page = sim.wait_pages(1)[0]
    assert ticket["code"] in page.text and "不动产登记" in page.text
    png = sim.png_paths[0]
    if SHOTS and shots:
        shutil.copy(png, Path(SHOTS) / "chain-2-printed-ticket.png")
    read = zxingcpp.read_barcodes(np.array(Image.open(png).convert("L")))
    assert len(read) == 1, "one QR code on the printed ticket"
    assert read[0].text == page.qr_codes[0].data  # the paper holds what the kiosk sent
    return str(ticket["code"]), read[0].text


def book_and_check_in(hall: WebHall, browser, bus_factory, printer, shots: bool = True) -> tuple[str, str]:
    """Steps 1-2: booked on the phone, checked in at the kiosk; (ticket code, the phone link)."""
    code, day, start = book_in_browser(browser, hall)
    assert day == hall.controller.engine.local().date().isoformat()  # a slot of today, starting within 10 min
    assert float(start) - time.time() < 15 * 60  # so the ticket is due for calling at once
    if shots:
        snap(browser, "1-booked")
    ticket, url = check_in_at_the_kiosk(bus_factory, printer, code, shots)
    assert url.startswith(hall.url + "/t/") and ticket in url
    return ticket, url


def test_booked_on_the_phone_checked_in_at_the_kiosk_called_live_rated_by_qr_and_reported(
    chain_hall: WebHall, phone_browser, bus_factory, printer
) -> None:
    hall, browser = chain_hall, phone_browser
    ticket, url = book_and_check_in(hall, browser, bus_factory, printer)

    # the phone opens the printed link: waiting, nobody ahead (the appointment is due)
    browser.get(url)
    assert browser.find_element(By.ID, "ticket-code").text == ticket
    assert browser.find_element(By.ID, "ticket-service").text == "不动产登记"
    wait_until(browser, lambda d: d.find_element(By.ID, "live-state").text == "实时更新中")
    assert browser.find_element(By.ID, "ahead").text == "0 人"
    browser.execute_script("window.__chain_no_reload = 'phone'")  # gone if the page is ever loaded again
    snap(browser, "3-phone-waiting")
    phone = browser.current_window_handle

    # the clerk of window 4 on the web desk, in a second window
    browser.switch_to.new_window("window")
    browser.set_window_size(*DESK)
    desk = browser.current_window_handle
    take_window(browser, hall, CLERK, WINDOW)
    waiting = '#desk-queues tr[data-domain="budongchan"] td.waiting'
    wait_until(browser, lambda d: d.find_element(By.CSS_SELECTOR, waiting).text == "1")
    browser.find_element(By.ID, "act-call").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "current-code").text == ticket)
    snap(browser, "4-desk-called")

    browser.switch_to.window(phone)
    called = browser.find_element(By.ID, "called-text")
    wait_until(browser, lambda d: called.is_displayed())
    assert called.text == f"请到 {WINDOW} 号窗口"
    assert not browser.find_element(By.ID, "waiting").is_displayed()
    assert browser.execute_script("return window.__chain_no_reload") == "phone"  # live, not reloaded
    snap(browser, "5-phone-called")

    browser.switch_to.window(desk)
    browser.find_element(By.ID, "act-start").click()
    browser.switch_to.window(phone)
    serving = browser.find_element(By.ID, "serving-text")
    wait_until(browser, lambda d: serving.is_displayed() and serving.text == f"正在 {WINDOW} 号窗口办理")
    browser.switch_to.window(desk)
    browser.find_element(By.ID, "act-finish").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "current-code").text == NO_TICKET)
    assert f"{ticket} 已办结" in browser.find_element(By.ID, "desk-message").text
    snap(browser, "6-desk-finished")

    # the 好差评 form on the phone: no pad at window 4, so nothing rated it meanwhile
    browser.switch_to.window(phone)
    form = browser.find_element(By.ID, "rate")
    wait_until(browser, lambda d: form.is_displayed())
    before = hall.web.context.call("evaluation.get", {"ticket": ticket})
    assert before["rateable"] and before["evaluation"]["status"] == "none", before
    browser.find_element(By.CSS_SELECTOR, "label.level-4").click()
    assert browser.find_element(By.ID, "reasons").is_displayed()  # a level 4 asks why
    browser.find_element(By.ID, "reason-efficiency").click()
    snap(browser, "7-phone-rate")
    browser.find_element(By.ID, "rate-submit").click()
    rated = browser.find_element(By.ID, "rated")
    wait_until(browser, lambda d: rated.is_displayed())
    assert rated.text == "本次服务已评价：不满意"
    assert browser.find_element(By.ID, "message").text == "感谢您的评价！"
    assert not form.is_displayed()
    assert browser.execute_script("return window.__chain_no_reload") == "phone"  # one page load, start to end
    snap(browser, "8-phone-rated")

    # the evaluation store: the QR channel, and the controller's reports count it
    stored = hall.web.context.call("evaluation.get", {"ticket": ticket})["evaluation"]
    assert (stored["status"], stored["channel"], stored["level"], stored["reason"]) == ("rated", "qr", 4, "efficiency")
    today = hall.controller.engine.local().date().isoformat()
    listed = hall.web.context.call("booking.list", {"date": today})  # the manager's /bookings: kept
    kept = [b for slot in listed["slots"] for b in slot["bookings"] if b.get("ticket") == ticket]
    assert [b["state"] for b in kept] == ["checked_in"], listed["totals"]
    by_service = hall.web.context.call("report.range", {"from_day": today, "to_day": today, "group": "service"})
    row = next(r for r in by_service["rows"] if r["key"] == "budongchan-register")
    assert (row["finished"], row["evaluated"], row["levels"]["4"], row["bad_reviews"]) == (1, 1, 1, 1)
    assert row["channels"] == {"pad": 0, "kiosk": 0, "qr": 1}  # counted as the QR channel

    # the manager's /reports page shows that day with the one rated service
    browser.switch_to.window(desk)
    browser.find_element(By.ID, "leave").click()
    wait_until(browser, lambda d: d.find_elements(By.ID, "take-form"))
    login(browser, hall, "M0001")
    browser.get(hall.url + "/reports")
    for field in ("from_day", "to_day"):
        browser.execute_script("document.getElementById(arguments[0]).value = arguments[1]", field, today)
    browser.find_element(By.ID, "report-show").click()
    shown = f"from_day={today}&to_day={today}&group=day"
    wait_until(browser, lambda d: d.find_element(By.ID, "report").get_attribute("data-shown") == shown)
    cells = [
        c.text
        for c in browser.find_elements(
            By.CSS_SELECTOR, f'#report tbody tr[data-key="{today}"] th, #report tbody tr[data-key="{today}"] td'
        )
    ]
    # day, finished, evaluated, not evaluated, 非常满意率, 未评价率, bad reviews
    assert cells == [today, "1", "1", "0", "0.0% ▼", "0.0%", "1", "0 / 0 / 1"], cells  # rated through the QR page
    snap(browser, "9-reports")


def test_a_second_rating_through_the_qr_page_is_refused_with_its_sentence(
    chain_hall: WebHall, phone_browser, bus_factory, printer
) -> None:
    hall, browser = chain_hall, phone_browser
    ticket, url = book_and_check_in(hall, browser, bus_factory, printer)
    window = bus_factory(f"window-{WINDOW}")  # the window's own bus login serves it this time
    assert window.request("window.call", {"window": WINDOW}, timeout=5)["ticket"]["code"] == ticket
    window.request("window.start", {"window": WINDOW}, timeout=5)
    window.request("window.finish", {"window": WINDOW}, timeout=5)

    # the same link open twice (two phones of one family); the second one has lost its live stream,
    # so it still offers the form after the first has rated
    browser.get(url)
    wait_until(browser, lambda d: d.find_element(By.ID, "rate").is_displayed())
    first = browser.current_window_handle
    browser.switch_to.new_window("window")
    browser.set_window_size(*PHONE)
    browser.get(url)
    wait_until(browser, lambda d: d.find_element(By.ID, "rate").is_displayed())
    browser.execute_script("window.dispatchEvent(new Event('pagehide'))")  # closes its event stream
    second = browser.current_window_handle

    browser.switch_to.window(first)
    browser.find_element(By.CSS_SELECTOR, "label.level-1").click()
    browser.find_element(By.ID, "rate-submit").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "rated").is_displayed())
    assert browser.find_element(By.ID, "rated").text == "本次服务已评价：非常满意"

    browser.switch_to.window(second)
    assert browser.find_element(By.ID, "rate").is_displayed()
    browser.find_element(By.CSS_SELECTOR, "label.level-5").click()
    browser.find_element(By.ID, "reason-attitude").click()
    browser.find_element(By.ID, "rate-submit").click()
    message = browser.find_element(By.ID, "message")
    wait_until(browser, lambda d: message.is_displayed())
    assert message.text == "该号码已评价，每个号码只能评价一次。"
    # the refusal brings the ticket as it is: the stale page now shows the one rating, not the form
    assert browser.find_element(By.ID, "rated").text == "本次服务已评价：非常满意"
    assert not browser.find_element(By.ID, "rate").is_displayed()
    snap(browser, "10-second-rating-refused")
    stored = hall.web.context.call("evaluation.get", {"ticket": ticket})["evaluation"]
    assert (stored["channel"], stored["level"], stored["reason"]) == ("qr", 1, None)
