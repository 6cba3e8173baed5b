"""Scan materials with the real document-camera device on its desk-scene simulator (sim://scanner)."""

from __future__ import annotations

import json

import pytest

from devices.config import DeviceConfig
from devices.scanner import device as scanner_device
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
    saved = tmp_path / "scans" / ref
    meta = json.loads((saved / "session.json").read_text(encoding="utf-8"))
    assert meta["pages"] == 2 and (saved / "document.pdf").stat().st_size > 1000


def test_timeout_drops_the_scanned_pages(bus_factory, scanner):
    session = kiosk(bus_factory, devices={"scanner": scanner})
    session.ctx.hall = {"open_now": True}
    flow = session.start("scan")
    flow.start()
    assert flow.pages
    session.ctx.clock.advance(91)
    assert session.tick()
    assert flow.pages == [] and flow.current is None


def test_resident_qr_identifies_for_a_ticket(tmp_hall, bus_factory, scanner):
    from tests.kiosk.kiosk_helpers import start_controller

    ctl = start_controller(tmp_hall, bus_factory)
    session = kiosk(bus_factory, devices={"scanner": scanner})
    assert session.refresh_hall()
    flow = session.start("identify")
    flow.scan_qr()  # the page on the desk carries a QR code
    assert flow.state == "domain" and flow.message == "居民码核验成功"
    assert flow.identity.source == "qr" and flow.identity.age is None
    flow.choose_service("shuiwu-invoice")
    flow.choose_priority("normal")
    t = ctl.engine.ticket(flow.view()["ticket"]["code"])
    assert t.identity_token == flow.identity.token
