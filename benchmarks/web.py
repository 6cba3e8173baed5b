"""Staff web console benchmark: from a queue change on the bus to the browser showing it, and the
server time of the live-hall page, on the demo hall under its own load (simulated citizens and
clerks at 60x, mosquitto when installed).

* event to browser: a kiosk issues a ticket (``ticket.issue`` over the bus); the time from just before
  the request until the manager's live-hall page in headless Chromium has redrawn that domain's queue
  with the new count (a listener added after the page's own renderer records ``Date.now()``; the
  browser and this script share the machine's clock). ``--events`` tickets (default 100), p50 and p95.
* page: the server time of ``GET /hall`` and ``GET /api/live`` (what a page load asks the server), over
  ``--pages`` requests each (default 200), p95 of each; the larger is printed.

Targets (issue 14): event to browser p95 under 500 ms, page p95 under 300 ms.
Last line: ``event_to_browser_p95_ms=<x> page_ms_p95=<y>``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import httpx  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from hall_bus.bus.brokers import find_mosquitto  # noqa: E402
from ui.demo.hall import DEMO_PASSWORD, DemoHall, start_web_console  # noqa: E402

WATCH = """
window.__seen = [];
Live.onChange((key, data) => { if (key === 'queue/' + arguments[0]) window.__seen.push([Date.now(), data.waiting]); });
"""


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--pages", type=int, default=200)
    args = ap.parse_args()

    hall = DemoHall(broker="mosquitto" if find_mosquitto() else "embedded", print_calls=None, seed=7).start()
    web = start_web_console(hall, 0)
    kiosk = hall.make_bus("kiosk-1")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,768"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    try:
        base = web.url.rstrip("/")
        driver.get(base + "/login")
        driver.find_element(By.ID, "staff_no").send_keys("M0001")
        driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
        driver.find_element(By.ID, "login-submit").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#queues tbody tr"))
        domain = "gongan"  # a domain of one window: the demo's clerk there calls as they come
        driver.execute_script(WATCH.replace("arguments[0]", repr(domain)))
        latencies: list[float] = []
        for _ in range(args.events):
            before = int(driver.execute_script("return window.__seen.length"))
            t0 = time.time() * 1000
            answer = kiosk.request(
                "ticket.issue", {"service": "gongan-hukou", "idempotency_key": uuid.uuid4().hex[:16]}
            )
            del answer
            seen = WebDriverWait(driver, 5, poll_frequency=0.005).until(
                lambda d, n=before: d.execute_script(
                    "return window.__seen.length > arguments[0] ? window.__seen[arguments[0]] : null", n
                )
            )
            latencies.append(seen[0] - t0)
            time.sleep(0.05)

        client = httpx.Client(base_url=base)
        page = client.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text)
        assert token is not None
        client.post("/login", data={"staff_no": "M0001", "password": DEMO_PASSWORD, "login_token": token.group(1)})
        pages: dict[str, list[float]] = {"/hall": [], "/api/live": []}
        for path, out in pages.items():
            for _ in range(args.pages):
                t = time.perf_counter()
                r = client.get(path)
                out.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, (path, r.status_code)
    finally:
        driver.quit()
        web.stop()
        hall.stop()

    print(f"demo hall at 60x with its simulated citizens and clerks; web console {web.url}")
    print(
        f"event to browser over {len(latencies)} tickets: p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {pct(latencies, 95):.1f} ms, max {max(latencies):.1f} ms"
    )
    for path, values in pages.items():
        print(f"GET {path} over {len(values)}: p50 {statistics.median(values):.1f} ms, p95 {pct(values, 95):.1f} ms")
    page_p95 = max(pct(v, 95) for v in pages.values())
    print(f"event_to_browser_p95_ms={pct(latencies, 95):.1f} page_ms_p95={page_p95:.1f}")


if __name__ == "__main__":
    main()
