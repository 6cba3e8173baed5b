"""The ticket on the phone (/t/<token>) in a real browser at 390x844: the QR link the controller
signs, people ahead, 请到 1 号窗口 live without reloading, 好差评 through the QR (channel qr, once per
ticket); a guessed or altered link shows nothing."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from selenium.webdriver.common.by import By

from tests.ui.web.conftest import WebHall, wait_until

PHONE = (390, 844)
SHOTS = os.environ.get("HALLKIT_SCREENSHOTS")  # a folder: the pages are also saved as citizen-<page>-<lang>.png


def snap(driver, page: str, lang: str) -> None:
    if SHOTS:
        time.sleep(0.3)
        driver.save_screenshot(str(Path(SHOTS) / f"citizen-{page}-{lang}.png"))


def issue(kiosk, service: str = "shebao-card") -> dict:
    answer: dict = kiosk.request("ticket.issue", {"service": service, "idempotency_key": uuid.uuid4().hex}, timeout=5)
    return answer


def path_of(answer: dict) -> str:
    """The path of the ticket's QR link (the test's web console listens on a port of its own)."""
    return urlsplit(answer["phone_url"]).path


def finish_at_window_1(bus_factory, code: str) -> None:
    window = bus_factory("window-1")
    called = window.request("window.call", {"window": 1}, timeout=5)
    assert called["ticket"]["code"] == code
    window.request("window.start", {"window": 1}, timeout=5)
    window.request("window.finish", {"window": 1}, timeout=5)


def test_the_phone_follows_the_ticket_is_called_live_and_rates_it_through_the_qr(
    web_hall: WebHall, browser, bus_factory
) -> None:
    browser.set_window_size(*PHONE)
    kiosk = bus_factory("kiosk-1")
    first = issue(kiosk)
    mine = issue(kiosk)
    code = mine["ticket"]["code"]
    assert mine["phone_url"].startswith("http://127.0.0.1:8080/t/")  # the [web] default public_url
    assert code not in path_of(mine).split(".")[-1]  # a signature, not the ticket number alone

    browser.get(web_hall.url + path_of(mine))
    assert browser.find_element(By.ID, "ticket-code").text == code
    assert browser.find_element(By.ID, "ticket-service").text == "社保卡申领"
    assert browser.find_element(By.ID, "ahead").text == "1 人"  # the first ticket is ahead
    assert "分钟" in browser.find_element(By.ID, "wait").text
    wait_until(browser, lambda d: d.find_element(By.ID, "live-state").text == "实时更新中")
    snap(browser, "ticket", "zh")

    window = bus_factory("window-1")
    assert window.request("window.call", {"window": 1}, timeout=5)["ticket"]["code"] == first["ticket"]["code"]
    wait_until(browser, lambda d: d.find_element(By.ID, "ahead").text == "0 人")  # live, no reload
    window.request("window.finish", {"window": 1}, timeout=5)
    assert window.request("window.call", {"window": 1}, timeout=5)["ticket"]["code"] == code
    wait_until(browser, lambda d: d.find_element(By.ID, "called-text").is_displayed())
    assert browser.find_element(By.ID, "called-text").text == "请到 1 号窗口"
    assert browser.find_element(By.ID, "called-text").value_of_css_property("font-size") == "42px"
    snap(browser, "ticket-called", "zh")

    window.request("window.start", {"window": 1}, timeout=5)
    window.request("window.finish", {"window": 1}, timeout=5)
    wait_until(browser, lambda d: d.find_element(By.ID, "rate").is_displayed())
    browser.find_element(By.CSS_SELECTOR, "label.level-4").click()
    assert browser.find_element(By.ID, "reasons").is_displayed()  # reasons are asked for 4-5
    snap(browser, "ticket-rate", "zh")
    browser.find_element(By.CSS_SELECTOR, "label.level-1").click()
    assert not browser.find_element(By.ID, "reasons").is_displayed()
    browser.find_element(By.ID, "rate-submit").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "rated").is_displayed())
    assert browser.find_element(By.ID, "rated").text == "本次服务已评价：非常满意"
    assert browser.find_element(By.ID, "message").text == "感谢您的评价！"
    snap(browser, "ticket-rated", "zh")

    stored = kiosk.request("evaluation.get", {"ticket": code}, timeout=5)
    assert stored["evaluation"]["status"] == "rated"
    assert stored["evaluation"]["channel"] == "qr" and stored["evaluation"]["level"] == 1
    again = httpx.post(web_hall.url + path_of(mine) + "/rate", json={"level": 5, "reason": "attitude"})
    assert again.status_code == 409 and again.json()["code"] == "already_rated"
    assert again.json()["message"] == "该号码已评价，每个号码只能评价一次。"
    assert kiosk.request("evaluation.get", {"ticket": code}, timeout=5)["evaluation"]["level"] == 1

    browser.refresh()  # the state is shown, not the form
    assert browser.find_element(By.ID, "rated").text == "本次服务已评价：非常满意"
    assert not browser.find_element(By.ID, "rate").is_displayed()


def test_a_guessed_or_altered_link_shows_nothing(web_hall: WebHall, browser, bus_factory) -> None:
    browser.set_window_size(*PHONE)
    mine = issue(bus_factory("kiosk-1"))
    path = path_of(mine)
    day8, code, ticket_id, sig = path.removeprefix("/t/").split(".")
    other = "A" if sig[0] != "A" else "B"
    altered = [
        f"/t/{day8}.{code}.{ticket_id}.{other}{sig[1:]}",  # the signature
        f"/t/{day8}.{code[0]}{int(code[1:]) + 1:03d}.{ticket_id}.{sig}",  # the next ticket number
        f"/t/{day8}.{code}.{int(ticket_id) + 1}.{sig}",  # another row
        f"/t/{code}",  # the ticket number alone
        "/t/x",
    ]
    for bad in altered:
        answer = httpx.get(web_hall.url + bad)
        assert answer.status_code == 404, bad
        assert code not in answer.text and "社保" not in answer.text
        assert httpx.get(web_hall.url + bad + "/events").status_code == 404
        assert httpx.post(web_hall.url + bad + "/rate", json={"level": 1}).status_code == 404
    browser.get(web_hall.url + altered[0])
    assert browser.find_element(By.ID, "not-found").text == "未找到该页面。"
    snap(browser, "ticket-missing", "zh")
    assert httpx.get(web_hall.url + path).status_code == 200


def test_a_ticket_the_pad_rated_shows_its_rating_and_refuses_another(web_hall: WebHall, bus_factory) -> None:
    kiosk = bus_factory("kiosk-1")
    mine = issue(kiosk)
    code = mine["ticket"]["code"]
    url = web_hall.url + path_of(mine)
    assert httpx.post(url + "/rate", json={"level": 1}).json()["code"] == "not_rateable"  # still waiting
    finish_at_window_1(bus_factory, code)
    kiosk.request("evaluation.submit", {"ticket": code, "level": 2, "channel": "kiosk"}, timeout=5)
    page = httpx.get(url)
    assert page.status_code == 200 and '"status": "rated"' in page.text
    refused = httpx.post(url + "/rate", json={"level": 1})
    assert refused.status_code == 409 and refused.json()["code"] == "already_rated"
    assert httpx.post(url + "/rate", json={"level": 5}).json()["code"] == "reason_required"


def test_the_stream_sends_this_ticket_only(web_hall: WebHall, bus_factory) -> None:
    kiosk = bus_factory("kiosk-1")
    mine = issue(kiosk)
    issue(kiosk, "gongan-hukou")  # another domain's ticket: never on this stream
    with httpx.stream("GET", web_hall.url + path_of(mine) + "/events", timeout=5) as stream:
        lines = stream.iter_lines()
        seen = [next(lines) for _ in range(4)]
    events = [line for line in seen if line.startswith("data:")]
    assert len(events) == 1 and mine["ticket"]["code"] in events[0]
    for word in ("gongan", "staff", "identity", "S0101", "window/"):
        assert word not in events[0]


def test_the_phone_page_in_english(web_hall: WebHall, browser, bus_factory) -> None:
    browser.set_window_size(*PHONE)
    kiosk = bus_factory("kiosk-1")
    issue(kiosk)
    mine = issue(kiosk)
    browser.get(web_hall.url + path_of(mine))
    browser.find_element(By.CLASS_NAME, "phone-lang").click()  # /lang/en, back to the ticket by the Referer
    wait_until(browser, lambda d: d.find_element(By.ID, "live-state").text == "Live")
    assert browser.current_url.endswith(path_of(mine))
    assert browser.find_element(By.ID, "ticket-service").text == "Social security card application"
    assert browser.find_element(By.ID, "ahead").text == "1"
    snap(browser, "ticket", "en")
    window = bus_factory("window-1")
    window.request("window.call", {"window": 1}, timeout=5)
    window.request("window.finish", {"window": 1}, timeout=5)
    window.request("window.call", {"window": 1}, timeout=5)
    wait_until(browser, lambda d: d.find_element(By.ID, "called-text").text == "Please go to window 1")
    snap(browser, "ticket-called", "en")
    window.request("window.start", {"window": 1}, timeout=5)
    window.request("window.finish", {"window": 1}, timeout=5)
    wait_until(browser, lambda d: d.find_element(By.ID, "rate").is_displayed())
    browser.find_element(By.CSS_SELECTOR, "label.level-5").click()
    browser.find_element(By.ID, "rate-submit").click()  # no reason: refused with a sentence
    wait_until(browser, lambda d: d.find_element(By.ID, "message").is_displayed())
    assert "reason" in browser.find_element(By.ID, "message").text.lower()
    browser.find_element(By.CSS_SELECTOR, "label.level-4").click()
    browser.find_element(By.ID, "reason-attitude").click()
    snap(browser, "ticket-rate", "en")
    browser.find_element(By.ID, "rate-submit").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "rated").is_displayed())
    assert browser.find_element(By.ID, "rated").text == "This service was rated: Dissatisfied"
    snap(browser, "ticket-rated", "en")
    stored = kiosk.request("evaluation.get", {"ticket": mine["ticket"]["code"]}, timeout=5)["evaluation"]
    assert (stored["channel"], stored["level"], stored["reason"]) == ("qr", 4, "attitude")
    browser.get(web_hall.url + "/t/20260101.A001.1.AAAAAAAAAAAAAAAAAAAAAA")
    assert browser.find_element(By.ID, "not-found").text == "This page was not found."
    snap(browser, "ticket-missing", "en")


def test_a_phone_page_the_bus_cannot_answer_says_so_in_the_phone_s_frame(web_hall: WebHall, bus_factory) -> None:
    """The controller gone: the citizen's page is the phone page with the sentence, not the staff console."""
    mine = issue(bus_factory("kiosk-1"))
    web_hall.controller.stop()
    page = httpx.get(web_hall.url + path_of(mine), verify=False, timeout=15)
    assert page.status_code == 503
    assert 'class="phone"' in page.text and 'id="page-error"' in page.text
    assert "暂时无法连接大厅系统" in page.text and "/logout" not in page.text  # no staff console around it
