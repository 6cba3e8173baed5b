"""Scanned materials reach the window (issue 15, item 6): a scan session at the headless kiosk with the
simulated document camera, attached to a ticket and uploaded with the kiosk's bus login; when window 1
calls the ticket, the clerk's page in a real browser shows the pages and the PDF; another clerk is
refused (403); every view is audited; the pages go after ``[scans] keep_days``. A scan attached to a
case (办件编号) instead: the clerk at a window opens the case's scans on the desk page."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By

from devices.config import DeviceConfig
from devices.scanner import device as scanner_device
from hall_bus import config as hallconfig
from hall_bus.bus.credentials import PASSWORD_FILE, hash_password
from kiosk.scan_flow import ScanFlow
from kiosk.scanning import KioskScanner, ScanUploader
from tests.kiosk.kiosk_helpers import kiosk
from tests.ui.web.conftest import WebHall, running, wait_until
from tests.ui.web.test_web_clerk import issue, take_window
from tests.ui.web.test_web_login import _login
from ui.web.routes.scans import scans_of
from ui.web.scans import WindowScans, hall_day

KIOSK_PASSWORD = "kiosk-1-bus-password"


@pytest.fixture
def scan_hall(tmp_hall: Path, tmp_path: Path, bus_factory, web_settings) -> Iterator[WebHall]:
    """The web console of a hall whose bus has logins (``[bus] credentials_dir``, as `hallkit bus
    credentials` writes it: a mosquitto password hash per client and the kiosk's own password)."""
    creds = tmp_path / "bus-credentials"
    creds.mkdir()
    (creds / PASSWORD_FILE).write_text(f"kiosk-1:{hash_password(KIOSK_PASSWORD)}\n", encoding="utf-8")
    (creds / "kiosk-1.password").write_text(KIOSK_PASSWORD + "\n", encoding="utf-8")
    cfg = hallconfig.load(tmp_hall)
    cfg = dataclasses.replace(cfg, bus=dataclasses.replace(cfg.bus, credentials_dir=str(creds)))
    with running(cfg, bus_factory, web_settings, ("S0101", "S0102", "S0104", "M0001")) as hall:
        yield hall


@pytest.fixture
def camera() -> Iterator[object]:
    cfg = DeviceConfig(
        id="kiosk-1-scanner",
        kind="scanner",
        url="sim://scanner?width=1280&height=960&realtime=0&seed=3",
        profile="generic-5mp",
        host="kiosk-1",
    )
    dev = scanner_device.DocumentScanner(cfg, realtime=False).open()
    yield dev
    dev.close()


def scan_for(session, ticket: str, pages: int = 2) -> ScanFlow:
    """The citizen scans ``pages`` pages at the kiosk for ``ticket`` (or a case number) and finishes."""
    flow = session.start("scan")
    assert flow.attach(ticket.lower()), flow.message  # typed as it comes; kept as printed
    flow.start()
    for _ in range(pages - 1):
        flow.next_page()
    assert flow.state == "preview" and len(flow.pages) == pages, flow.message
    flow.finish()
    assert flow.state == "done", flow.message
    return flow


def test_a_kiosk_scan_is_shown_on_the_clerks_page_when_its_ticket_is_called(
    scan_hall: WebHall, browser, bus_factory, camera, tmp_path
) -> None:
    uploader = ScanUploader.configured(scan_hall.web.config, "kiosk-1")
    assert uploader is not None and uploader.password == KIOSK_PASSWORD
    uploader = dataclasses.replace(uploader, url=scan_hall.url + "/api/scans/upload")  # (the test port)
    scanner = KioskScanner(camera, tmp_path / "kiosk-scans", still_s=0.5, uploader=uploader)
    session = kiosk(bus_factory, devices={"scanner": scanner})
    session.ctx.hall = {"open_now": True}
    code = issue(session.ctx.bus)
    flow = scan_for(session, code)
    assert flow.sent is True and f"已发送到 {code} 号的办理窗口" in flow.message
    assert {"label": "排队号", "value": f"{code}（已发送到窗口）"} in flow.slip_lines()
    ref = flow.reference
    store = scans_of(scan_hall.web.context)
    (saved,) = store.of_ticket(code)
    assert saved.ref == ref and saved.kiosk == "kiosk-1" and len(saved.pages) == 2 and saved.pdf
    folder = store.root / hall_day(scan_hall.web.config, time.time()) / code / ref
    assert (folder / "document.pdf").read_bytes().startswith(b"%PDF")

    take_window(browser, scan_hall, "S0101", 1)
    assert browser.find_element(By.ID, "desk-scans").get_attribute("hidden") is not None  # nothing called yet
    browser.find_element(By.ID, "act-call").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "current-code").text == code)
    thumbs = "#desk-scans-list img"
    wait_until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, thumbs)) == 2)
    loaded = "return [...document.querySelectorAll(arguments[0])].every(i => i.complete && i.naturalWidth > 300)"
    wait_until(browser, lambda d: d.execute_script(loaded, thumbs))  # the pages themselves, served to this clerk
    pdf = browser.find_element(By.CSS_SELECTOR, "a.scan-pdf")
    assert ref in pdf.text and "2 页" in pdf.text
    pdf_url = pdf.get_attribute("href")
    fetched = browser.execute_async_script(
        "const done = arguments[1]; fetch(arguments[0]).then(r => done([r.status, r.headers.get('content-type')]))",
        pdf_url,
    )
    assert fetched == [200, "application/pdf"]
    browser.save_screenshot(str(tmp_path / "clerk-scans.png"))

    with httpx.Client(base_url=scan_hall.url) as other:  # the clerk of window 2 may not open them
        h = {"X-CSRF-Token": _login(other, "S0102")}
        assert other.post("/api/desk/take", json={"window": 2}, headers=h).status_code == 200
        assert other.get("/api/scans/current").json() == {"ok": True, "window": 2, "ticket": "", "scans": []}
        r = other.get(pdf_url, headers={"Accept": "application/json"})
        assert r.status_code == 403 and b"%PDF" not in r.content
        r = other.get(pdf_url.replace("document.pdf", "page-001.jpg"))
        assert r.status_code == 403
    with httpx.Client(base_url=scan_hall.url) as manager:  # a manager may
        _login(manager, "M0001")
        r = manager.get(pdf_url)
        assert r.status_code == 200 and r.content.startswith(b"%PDF") and r.headers["cache-control"] == "no-store"

    views = store.views(code)
    by = {(v["staff_no"], v["window"], v["file"]) for v in views}
    assert {("S0101", 1, "page-001.jpg"), ("S0101", 1, "page-002.jpg"), ("S0101", 1, "document.pdf")} <= by
    assert ("M0001", None, "document.pdf") in by and not any(v["staff_no"] == "S0102" for v in views)
    assert all(v["ref"] == ref and v["day"] == saved.day and v["at"] > 0 for v in views)

    browser.find_element(By.ID, "act-finish").click()  # once the ticket is done, the clerk's access ends
    wait_until(browser, lambda d: d.find_element(By.ID, "current-code").text == "当前没有号码")
    wait_until(browser, lambda d: d.find_element(By.ID, "desk-scans").get_attribute("hidden") is not None)
    status = browser.execute_async_script(
        "const done = arguments[1]; fetch(arguments[0]).then(r => done(r.status))", pdf_url
    )
    assert status == 403


FILES = [("file", ("page-001.jpg", b"\xff\xd8jpeg", "image/jpeg"))]
FORM = {"ticket": "A001", "ref": "ABCDEFGH"}


def test_only_a_kiosk_with_its_bus_login_may_upload(scan_hall: WebHall) -> None:
    files, form = FILES, FORM
    with httpx.Client(base_url=scan_hall.url) as c:
        r = c.post("/api/scans/upload", data=form, files=files, auth=("kiosk-1", "wrong"))
        assert r.status_code == 401 and r.json()["code"] == "scan_login"
        r = c.post("/api/scans/upload", data=form, files=files, auth=("web", KIOSK_PASSWORD))  # not a kiosk
        assert r.status_code == 401
        r = c.post("/api/scans/upload", data=form, files=files)
        assert r.status_code == 401
        bad = [("file", ("../../etc/passwd", b"x", "image/jpeg"))]
        r = c.post("/api/scans/upload", data=form, files=bad, auth=("kiosk-1", KIOSK_PASSWORD))
        assert r.status_code == 422 and r.json()["code"] == "scan_files"
        r = c.post("/api/scans/upload", data={**form, "ticket": "x"}, files=files, auth=("kiosk-1", KIOSK_PASSWORD))
        assert r.status_code == 422
        both = {**form, "case": "SB2026150009"}  # a ticket or a case, never both
        r = c.post("/api/scans/upload", data=both, files=files, auth=("kiosk-1", KIOSK_PASSWORD))
        assert r.status_code == 422 and r.json()["code"] == "scan_files"
        r = c.post(
            "/api/scans/upload", data={"case": "../x", "ref": "ABCDEFGH"}, files=files, auth=("kiosk-1", KIOSK_PASSWORD)
        )
        assert r.status_code == 422
        r = c.post("/api/scans/upload", data=form, files=files, auth=("kiosk-1", KIOSK_PASSWORD))
        assert r.status_code == 200 and r.json() == {"ok": True, "ticket": "A001", "ref": "ABCDEFGH", "pages": 1}


def test_a_hall_whose_bus_has_no_logins_takes_no_uploads(web_hall: WebHall) -> None:
    assert ScanUploader.configured(web_hall.web.config, "kiosk-1") is None  # the kiosk keeps its pages
    with httpx.Client(base_url=web_hall.url) as c:
        r = c.post("/api/scans/upload", data=FORM, files=FILES, auth=("kiosk-1", KIOSK_PASSWORD))
        assert r.status_code == 403 and r.json()["message"] == "本厅总线未设置登录，扫描材料不上传。"


def test_pages_are_deleted_after_keep_days(tmp_hall: Path) -> None:
    text = tmp_hall.read_text(encoding="utf-8").replace("keep_days = 30", "keep_days = 7")
    tmp_hall.write_text(text, encoding="utf-8")
    cfg = hallconfig.load(tmp_hall)
    now = [1_767_225_600.0]  # 2026-01-01 00:00 UTC, 08:00 in the hall
    store = WindowScans(cfg, sqlite3.connect(":memory:"), clock=lambda: now[0])
    assert store.keep_days == 7
    old = store.save("kiosk-1", "A001", "AAAAAAAA", {"page-001.jpg": b"old", "document.pdf": b"%PDF"})
    old_case = store.save_case("kiosk-1", "SB2026150009", "CCCCCCCC", {"page-001.jpg": b"old"})
    now[0] += 3 * 86400
    new = store.save("kiosk-1", "A001", "BBBBBBBB", {"page-001.jpg": b"new"})
    new_case = store.save_case("kiosk-1", "SB2026150009", "DDDDDDDD", {"page-001.jpg": b"new"})
    assert old_case.case_no == new_case.case_no == "SB2026150009" and old_case.ticket == ""
    assert old.day == "20260101" and new.day == "20260104"
    t0 = now[0] - 3 * 86400
    assert store.purge(now=t0 + 6.9 * 86400) == 0  # the first are not yet 7 days old
    assert store.purge(now=t0 + 7.1 * 86400) == 2  # a ticket's and a case's, alike
    assert store.of_ticket("A001", old.day) == [] and not (store.root / old.day).exists()
    assert [s.ref for s in store.of_ticket("A001", new.day)] == ["BBBBBBBB"]
    assert [s.ref for s in store.of_case("SB2026150009")] == ["DDDDDDDD"]
    now[0] = t0 + 10.1 * 86400
    assert store.purge() == 2  # (the store's clock)
    assert store.of_case("SB2026150009") == []
    assert store.of_ticket("A001", new.day) == [] and not any(store.root.iterdir())


def test_keep_days_is_checked(tmp_hall: Path) -> None:
    tmp_hall.write_text(tmp_hall.read_text(encoding="utf-8").replace("keep_days = 30", "keep_days = 0"), "utf-8")
    with pytest.raises(hallconfig.ConfigError, match="keep_days"):
        WindowScans(hallconfig.load(tmp_hall), sqlite3.connect(":memory:"))


def test_a_scan_for_a_case_is_opened_on_the_clerks_page_by_its_number(
    scan_hall: WebHall, browser, bus_factory, camera, tmp_path
) -> None:
    case_no = "SB2026150009"
    data = {"case_no": case_no, "status": "received", "actor": "S0104", "service": "shebao-card"}
    bus_factory("window-4").request("case.update", data, timeout=5)
    uploader = ScanUploader.configured(scan_hall.web.config, "kiosk-1")
    assert uploader is not None
    uploader = dataclasses.replace(uploader, url=scan_hall.url + "/api/scans/upload")
    scanner = KioskScanner(camera, tmp_path / "kiosk-scans", still_s=0.5, uploader=uploader)
    session = kiosk(bus_factory, devices={"scanner": scanner})
    session.ctx.hall = {"open_now": True}
    flow = scan_for(session, case_no)
    assert flow.sent is True and f"已发送，窗口可按办件编号 {case_no} 查看" in flow.message
    store = scans_of(scan_hall.web.context)
    (saved,) = store.of_case(case_no)
    assert saved.ref == flow.reference and saved.ticket == "" and len(saved.pages) == 2
    assert store.of_ticket(case_no) == []  # (not a ticket's)

    take_window(browser, scan_hall, "S0101", 1)
    browser.find_element(By.ID, "case-scans-no").send_keys("sb2026159999")  # a case without scans
    browser.find_element(By.ID, "case-scans-open").click()
    wait_until(browser, lambda d: d.find_element(By.ID, "case-scans-message").text == "该办件没有自助终端扫描的材料")
    box = browser.find_element(By.ID, "case-scans-no")
    box.clear()
    box.send_keys(case_no.lower())  # typed as it comes
    browser.find_element(By.ID, "case-scans-open").click()
    thumbs = "#case-scans-list img"
    wait_until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, thumbs)) == 2)
    loaded = "return [...document.querySelectorAll(arguments[0])].every(i => i.complete && i.naturalWidth > 300)"
    wait_until(browser, lambda d: d.execute_script(loaded, thumbs))
    pdf = browser.find_element(By.CSS_SELECTOR, "#case-scans-list a.scan-pdf")
    assert saved.ref in pdf.text and "2 页" in pdf.text
    pdf_url = pdf.get_attribute("href")
    assert pdf_url.endswith(f"/scanned/case/{case_no}/{saved.ref}/document.pdf")
    browser.save_screenshot(str(tmp_path / "clerk-case-scans.png"))

    with httpx.Client(base_url=scan_hall.url) as other:  # a clerk at no window may not
        _login(other, "S0102")
        r = other.get(f"/api/scans/case/{case_no}")
        assert r.status_code == 403 and r.json()["code"] == "scan_case_not_yours"
        r = other.get(pdf_url)
        assert r.status_code == 403 and b"%PDF" not in r.content and 'id="forbidden"' in r.text  # the staff page
    with httpx.Client(base_url=scan_hall.url) as other:  # a clerk at a window of another domain may not
        csrf = _login(other, "S0104")
        assert other.post("/api/desk/take", json={"window": 4}, headers={"X-CSRF-Token": csrf}).status_code == 200
        r = other.get(f"/api/scans/case/{case_no}")  # window 4 serves 不动产 and 综合, the case is 社保's
        assert r.status_code == 403 and r.json()["code"] == "scan_case_not_yours"
        assert other.get(pdf_url).status_code == 403
    with httpx.Client(base_url=scan_hall.url) as manager:  # a manager may, at no window
        _login(manager, "M0001")
        assert manager.get("/api/scans/case/bad!").status_code in (404, 422)
        assert [s["ref"] for s in manager.get(f"/api/scans/case/{case_no}").json()["scans"]] == [saved.ref]
        r = manager.get(pdf_url)
        assert r.status_code == 200 and r.content.startswith(b"%PDF") and r.headers["cache-control"] == "no-store"

    views = store.views(case_no=case_no)
    by = {(v["staff_no"], v["window"], v["file"]) for v in views}
    assert {("S0101", 1, "page-001.jpg"), ("S0101", 1, "page-002.jpg"), ("M0001", None, "document.pdf")} <= by
    assert not any(v["staff_no"] == "S0102" for v in views)
    assert all(v["ref"] == saved.ref and v["ticket"] == "" and v["case_no"] == case_no for v in views)


def test_an_older_scan_views_table_gets_the_case_column_and_keeps_its_rows(tmp_hall: Path) -> None:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE TABLE scan_views (id INTEGER PRIMARY KEY, at REAL NOT NULL, staff_no TEXT NOT NULL,"
        " window INTEGER, day TEXT NOT NULL, ticket TEXT NOT NULL, ref TEXT NOT NULL, file TEXT NOT NULL)"
    )
    db.execute(
        "INSERT INTO scan_views (at, staff_no, window, day, ticket, ref, file) VALUES (1, 'S0101', 1,"
        " '20260101', 'A001', 'AAAAAAAA', 'page-001.jpg')"
    )
    store = WindowScans(hallconfig.load(tmp_hall), db)
    store.audit("S0101", 1, "", "", "BBBBBBBB", "document.pdf", case_no="SB2026150009")
    (old,) = store.views("A001")
    assert old["staff_no"] == "S0101" and old["case_no"] is None and old["day"] == "20260101"
    assert [v["ref"] for v in store.views(case_no="SB2026150009")] == ["BBBBBBBB"]
    WindowScans(hallconfig.load(tmp_hall), db)  # (once is enough: a second start changes nothing)
    assert len(store.views()) == 2
