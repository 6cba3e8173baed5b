"""A hall with its controller and the staff web console on the test broker, and a real headless
Chromium (Debian's chromium and chromium-driver; nothing is downloaded) to drive it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hall_bus import config as hallconfig
from hall_bus.controller.service import HallController
from ui.web.server import WebServer
from ui.web.settings import WebSettings

PASSWORD = "hall-test-pw-1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@dataclass
class WebHall:
    controller: HallController
    web: WebServer

    @property
    def url(self) -> str:
        return self.web.url.rstrip("/")


@pytest.fixture
def web_settings() -> WebSettings:
    return WebSettings(port=0, idle_timeout_min=15, lockout_after=5, lockout_min=15)


@contextmanager
def running(
    cfg: hallconfig.HallConfig,
    bus_factory: Any,
    settings: WebSettings,
    staff: tuple[str, ...] = ("S0101", "S0102", "M0001", "A0001"),
    clock: Callable[[], float] | None = None,
    window: int = 1,
    **web: Any,
) -> Iterator[WebHall]:
    """The controller (on ``clock`` when given) and the web console of ``cfg``, with ``staff`` given the
    test password, once the console sees window ``window``'s state; both stopped after."""
    extra = {"clock": clock} if clock is not None else {}
    controller = HallController(cfg, bus_factory("controller"), **extra).start()
    if "listen" not in web:
        web.setdefault("port", 0)
    console = WebServer(cfg, settings=settings, bus=bus_factory("web"), **web).start()
    try:
        for staff_no in staff:
            console.accounts.set_password(staff_no, PASSWORD)
        deadline = time.monotonic() + 5
        while not console.live.get(f"window/{window}") and time.monotonic() < deadline:
            time.sleep(0.02)
        yield WebHall(controller, console)
    finally:
        console.stop()
        controller.stop()


@pytest.fixture
def web_hall(tmp_hall: Path, bus_factory, web_settings: WebSettings) -> Iterator[WebHall]:
    with running(hallconfig.load(tmp_hall), bus_factory, web_settings) as hall:
        yield hall


@pytest.fixture(scope="session")
def chromium_driver() -> Iterator[object]:
    """One headless Chromium for the session (a fresh cookie jar per test: see ``browser``)."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.fail("chromium and chromium-driver are needed (bash run.sh test installs them with apt)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,768", "--lang=zh-CN"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium_driver):
    driver = chromium_driver
    driver.delete_all_cookies()
    driver.set_window_size(1366, 768)
    yield driver
    try:
        driver.delete_all_cookies()
    except Exception:
        pass


def login(driver, hall: WebHall, staff_no: str, password: str = PASSWORD) -> None:
    from selenium.webdriver.common.by import By

    driver.get(hall.url + "/login")
    driver.find_element(By.ID, "staff_no").send_keys(staff_no)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.execute_script("window.__before_login = true")
    driver.find_element(By.ID, "login-submit").click()
    # the answer is a new document (the next page, or the login page with its sentence)
    wait_until(driver, lambda d: d.execute_script("return window.__before_login === undefined"), timeout=10)


def wait_until(driver, predicate, timeout: float = 5.0):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # (a live page redraws its rows: an element found a moment ago may be gone; look again)
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=ignored).until(predicate)
