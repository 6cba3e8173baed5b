"""预约履约 on the reports page, in a real browser: the appointments kept over the page's range (booked,
checked in, no-shows, cancelled, the no-show rate) and their CSV (with a BOM) and XLSX holding the
same counts; a grouping appointments do not have is shown by day; a hall without the booking feature
has no such section."""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.by import By

from hall_bus import config as hallconfig
from hall_bus.controller.service import HallController
from tests.hall_bus.features.booking.booking_harness import ALL_DAY, booking_config
from tests.hall_bus.features.booking.test_booking_report import seed_kept
from tests.ui.web.conftest import PASSWORD, WebHall, login, wait_until
from ui.web.server import WebServer

COLUMNS = ("total", "booked", "checked_in", "no_show", "cancelled")


def start(cfg: hallconfig.HallConfig, bus_factory, web_settings) -> WebHall:
    controller = HallController(cfg, bus_factory("controller")).start()
    web = WebServer(cfg, settings=web_settings, bus=bus_factory("web"), port=0).start()
    web.accounts.set_password("M0001", PASSWORD)
    return WebHall(controller, web)


@pytest.fixture
def kept_hall(tmp_hall: Path, bus_factory, web_settings) -> Iterator[tuple[WebHall, dict[str, Any]]]:
    hall = start(booking_config(tmp_hall, ALL_DAY), bus_factory, web_settings)
    seeded = seed_kept(hall.controller, bus_factory)
    yield hall, seeded
    hall.web.stop()
    hall.controller.stop()


def show(browser, hall: WebHall, first: str, last: str, group: str = "day") -> str:
    login(browser, hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    browser.get(hall.url + "/reports")
    for field, value in (("from_day", first), ("to_day", last), ("group", group)):
        browser.execute_script("document.getElementById(arguments[0]).value = arguments[1]", field, value)
    browser.find_element(By.ID, "report-show").click()
    shown = f"from_day={first}&to_day={last}&group={group}"
    wait_until(browser, lambda d: d.find_element(By.ID, "kept").get_attribute("data-shown") == shown)
    return shown


def cells(browser, selector: str) -> list[str]:
    return [c.text for c in browser.find_element(By.CSS_SELECTOR, selector).find_elements(By.CSS_SELECTOR, "th, td")]


def download(browser, link: str) -> httpx.Response:
    href = browser.find_element(By.ID, link).get_attribute("href")
    response = httpx.get(href, cookies={c["name"]: c["value"] for c in browser.get_cookies()})
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    return response


def test_the_reports_page_shows_appointments_kept_and_the_csv_has_them(kept_hall, browser) -> None:
    hall, seeded = kept_hall
    show(browser, hall, seeded["day1"], seeded["day2"])
    assert browser.find_element(By.ID, "kept-title").text == "预约履约"
    total = cells(browser, "#kept tfoot tr")
    assert total == ["合计", "6", "2", "1", "2", "1", "66.7%"]
    assert cells(browser, f'#kept tbody tr[data-key="{seeded["day1"]}"]')[1:] == ["4", "0", "1", "2", "1", "66.7%"]
    assert cells(browser, f'#kept tbody tr[data-key="{seeded["day2"]}"]')[1:] == ["2", "2", "0", "0", "0", "—"]
    assert not browser.find_element(By.ID, "kept-by-day").is_displayed()

    response = download(browser, "kept-csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["日期", "名称", "预约总数", "待签到", "已签到", "爽约", "已取消", "爽约率"]
    by_key = {r[0]: r for r in rows[1:]}
    assert by_key["合计"][2:] == ["6", "2", "1", "2", "1", "66.67%"]
    assert by_key[seeded["day1"]][2:] == ["4", "0", "1", "2", "1", "66.67%"]
    assert by_key[seeded["day2"]][2:] == ["2", "2", "0", "0", "0", ""]

    sheet = load_workbook(io.BytesIO(download(browser, "kept-xlsx").content)).active
    lines = list(sheet.iter_rows(values_only=True))
    header = next(r for r in lines if r and "爽约" in r)
    totals = dict(zip(header, next(r for r in lines if r and r[0] == "合计"), strict=True))
    assert [totals[h] for h in ("预约总数", "待签到", "已签到", "爽约", "已取消")] == [6, 2, 1, 2, 1]
    assert abs(totals["爽约率"] - 2 / 3) < 0.0001


def test_a_grouping_appointments_lack_is_shown_by_day_and_in_english(kept_hall, browser) -> None:
    hall, seeded = kept_hall
    browser.get(hall.url + "/lang/en")
    show(browser, hall, seeded["day1"], seeded["day2"], "window")
    assert browser.find_element(By.ID, "kept-title").text == "Appointments kept"
    assert "No-show rate" in browser.find_element(By.CSS_SELECTOR, "#kept thead").text
    assert browser.find_element(By.ID, "kept-by-day").is_displayed()
    keys = [r.get_attribute("data-key") for r in browser.find_elements(By.CSS_SELECTOR, "#kept tbody tr")]
    assert keys == [seeded["day1"], seeded["day2"]]
    assert cells(browser, "#kept tfoot tr") == ["Total", "6", "2", "1", "2", "1", "66.7%"]


def test_a_range_the_report_refuses_gets_its_sentence(kept_hall, browser) -> None:
    hall, _ = kept_hall
    login(browser, hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    answer = browser.execute_script(
        "return fetch('/api/reports/bookings?from_day=2025-01-01&to_day=2026-06-01').then(r => r.json())"
    )
    assert answer["ok"] is False and answer["message"] == "报表日期范围最长一年"


def test_a_hall_without_the_booking_feature_has_no_such_section(
    tmp_hall: Path, bus_factory, web_settings, browser
) -> None:
    data = tomllib.loads(tmp_hall.read_text(encoding="utf-8"))
    data["features"] = {"enabled": ["cases", "evaluation"]}
    hall = start(hallconfig.parse(data, str(tmp_hall), base_dir=tmp_hall.parent), bus_factory, web_settings)
    try:
        login(browser, hall, "M0001")
        wait_until(browser, lambda d: d.current_url.endswith("/hall"))
        browser.get(hall.url + "/reports")
        wait_until(browser, lambda d: d.find_element(By.ID, "report").get_attribute("data-shown"))
        assert not browser.find_elements(By.ID, "kept-section")
        status = browser.execute_script("return fetch('/api/reports/bookings').then(r => r.status)")
        assert status == 404
    finally:
        hall.web.stop()
        hall.controller.stop()
