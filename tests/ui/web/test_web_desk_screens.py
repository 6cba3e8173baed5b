"""Screenshots of the clerk's desk, the window tablet and the tablets page, zh and en
(docs/screenshots/web-*.png). Run by hand: ``xvfb-run -a .venv/bin/python -m pytest -m slow
tests/ui/web/test_web_desk_screens.py``."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.conftest import ROOT
from tests.ui.web.conftest import WebHall, login, wait_until
from tests.ui.web.test_web_clerk import issue
from tests.ui.web.test_web_login import _login
from tests.ui.web.test_web_tablet import PAD, hall_toml, pair_browser

__all__ = ["hall_toml"]  # the hall with window 2's tablet
SHOTS = ROOT / "docs" / "screenshots"


def shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"web-{name}.png"))


def set_lang(driver, hall: WebHall, lang: str) -> None:
    driver.get(hall.url + "/healthz")
    driver.add_cookie({"name": "hallkit_lang", "value": lang, "path": "/"})


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_screens(web_hall: WebHall, browser, bus_factory, lang: str) -> None:
    kiosk = bus_factory("kiosk-1")
    for _ in range(3):
        issue(kiosk)
    issue(kiosk, "yibao-reimburse")
    set_lang(browser, web_hall, lang)
    login(browser, web_hall, "S0101")
    wait_until(browser, lambda d: d.find_elements(By.ID, "take-form"))
    shot(browser, f"clerk-choose-{lang}")
    browser.find_element(By.ID, "take").click()
    wait_until(browser, lambda d: d.find_elements(By.ID, "desk"))
    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#desk-queues tbody tr"))
    browser.find_element(By.ID, "act-call").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "current-code").text.startswith("A"))
    shot(browser, f"clerk-{lang}")
    browser.find_element(By.ID, "act-transfer").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "transfer-dialog").is_displayed())
    shot(browser, f"clerk-transfer-{lang}")
    browser.find_element(By.CSS_SELECTOR, '#transfer-form button[value="cancel"]').click()
    browser.find_element(By.ID, "logout").click()

    login(browser, web_hall, "M0001")
    wait_until(browser, lambda d: d.current_url.endswith("/hall"))
    browser.get(web_hall.url + "/tablets")
    browser.find_element(By.CSS_SELECTOR, f'button.make-code[data-device="{PAD}"]').click()
    wait_until(browser, lambda d: d.find_element(By.ID, "pair-code").text)
    shot(browser, f"tablets-{lang}")
    code = browser.find_element(By.ID, "pair-code").text.split("：" if lang == "zh" else ": ")[1][:6]
    browser.find_element(By.ID, "logout").click()

    browser.delete_all_cookies()
    set_lang(browser, web_hall, lang)
    browser.set_window_size(1280, 800)
    browser.get(web_hall.url + "/tablet")
    shot(browser, f"tablet-pair-{lang}")
    pair_browser(browser, web_hall, code)
    wait_until(browser, lambda d: d.find_elements(By.ID, "tablet"))
    with httpx.Client(base_url=web_hall.url) as clerk:
        h = {"X-CSRF-Token": _login(clerk, "S0102")}
        clerk.post("/api/desk/take", json={"window": 2}, headers=h)
        wait_until(browser, lambda d: d.find_element(By.ID, "clerk-name").text == "李强")
        clerk.post("/api/desk/call", json={}, headers=h)
        wait_until(browser, lambda d: "A0" in d.find_element(By.ID, "now-text").text)
        shot(browser, f"tablet-{lang}")
        clerk.post("/api/desk/finish", json={}, headers=h)
    wait_until(browser, lambda d: d.find_element(By.ID, "rate").is_displayed())
    browser.find_element(By.ID, "level-5").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "reasons").is_displayed())
    shot(browser, f"tablet-rate-{lang}")
    browser.set_window_size(1366, 768)
