"""Screenshots of every page of the staff web console, in Chinese and English, as a person sees them:
the demo hall (its simulated citizens and clerks running for a while first) served to headless
Chromium at 1366x768 (the clerk and tablet pages also at a 1280x800 tablet's size).

    python -m ui.web.screenshots [--out docs/screenshots] [--only hall,clerk]

Writes ``web-<page>-<lang>.png``.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from hall_bus.bus.brokers import find_mosquitto
from ui.demo.hall import DEMO_PASSWORD, DemoHall, start_web_console

# (name, staff number to log in as or None, path, window size, what to wait for)
PAGES: list[tuple[str, str | None, str, tuple[int, int], str]] = [
    ("login", None, "/login", (1366, 768), "#login-submit"),
    ("hall", "M0001", "/hall", (1366, 768), "#windows tbody tr"),
    ("tidal", "M0001", "/tidal", (1366, 768), "#load tbody tr"),
    ("reports", "M0001", "/reports", (1366, 768), "#report tfoot tr"),
    ("followups", "M0001", "/followups", (1366, 768), "#followup-summary"),
    ("forbidden", "S0101", "/hall", (1366, 768), "#forbidden"),
]


def browser() -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)


def _shows(css: str) -> Callable[[Any], bool]:
    return lambda d: bool(d.find_elements(By.CSS_SELECTOR, css))


def login(driver: Any, base: str, staff_no: str) -> None:
    driver.delete_all_cookies()
    driver.get(base + "/login")
    driver.find_element(By.ID, "staff_no").send_keys(staff_no)
    driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 10).until(lambda d: "/login" not in d.current_url)


def shoot(
    out: Path, only: set[str] | None = None, warm_s: float = 20.0, prepare: Callable[[DemoHall], None] | None = None
) -> list[Path]:
    hall = DemoHall(broker="mosquitto" if find_mosquitto() else "embedded", print_calls=None, seed=3).start()
    web = start_web_console(hall, 0)
    if prepare is not None:
        prepare(hall)
    time.sleep(warm_s)  # a hall with queues, called tickets and ratings
    hall.halt()  # the picture holds still
    driver = browser()
    written: list[Path] = []
    try:
        base = web.url.rstrip("/")
        for lang in ("zh", "en"):
            who: str | None = ""
            for name, staff_no, path, size, ready in PAGES:
                if only and name not in only:
                    continue
                if staff_no != who:
                    driver.delete_all_cookies()
                    if staff_no is not None:
                        login(driver, base, staff_no)
                    who = staff_no
                driver.get(base + f"/lang/{lang}")
                driver.set_window_size(*size)
                driver.get(base + path)
                WebDriverWait(driver, 10).until(_shows(ready))
                time.sleep(0.4)  # the live feed's first picture drawn
                height = int(driver.execute_script("return document.documentElement.scrollHeight"))
                if height > size[1]:  # the whole page, not only what fits the first screen
                    driver.set_window_size(size[0], height + 140)
                    time.sleep(0.2)
                target = out / f"web-{name}-{lang}.png"
                driver.save_screenshot(str(target))
                written.append(target)
    finally:
        driver.quit()
        web.stop()
        hall.stop()
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/screenshots")
    ap.add_argument("--only", default="", help="comma-separated page names")
    ap.add_argument("--warm", type=float, default=20.0, help="seconds the demo hall runs before the pictures")
    args = ap.parse_args()
    only = {p for p in args.only.split(",") if p} or None
    for path in shoot(Path(args.out), only, args.warm):
        print(path)


if __name__ == "__main__":
    main()
