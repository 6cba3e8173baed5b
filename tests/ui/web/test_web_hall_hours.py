"""The live hall shows the hours of each window and domain (延时/错时服务): tests/fixtures/schedule-hall.toml
(with a manager for the console) whose controller's clock is a Thursday evening, when window 3 serves
不动产's appointments only and windows 1 and 2 have closed; a boundary crossed shows without a reload.

(tmp_hall, which web_hall uses, is open around the clock: there the windows' own hours are not used.)"""

from __future__ import annotations

import datetime as dt
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By

from hall_bus import config as hallconfig
from tests.ui.web.conftest import WebHall, login, running, wait_until
from tests.ui.web.test_web_clerk import take_window
from ui.web.settings import WebSettings

HALL = Path(__file__).parents[2] / "fixtures" / "schedule-hall.toml"
THURSDAY_1800 = dt.datetime(2026, 11, 26, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
MANAGER = '\n[[staff]]\nstaff_no = "M0001"\nname = "刘洋"\nroles = ["manager"]\n'
CLERK = '\n[[staff]]\nstaff_no = "S0103"\nname = "陈静"\nwindows = [3]\n'


@pytest.fixture
def clock() -> list[float]:
    return [THURSDAY_1800]


@pytest.fixture
def evening_hall(
    tmp_path: Path, hall_id: str, tls_ca: str, bus_factory, web_settings: WebSettings, clock: list[float]
) -> Iterator[WebHall]:
    hall = f'id = "{hall_id}"\nname = "延时服务示范大厅"\ndata_dir = "{tmp_path}"'
    text = HALL.read_text(encoding="utf-8").replace('id = "t"', hall, 1)
    text += f"\n[bus]\ntls = true\nca_file = {tls_ca!r}\n\n[features]\nenabled = []\n" + MANAGER + CLERK
    cfg = hallconfig.parse(tomllib.loads(text))
    with running(cfg, bus_factory, web_settings, ("M0001", "S0103"), clock=lambda: clock[0], window=3) as hall:
        deadline = time.monotonic() + 5
        while not hall.web.live.get("hall/info") and time.monotonic() < deadline:
            time.sleep(0.02)
        yield hall


def cell(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def test_the_live_hall_shows_each_windows_and_domains_hours(evening_hall: WebHall, browser, clock: list[float]) -> None:
    login(browser, evening_hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    w3 = '#windows tr[data-window="3"]'
    wait_until(browser, lambda d: cell(d, w3 + " td.state") == "仅办预约")
    assert cell(browser, w3 + " td.hours") == "09:00-12:00, 13:30-17:30；预约 17:30-19:30"
    assert "hours-appointments" in browser.find_element(By.CSS_SELECTOR, w3).get_attribute("class")
    assert [cell(browser, f'#windows tr[data-window="{n}"] td.state') for n in (1, 2)] == ["已下班", "已下班"]
    assert cell(browser, '#windows tr[data-window="2"] td.hours') == "09:00-17:30"
    row = '#queues tr[data-domain="{}"] td.hours'
    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row.format("budongchan")))
    assert cell(browser, row.format("budongchan")) == "仅限预约 · 09:00-12:00, 13:30-17:30；预约 17:30-19:30"
    assert cell(browser, row.format("gongan")) == "停止取号 · 09:00-12:00, 13:30-16:30；预约 16:30-17:30"

    marker = browser.execute_script("window.__page = Math.random(); return window.__page")
    clock[0] += 95 * 60  # 19:35: the evening's appointment hours are over
    assert evening_hall.controller.check_hours()
    wait_until(browser, lambda d: cell(d, w3 + " td.state") == "已下班")
    wait_until(browser, lambda d: cell(d, row.format("budongchan")).startswith("停止取号"))
    assert browser.execute_script("return window.__page") == marker  # followed live, not reloaded

    browser.get(evening_hall.url + "/lang/en")
    browser.get(evening_hall.url + "/hall")
    wait_until(browser, lambda d: cell(d, w3 + " td.state") == "closed")
    assert cell(browser, w3 + " td.hours") == "09:00-12:00, 13:30-17:30; appointments 17:30-19:30"


def test_the_clerk_of_the_evening_window_is_told_it_serves_appointments_only(
    evening_hall: WebHall, browser, clock: list[float]
) -> None:
    take_window(browser, evening_hall, "S0103", 3)
    note = "#current-notes li.hours"
    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, note))
    assert cell(browser, note) == "本窗口现在只为预约市民办理：请叫预约号；取号机不再发放现场号"
    clock[0] += 95 * 60  # 19:35: over, and nothing of the day waits
    assert evening_hall.controller.check_hours()
    wait_until(browser, lambda d: cell(d, note) == "本窗口已过服务时间，没有待办的号")
