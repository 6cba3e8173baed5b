"""Scan materials with the real document-camera device on its desk-scene simulator (sim://scanner)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time

import pytest

from devices.config import DeviceConfig
from devices.scanner import device as scanner_device
from hall_bus import config as hallconfig
from kiosk import scan_flow, scanning
from kiosk.scanning import ScanUploader
from tests.kiosk.kiosk_helpers import kiosk


@pytest.fixture
def scanner(tmp_path):
    from kiosk.scanning import KioskScanner

    # a smaller camera than the 5 MP profile, run as fast as the CPU allows (scene time, not wall time)
    cfg = DeviceConfig(
        id="kiosk-1-scanner",
        kind="scanner",
        url="sim://scanner?width=1280&height=960&realtime=0&seed=3",
        profile="generic-5mp",
        host="kiosk-1",
    )
    dev = scanner_device.DocumentScanner(cfg, realtime=False).open()
    yield KioskScanner(dev, tmp_path / "scans", still_s=0.5)
    dev.close()


def test_two_pages_with_a_retake_then_finish(bus_factory, scanner, tmp_path):
    session = kiosk(bus_factory, devices={"scanner": scanner})
    session.ctx.hall = {"open_now": True}
    flow = session.start("scan")
    assert flow.state == "intro"
    flow.start()
    assert flow.state == "preview", flow.message
    v = flow.view()
    assert v["preview"]["index"] == 0 and v["preview"]["png_b64"] and v["preview"]["width"] > 300
    first = flow.pages[0]
    flow.retake()
    assert flow.state == "preview" and len(flow.pages) == 1 and flow.pages[0] is not first
    flow.next_page()
    assert flow.state == "preview" and len(flow.pages) == 2 and flow.view()["pages_text"] == "已扫描 2 页"
    flow.finish()
    assert flow.state == "done" and flow.data["count"] == 2
    ref = flow.view()["reference"]
    assert ref in flow.message and flow.pages == []  # the kiosk forgets the images once saved
    saved = scanner.store.find(ref)
    assert saved is not None and saved.parent == tmp_path / "scans"
    meta = json.loads((saved / "session.json").read_text(encoding="utf-8"))
    assert meta["pages"] == 2 and meta["ref"] == ref and (saved / "document.pdf").stat().st_size > 1000


def test_done_screen_is_a_slip_with_the_next_step(bus_factory, scanner, monkeypatch):
    monkeypatch.setattr(scan_flow.time, "time", lambda: 1_767_225_600.0)  # 2026-01-01 00:00 UTC
    session = kiosk(bus_factory, devices={"scanner": scanner})
    session.ctx.hall = {"open_now": True, "timezone": "Asia/Shanghai"}
    flow = session.start("scan")
    flow.start()
    flow.finish()
    v = flow.view()
    code = v["reference"]
    assert len(code) == 8 and set(code) <= set(scanning.CODE_CHARS)  # short, no 0/O or 1/I
    assert v["slip"] == [
        {"label": "材料编号", "value": code},
        {"label": "页数", "value": "1 页"},
        {"label": "扫描时间", "value": "2026-01-01 08:00"},  # the hall's clock
        {"label": "保存至", "value": "2026-01-31"},  # 30 days by default
    ]
    assert code in v["next_step"] and "取号" in v["next_step"] and v["take_ticket"] == "去取号"
    session.ctx.clock.advance(91)
    assert session.tick() and flow.slip == {} and flow.reference == ""


def test_scans_are_kept_in_the_configured_store_for_its_retention(tmp_path):
    store = scanning.ScanStore.configured({"store": "kept/scans", "retention_days": 7}, tmp_path / "data")
    assert store.root == tmp_path / "data" / "kept" / "scans" and store.retention_days == 7
    elsewhere = scanning.ScanStore.configured({"store": str(tmp_path / "hall-scans")}, tmp_path / "tmp-data")
    assert elsewhere.root == tmp_path / "hall-scans"  # not inside a (temporary) data folder
    assert scanning.ScanStore.configured({}, tmp_path).root == tmp_path / "scans"
    for bad in (0, -1, "30", True, 99999):
        with pytest.raises(ValueError, match="retention_days"):
            scanning.ScanStore.configured({"retention_days": bad}, tmp_path)
    old, new = store.root / "scan-old", store.root / "scan-new"
    for d, ref, age_days in ((old, "AAAAAAAA", 8), (new, "BBBBBBBB", 6)):
        d.mkdir(parents=True)
        (d / "session.json").write_text(json.dumps({"ref": ref}), encoding="utf-8")
        t = time.time() - age_days * 86400
        os.utime(d / "session.json", (t, t))
    assert store.find("AAAAAAAA") == old
    assert store.purge() == 1 and not old.exists() and new.exists()
    assert store.find("AAAAAAAA") is None and store.find("BBBBBBBB") == new


def test_kiosk_devices_puts_the_camera_on_its_configured_store(tmp_path):
    cfg = DeviceConfig(
        id="kiosk-1-scanner",
        kind="scanner",
        url="sim://scanner?width=640&height=480&realtime=0",
        profile="generic-5mp",
        host="kiosk-1",
        options={"store": str(tmp_path / "scans"), "retention_days": 14},
    )
    dev = scanner_device.DocumentScanner(cfg, realtime=False)
    wrapped = scanning.kiosk_devices({"scanner": dev}, tmp_path / "tmp-data")["scanner"]
    assert wrapped.store == scanning.ScanStore(tmp_path / "scans", 14.0) and wrapped.retention_days == 14


def test_timeout_drops_the_scanned_pages(bus_factory, scanner):
    session = kiosk(bus_factory, devices={"scanner": scanner})
    session.ctx.hall = {"open_now": True}
    flow = session.start("scan")
    flow.start()
    assert flow.pages
    session.ctx.clock.advance(91)
    assert session.tick()
    assert flow.pages == [] and flow.current is None


def test_a_document_qr_is_not_taken_for_a_resident_code(tmp_hall, bus_factory, scanner):
    """The page on the desk carries a QR code that is no signed 居民码 (issue 13, item 3: the resident
    code verifier and its tests are in tests/kiosk/test_kiosk_resident_code.py)."""
    from tests.kiosk.kiosk_helpers import start_controller

    start_controller(tmp_hall, bus_factory)
    session = kiosk(bus_factory, devices={"scanner": scanner})
    assert session.refresh_hall()
    flow = session.start("identify")
    flow.scan_qr()
    assert flow.state == "identify" and flow.identity is None
    assert flow.message and not re.search(r"[A-Za-z]{3,}", flow.message)  # a sentence, no raw English


# A scan attached to the citizen's ticket (issue 15, item 6; the upload to a real web console is
# tests/ui/web/test_web_scans.py).


def test_the_ticket_code_is_checked_and_kept_as_printed(bus_factory, scanner) -> None:
    session = kiosk(bus_factory, devices={"scanner": scanner})
    session.ctx.hall = {"open_now": True}
    flow = session.start("scan")
    assert "排队号" in flow.view()["ticket_prompt"]
    assert not flow.set_ticket("hello") and flow.ticket == "" and "A001" in flow.message
    assert flow.set_ticket(" sb1234 ") and flow.ticket == "SB1234" and flow.view()["ticket"] == "SB1234"


def test_without_an_uploader_the_pages_stay_on_the_kiosk_and_the_slip_says_so(bus_factory, scanner) -> None:
    assert scanner.uploader is None
    session = kiosk(bus_factory, devices={"scanner": scanner})
    session.ctx.hall = {"open_now": True}
    flow = session.start("scan")
    flow.set_ticket("A001")
    flow.start()
    flow.finish()
    assert flow.state == "done" and flow.sent is False and flow.data["sent"] is False
    assert "未能发送到窗口，请向工作人员出示材料编号" in flow.message
    assert {"label": "排队号", "value": "A001（未发送，请出示材料编号）"} in flow.slip_lines()
    assert scanner.store.find(flow.reference) is not None  # kept here under its material code
    session.ctx.clock.advance(91)
    assert session.tick() and flow.ticket == "" and flow.sent is None


def test_a_scan_without_a_ticket_is_saved_as_before(bus_factory, scanner) -> None:
    session = kiosk(bus_factory, devices={"scanner": scanner})
    session.ctx.hall = {"open_now": True}
    flow = session.start("scan")
    flow.start()
    flow.finish()
    assert flow.state == "done" and flow.sent is None and "发送" not in flow.message


def test_the_uploader_uses_the_kiosks_bus_login_and_the_public_url(tmp_hall, tmp_path) -> None:
    cfg = hallconfig.load(tmp_hall)
    assert ScanUploader.configured(cfg, "kiosk-1") is None  # no bus logins: no upload
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "kiosk-1.password").write_text("pw-of-kiosk-1\n", encoding="utf-8")
    cfg = dataclasses.replace(
        cfg,
        bus=dataclasses.replace(cfg.bus, credentials_dir=str(creds)),
        extra={**cfg.extra, "web": {"public_url": "https://hall.example.gov.cn/"}},
    )
    assert ScanUploader.configured(cfg, "kiosk-1") == ScanUploader(
        "https://hall.example.gov.cn/api/scans/upload", "kiosk-1", "pw-of-kiosk-1"
    )
    assert ScanUploader.configured(cfg, "kiosk-2") is None  # no password written for it


# ... or to the citizen's case (办件编号, as printed on the 受理回执), checked with case.lookup first.


def a_case(bus_factory, case_no: str) -> None:
    bus_factory("window-4").request(
        "case.update", {"case_no": case_no, "status": "received", "actor": "S0104", "service": "shebao-card"}, timeout=5
    )


def type_number(flow, text: str) -> None:
    flow.enter_number()
    for ch in text:
        flow.type_char(ch)
    flow.attach_typed()


def test_a_case_number_is_accepted_once_the_controller_knows_it(tmp_hall, bus_factory, scanner) -> None:
    from tests.kiosk.kiosk_helpers import start_controller

    start_controller(tmp_hall, bus_factory)
    a_case(bus_factory, "SB2026150009")
    session = kiosk(bus_factory, devices={"scanner": scanner})
    session.ctx.hall = {"open_now": True}
    flow = session.start("scan")
    assert "办件编号" in flow.view()["ticket_prompt"] and flow.view()["attach"] == "输入排队号或办件编号"
    type_number(flow, "sb2026159999")  # no such case: a sentence, nothing attached, still typing
    assert flow.state == "attach" and flow.case == "" and flow.ticket == ""
    assert flow.message == "没有查到办件编号 SB2026159999，请核对受理回执后重新输入"
    flow.typed = ""
    for ch in "%!":
        flow.type_char(ch)  # (the keypad has no such keys)
    flow.type_char("-")
    flow.attach_typed()
    assert flow.state == "attach" and flow.message.startswith("号码不正确") and flow.case == ""
    flow.cancel_attach()
    assert flow.state == "intro"
    type_number(flow, "sb2026150009")
    assert flow.state == "intro" and flow.case == "SB2026150009" and flow.ticket == ""
    assert flow.view()["attached"] == "材料将随办件 SB2026150009 发送到窗口"
    type_number(flow, "a001")  # a ticket's shape is a ticket: it takes the case's place
    assert flow.ticket == "A001" and flow.case == ""
    type_number(flow, "SB2026150009")
    flow.start()
    assert flow.state == "preview", flow.message
    flow.finish()  # no uploader: the pages stay here under their material code, and the slip says so
    assert flow.state == "done" and flow.sent is False and flow.data["case"] == "SB2026150009"
    assert {"label": "办件编号", "value": "SB2026150009（未发送，请出示材料编号）"} in flow.slip_lines()


def test_a_case_number_is_refused_when_the_bus_does_not_answer(bus_factory, scanner) -> None:
    session = kiosk(bus_factory, devices={"scanner": scanner}, request_timeout_s=0.5)  # no controller
    session.ctx.hall = {"open_now": True}
    flow = session.start("scan")
    flow.start()
    type_number(flow, "SB2026150009")
    assert (
        flow.state == "attach" and flow.case == "" and flow.message == "暂时无法连接大厅系统，请稍后重试或咨询工作人员"
    )
    flow.cancel_attach()
    assert flow.state == "preview" and len(flow.pages) == 1  # the page scanned before is still there


def test_the_upload_names_the_case_instead_of_a_ticket(scanner, tmp_path) -> None:
    """What the console receives (a real HTTP server on loopback, reading the multipart form)."""
    import email.parser
    import http.server
    import threading

    got: dict[str, str] = {}

    class Console(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
            for part in email.parser.BytesParser().parsebytes(head + body).get_payload():
                if not part.get_filename():
                    got[part.get_param("name", header="content-disposition")] = part.get_payload()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Console)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        folder = tmp_path / "session"
        folder.mkdir()
        (folder / "page-001.jpg").write_bytes(b"\xff\xd8jpeg")
        uploader = ScanUploader(f"http://127.0.0.1:{server.server_port}/api/scans/upload", "kiosk-1", "pw")
        assert uploader.send(folder, "ABCDEFGH", case_no="SB2026150009")
        assert got == {"case": "SB2026150009", "ref": "ABCDEFGH"}
        got.clear()
        assert uploader.send(folder, "ABCDEFGH", ticket="A001")
        assert got == {"ticket": "A001", "ref": "ABCDEFGH"}
    finally:
        server.shutdown()
