"""A case's progress on the phone (/case) in a real browser at 390x844: the case number and the code
from the receipt show the case's status history and nothing personal; a wrong code is refused with a
sentence, as is an unknown case number; a client sending wrong codes is held off; another site's form
is refused."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
from selenium.webdriver.common.by import By

from tests.ui.web.conftest import WebHall, wait_until

PHONE = (390, 844)
SHOTS = os.environ.get("HALLKIT_SCREENSHOTS")  # a folder: the pages are also saved as citizen-<page>-<lang>.png
TOKEN = "fedcba9876543210" * 4  # the citizen's identity token: never on the page


def snap(driver: Any, page: str, lang: str) -> None:
    if SHOTS:
        time.sleep(0.3)
        driver.save_screenshot(str(Path(SHOTS) / f"citizen-{page}-{lang}.png"))


def a_case(bus_factory: Any, case_no: str, statuses: tuple[str, ...] = ("received", "processing", "ready")) -> str:
    """A case moved through ``statuses``; the code printed on its receipt."""
    staff = bus_factory("window-4")
    first = {"service": "budongchan-register", "identity_token": TOKEN, "title": "不动产权证书"}
    for i, status in enumerate(statuses):
        data = {"case_no": case_no, "status": status, "actor": "S0104", **(first if i == 0 else {})}
        staff.request("case.update", data, timeout=5)
    code: str = staff.request("case.receipt", {"case_no": case_no}, timeout=5)["code"]
    return code


def submit(browser: Any, hall: WebHall, case_no: str, code: str) -> None:
    browser.get(f"{hall.url}/case?no={case_no}")
    assert browser.find_element(By.ID, "case_no").get_attribute("value") == case_no  # from the message's link
    browser.find_element(By.ID, "code").send_keys(code)
    browser.execute_script("window.__before = true")
    browser.find_element(By.ID, "case-submit").click()
    wait_until(browser, lambda d: d.execute_script("return window.__before === undefined"), 10)


def test_the_case_number_and_the_receipt_code_show_the_status_history(
    web_hall: WebHall, browser: Any, bus_factory: Any
) -> None:
    browser.set_window_size(*PHONE)
    code = a_case(bus_factory, "BDC2026150001")
    submit(browser, web_hall, "BDC2026150001", code.lower())  # typed in lower case: still the code
    assert browser.find_element(By.ID, "case-no").text == "BDC2026150001"
    assert browser.find_element(By.ID, "case-title").text == "不动产权证书"
    assert browser.find_element(By.ID, "case-status").text == "已办结待领取"
    steps = browser.find_elements(By.CSS_SELECTOR, "#steps li")
    assert [s.get_attribute("data-status") for s in steps] == ["ready", "processing", "received"]  # newest first
    assert steps[0].find_element(By.CSS_SELECTOR, ".step-name").text == "已办结待领取"
    assert TOKEN not in browser.page_source and "S0104" not in browser.page_source
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
    snap(browser, "case", "zh")


def test_the_page_in_english(web_hall: WebHall, browser: Any, bus_factory: Any) -> None:
    browser.set_window_size(*PHONE)
    code = a_case(bus_factory, "BDC2026150002", ("received", "processing"))
    browser.get(web_hall.url + "/lang/en")
    submit(browser, web_hall, "BDC2026150002", code)
    assert browser.find_element(By.ID, "case-status").text == "Being processed"
    assert browser.find_element(By.ID, "case-title").text == "Real estate registration"
    snap(browser, "case", "en")


def test_a_wrong_code_is_refused_with_a_sentence(web_hall: WebHall, browser: Any, bus_factory: Any) -> None:
    browser.set_window_size(*PHONE)
    code = a_case(bus_factory, "BDC2026150003")
    wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
    submit(browser, web_hall, "BDC2026150003", wrong)
    message = browser.find_element(By.ID, "message")
    assert message.text == "办件编号或查询码不正确，请核对回执后重试"
    assert browser.find_element(By.ID, "code").get_attribute("aria-invalid") == "true"
    assert not browser.find_elements(By.ID, "steps") and "已办结待领取" not in browser.page_source
    snap(browser, "case-wrong", "zh")
    submit(browser, web_hall, "BDC2026159999", code)  # a case that does not exist: the same sentence
    assert browser.find_element(By.ID, "message").get_attribute("data-code") == "case_code"


def test_five_wrong_codes_lock_the_case_and_a_client_guessing_around_is_held_off(
    web_hall: WebHall, bus_factory: Any
) -> None:
    code = a_case(bus_factory, "BDC2026150004", ("received",))
    with httpx.Client(base_url=web_hall.url) as http:

        def post(case_no: str, typed: str) -> httpx.Response:
            return http.post("/case", data={"case_no": case_no, "code": typed})

        assert post("BDC2026150004", code).status_code == 200
        for _ in range(5):
            assert post("BDC2026150004", "0000-0000").status_code == 409
        locked = post("BDC2026150004", code)  # the good code, too late
        assert locked.status_code == 429 and "查询码错误次数过多" in locked.text
        for n in range(5):  # other case numbers, from the same client
            assert post(f"BDC20261599{n:02d}", "0000-0000").status_code == 409
        held = post("BDC2026150004", code)
        assert held.status_code == 429 and "操作过于频繁" in held.text


def test_a_form_from_another_site_is_refused(web_hall: WebHall, bus_factory: Any) -> None:
    code = a_case(bus_factory, "BDC2026150005", ("received",))
    answer = httpx.post(
        web_hall.url + "/case",
        data={"case_no": "BDC2026150005", "code": code},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403 and "BDC2026150005" not in answer.text
