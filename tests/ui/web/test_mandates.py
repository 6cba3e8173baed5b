"""帮办代办 in a real browser: a clerk records a mandate on /mandates (the ID number typed is turned into
the identity token and kept nowhere), moves it received → processing → escalated (with a note) → done,
exports the ledger as CSV and XLSX; the citizen follows it on the phone page the 回执's QR opens (390x844,
no personal data); a guessed or altered link shows nothing; a move out of order is refused with a
sentence; a page of another role is refused."""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.ui.web.conftest import WebHall, login, wait_until

ID_NUMBER = "11010519491231002X"
SHOTS = os.environ.get("HALLKIT_SCREENSHOTS")


def snap(driver: Any, name: str) -> None:
    if SHOTS:
        time.sleep(0.3)
        driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def submit_and_wait(browser: Any, button: Any) -> None:
    browser.execute_script("window.__before = true")
    button.click()
    wait_until(browser, lambda d: d.execute_script("return window.__before === undefined"), 10)


def row(browser: Any, no: str) -> Any:
    return browser.find_element(By.CSS_SELECTOR, f"#mandates tr[data-no='{no}']")


def move(browser: Any, no: str, state: str, note: str = "") -> None:
    r = row(browser, no)
    Select(r.find_element(By.NAME, "state")).select_by_value(state)
    if note:
        r.find_element(By.NAME, "note").send_keys(note)
    submit_and_wait(browser, r.find_element(By.CSS_SELECTOR, "form.move button"))


def record(browser: Any, hall: WebHall, materials: str = "身份证复印件\n参保缴费凭证（原件）") -> str:
    browser.get(hall.url + "/mandates")
    Select(browser.find_element(By.ID, "m-service")).select_by_value("shebao-transfer")
    browser.find_element(By.ID, "m-id").send_keys(ID_NUMBER)
    browser.find_element(By.ID, "m-materials").send_keys(materials)
    submit_and_wait(browser, browser.find_element(By.ID, "mandate-create"))
    no: str = browser.find_element(By.ID, "made-no").text
    assert no.startswith("DB-"), browser.find_element(By.ID, "mandate-made").text
    return no


def test_a_clerk_records_moves_and_exports_and_the_citizen_follows_it(web_hall: WebHall, browser: Any) -> None:
    login(browser, web_hall, "S0102")
    no = record(browser, web_hall)
    follow = browser.find_element(By.ID, "made-link").get_attribute("href")
    assert follow.startswith("http://127.0.0.1:8080/m/" + no + ".")
    r = row(browser, no)
    assert "李强（S0102）" in r.text and "养老保险关系转移" in r.text and "已受理" in r.text
    snap(browser, "mandates-clerk")
    # the order of states: received -> done is not offered, and refused if sent anyway
    options = [o.get_attribute("value") for o in r.find_elements(By.CSS_SELECTOR, "select[name=state] option")]
    assert options == ["processing", "returned"]
    browser.execute_script("arguments[0].querySelector('select[name=state] option').value = 'done'", r)
    submit_and_wait(browser, r.find_element(By.CSS_SELECTOR, "form.move button"))
    assert browser.find_element(By.ID, "mandate-error").text == "委托单不能按此顺序变更，请先完成前一个环节"
    move(browser, no, "processing")
    move(browser, no, "escalated")  # no note: refused with a sentence
    assert browser.find_element(By.ID, "mandate-error").text == "上报时请填写备注，说明上报给谁、为什么"
    assert "办理中" in row(browser, no).find_element(By.CSS_SELECTOR, "td.state").text
    move(browser, no, "escalated", "报市社保局审核")
    assert "报市社保局审核" in row(browser, no).text
    move(browser, no, "done")
    r = row(browser, no)
    assert "已办结" in r.find_element(By.CSS_SELECTOR, "td.state").text and not r.find_elements(By.CSS_SELECTOR, "form")
    assert len(r.find_elements(By.CSS_SELECTOR, ".steps li")) == 4 and "web/S0102" in r.text
    # the ledger, exported as the page filters it
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    Select(browser.find_element(By.ID, "f-state")).select_by_value("done")
    submit_and_wait(browser, browser.find_element(By.ID, "mandate-show"))
    text = httpx.get(browser.find_element(By.ID, "export-csv").get_attribute("href"), cookies=cookies)
    assert text.status_code == 200 and text.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["委托单号", "办理事项", "身份标识"] and len(lines) == 2
    assert lines[1][0] == no and lines[1][7] == "已办结" and lines[1][11] == "报市社保局审核"
    xlsx = httpx.get(browser.find_element(By.ID, "export-xlsx").get_attribute("href"), cookies=cookies)
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet.title == "帮办代办台账" and sheet.cell(2, 1).value == no and sheet.cell(2, 4).value == "李强"
    assert ID_NUMBER not in text.text and ID_NUMBER[:6] not in xlsx.content.decode("latin-1")
    # the ID number is nowhere in the controller's store
    dump = "\n".join(web_hall.controller.store.db.iterdump())
    assert ID_NUMBER not in dump and no in dump
    # the citizen's phone page, by the link the 回执's QR holds
    browser.delete_all_cookies()
    browser.set_window_size(390, 844)
    browser.get(follow.replace("http://127.0.0.1:8080", web_hall.url))
    assert browser.find_element(By.ID, "mandate-no").text == no
    assert browser.find_element(By.ID, "mandate-state").text == "已办结"
    assert browser.find_element(By.ID, "mandate-service").text == "养老保险关系转移"
    steps = [li.get_attribute("data-state") for li in browser.find_elements(By.CSS_SELECTOR, "#steps li")]
    assert steps == ["done", "escalated", "processing", "received"]
    page = browser.page_source
    for private in (ID_NUMBER, "李强", "S0102", "报市社保局审核", "身份证复印件"):
        assert private not in page, private
    snap(browser, "citizen-mandate-zh")
    browser.get(web_hall.url + "/lang/en")
    browser.get(follow.replace("http://127.0.0.1:8080", web_hall.url))
    assert browser.find_element(By.ID, "mandate-state").text == "Done"
    assert browser.find_element(By.ID, "mandate-service").text == "Pension insurance transfer"
    snap(browser, "citizen-mandate-en")


def test_a_guessed_or_altered_link_shows_nothing(web_hall: WebHall, browser: Any) -> None:
    login(browser, web_hall, "S0101")
    no = record(browser, web_hall, "户口簿")
    token = browser.find_element(By.ID, "made-link").get_attribute("href").rsplit("/", 1)[1]
    assert httpx.get(f"{web_hall.url}/m/{token}").status_code == 200
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    other = no[:-1] + ("2" if no[-1] != "2" else "3")
    for bad in (flipped, other + token[len(no) :], no, "DB-20260101-0001.AAAAAAAAAAAAAAAAAAAAAA", "x" * 40):
        response = httpx.get(f"{web_hall.url}/m/{bad}")
        assert response.status_code == 404, bad
        assert "未找到该页面" in response.text and no not in response.text


def test_the_pages_need_staff(web_hall: WebHall) -> None:
    assert httpx.get(f"{web_hall.url}/mandates", follow_redirects=False).status_code == 303
    assert httpx.get(f"{web_hall.url}/api/mandates/export.csv").status_code == 401
    assert httpx.post(f"{web_hall.url}/mandates", data={"service": "x"}).status_code == 401
