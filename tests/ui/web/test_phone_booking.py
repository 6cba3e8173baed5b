"""Booking on the phone (/book) in a real browser at 390x844: choose a slot, give a phone number, see
the code and its QR; a full slot refuses with its sentence; cancel; the manager's /bookings page."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
from selenium.webdriver.common.by import By

from tests.ui.web.conftest import WebHall, login, wait_until

PHONE = (390, 844)
SHOTS = os.environ.get("HALLKIT_SCREENSHOTS")  # a folder: the pages are also saved as citizen-<page>-<lang>.png


def snap(driver, page: str, lang: str) -> None:
    if SHOTS:
        time.sleep(0.3)
        driver.save_screenshot(str(Path(SHOTS) / f"citizen-{page}-{lang}.png"))


def open_slot(driver) -> tuple[str, str]:
    """Pick the first day with an open slot and that slot; (date, slot start)."""
    days = [b.get_attribute("data-date") for b in driver.find_elements(By.CSS_SELECTOR, "#days button")]
    for day in days:
        driver.find_element(By.CSS_SELECTOR, f'#days button[data-date="{day}"]').click()
        wait_until(
            driver, lambda d, day=day: (d.find_element(By.ID, "slots").get_attribute("data-loaded") or "").endswith(day)
        )
        free = [b for b in driver.find_elements(By.CSS_SELECTOR, "#slots button") if b.is_enabled()]
        if free:
            free[0].click()
            return day, free[0].get_attribute("data-start")
    raise AssertionError("no open slot in the booking days")


def book_in_browser(browser, hall: WebHall, lang: str = "zh") -> tuple[str, str, str]:
    browser.set_window_size(*PHONE)
    if lang == "en":
        browser.get(hall.url + "/lang/en")
    browser.get(hall.url + "/book")
    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#days button"))
    day, start = open_slot(browser)
    browser.find_element(By.ID, "phone").send_keys("138 1234 5678")
    browser.execute_script("window.scrollTo(0, 0)")
    snap(browser, "booking", lang)
    browser.find_element(By.ID, "book-submit").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "done").is_displayed(), 10)
    return browser.find_element(By.ID, "done-code").text, day, start


def test_a_citizen_books_a_slot_on_the_phone_and_sees_the_code_and_its_qr(
    web_hall: WebHall, browser, bus_factory
) -> None:
    code, day, start = book_in_browser(browser, web_hall)
    assert code.startswith("YY") and len(code) == 8
    assert browser.find_element(By.ID, "done-qr").get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert browser.find_element(By.ID, "done-phone").text == "138****5678"
    assert "13812345678" not in browser.page_source
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]  # no sideways scroll
    snap(browser, "booking-done", "zh")
    found = bus_factory("kiosk-1").request("appointment.lookup", {"code": code})  # the kiosk's check-in finds it
    assert found["service"] == "budongchan-register" and abs(found["slot_start"] - float(start)) < 1
    browser.find_element(By.ID, "cancel-this").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "done-message").text == "预约已取消。")


def test_the_page_in_english(web_hall: WebHall, browser) -> None:
    code, _, _ = book_in_browser(browser, web_hall, "en")
    assert browser.find_element(By.ID, "done-h").text == "Booked" and code.startswith("YY")
    snap(browser, "booking-done", "en")


def test_a_full_slot_refuses_with_a_sentence(web_hall: WebHall, browser, bus_factory) -> None:
    browser.set_window_size(*PHONE)
    browser.get(web_hall.url + "/book")
    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#days button"))
    _, start = open_slot(browser)
    others = bus_factory("manager")  # the other citizens (a platform, the counter) take the places meanwhile
    for i in range(3):
        others.request(
            "booking.book", {"service": "budongchan-register", "slot_start": float(start), "phone": f"1390000000{i}"}
        )
    browser.find_element(By.ID, "phone").send_keys("13812345678")
    browser.find_element(By.ID, "book-submit").click()
    error = browser.find_element(By.ID, "book-error")
    wait_until(browser, lambda d: error.is_displayed())
    assert error.text == "该时段已约满，请选择其他时段"
    wait_until(
        browser, lambda d: "已约满" in d.find_element(By.CSS_SELECTOR, f'#slots button[data-start="{start}"]').text
    )
    assert not browser.find_element(By.CSS_SELECTOR, f'#slots button[data-start="{start}"]').is_enabled()


def test_cancel_with_the_code_and_last_digits(web_hall: WebHall, browser, bus_factory) -> None:
    answer = bus_factory("web").request("booking.slots", {"service": "gongan-hukou", "date": _first_day(web_hall)})
    slot = next(s for s in answer["slots"] if s["open"])
    booked = bus_factory("manager").request(
        "booking.book", {"service": "gongan-hukou", "slot_start": slot["start"], "phone": "13712345678"}
    )
    browser.set_window_size(*PHONE)
    browser.get(web_hall.url + "/book")
    browser.find_element(By.CSS_SELECTOR, "#cancel summary").click()
    browser.find_element(By.ID, "cancel-code").send_keys(booked["code"].lower())
    browser.find_element(By.ID, "cancel-last4").send_keys("0000")
    browser.find_element(By.ID, "cancel-submit").click()
    message = browser.find_element(By.ID, "cancel-message")
    wait_until(browser, lambda d: message.text == "手机号后四位或取消凭证不正确")
    browser.find_element(By.ID, "cancel-last4").clear()
    browser.find_element(By.ID, "cancel-last4").send_keys("5678")
    browser.find_element(By.ID, "cancel-submit").click()
    wait_until(browser, lambda d: message.text == "预约已取消。")


def _first_day(hall: WebHall) -> str:
    """A day with open gongan-hukou slots (tomorrow or later: cut-off 30 min today)."""
    web = hall.web.bus
    days = web.request("booking.slots", {"service": "gongan-hukou", "date": "2000-01-01"})["days"]
    for day in days:
        slots = web.request("booking.slots", {"service": "gongan-hukou", "date": day})["slots"]
        if any(s["open"] for s in slots):
            return str(day)
    raise AssertionError("no open slot")


def test_the_manager_sees_bookings_per_slot_and_only_managers_may(web_hall: WebHall, browser, bus_factory) -> None:
    day = _first_day(web_hall)
    slot = next(
        s
        for s in bus_factory("web").request("booking.slots", {"service": "gongan-hukou", "date": day})["slots"]
        if s["open"]
    )
    booked = bus_factory("manager").request(
        "booking.book", {"service": "gongan-hukou", "slot_start": slot["start"], "phone": "13712345678"}
    )
    login(browser, web_hall, "M0001")
    browser.get(f"{web_hall.url}/bookings?date={day}")
    row = browser.find_element(
        By.CSS_SELECTOR, f'#bookings tr.slot[data-start="{slot["start"]}"][data-service="gongan-hukou"]'
    )
    assert row.find_element(By.CSS_SELECTOR, ".booked").text == "1"
    detail = browser.find_element(By.CSS_SELECTOR, f'tr[data-code="{booked["code"]}"]')
    assert "137****5678" in detail.text and "待签到" in detail.text
    assert browser.find_element(By.ID, "total-booked").text == "1"
    assert "13712345678" not in browser.page_source
    anonymous = httpx.get(f"{web_hall.url}/bookings", follow_redirects=False, verify=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    browser.delete_all_cookies()
    login(browser, web_hall, "S0101")
    browser.get(f"{web_hall.url}/bookings")
    assert browser.find_elements(By.ID, "forbidden")


def test_the_booking_api_takes_json_from_this_site_only_and_says_why_it_refuses(web_hall: WebHall, bus_factory) -> None:
    day = _first_day(web_hall)
    slot = next(
        s
        for s in bus_factory("web").request("booking.slots", {"service": "gongan-hukou", "date": day})["slots"]
        if s["open"]
    )
    body = {"service": "gongan-hukou", "slot_start": slot["start"], "phone": "12345"}
    bad = httpx.post(f"{web_hall.url}/api/book", json=body, cookies={"hallkit_lang": "en"}, verify=False)
    assert bad.status_code == 400 and bad.json()["message"] == "Please enter an 11-digit mobile number"
    foreign = httpx.post(
        f"{web_hall.url}/api/book",
        json={**body, "phone": "13712345678"},
        headers={"Origin": "https://evil.example"},
        verify=False,
    )
    assert foreign.status_code == 403 and foreign.json()["code"] == "forbidden"
    form = httpx.post(f"{web_hall.url}/api/book", data={**body, "phone": "13712345678"}, verify=False)
    assert form.status_code == 422  # a cross-site form cannot book
    ok = httpx.post(f"{web_hall.url}/api/book", json={**body, "phone": "+86 137 1234 5678"}, verify=False).json()
    assert ok["ok"] and ok["phone_masked"] == "137****5678" and "13712345678" not in str(ok)
