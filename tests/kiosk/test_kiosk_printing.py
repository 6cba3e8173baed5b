"""The ticket flow with the real receipt printer device on its simulator (sim://printer)."""

from __future__ import annotations

import time
import uuid

import pytest

from devices import printer as printer_mod
from devices.config import DeviceConfig
from hall_bus.controller.ticket_link import verify
from kiosk.printing import ticket_doc
from simulators import registry
from tests.kiosk.kiosk_helpers import kiosk, start_controller


@pytest.fixture
def printer(tmp_path):
    name = f"kp-{uuid.uuid4().hex[:8]}"
    cfg = DeviceConfig(
        id="kiosk-1-printer",
        kind="printer",
        url=f"sim://printer?id={name}&out={tmp_path}",
        profile="generic-80mm",
        host="kiosk-1",
    )
    dev = printer_mod.ReceiptPrinter(cfg).open()
    yield dev, registry.instance(name)
    dev.close()


def take_ticket(session, service="shebao-card"):
    flow = session.start("ticket")
    flow.choose_service(service)
    flow.choose_priority("normal")
    assert flow.state == "done", flow.message
    return flow


def test_ticket_is_printed_with_number_wait_and_qr(tmp_hall, bus_factory, printer):
    dev, sim = printer
    ctl = start_controller(tmp_hall, bus_factory)
    ctl.engine.issue("shebao-card", channel="cli")
    session = kiosk(bus_factory, devices={"printer": dev})
    assert session.refresh_hall()
    flow = take_ticket(session)
    v = flow.view()["ticket"]
    assert v["printed"] and v["code"] == "A002"
    assert flow.message == "请取走号票，留意叫号屏和广播"
    page = sim.wait_pages(1)[0]
    assert "A002" in page.text and "社保卡申领" in page.text
    assert "前面" in page.text or "1" in page.text
    assert page.qr_codes  # the ticket's signed phone link (hall_bus/controller/ticket_link.py), not the code alone
    qr = page.qr_codes[0].data
    assert qr.startswith("http://127.0.0.1:8080/t/")
    ref = verify(ctl.ticket_links.secret, ctl.hall, qr.rsplit("/", 1)[1])
    assert ref is not None and (ref.code, ref.id) == ("A002", ctl.engine.ticket("A002").id)
    assert sim.png_paths and sim.png_paths[0].stat().st_size > 1000


def test_paper_out_shows_the_number_large_and_keeps_it(tmp_hall, bus_factory, printer):
    dev, sim = printer
    ctl = start_controller(tmp_hall, bus_factory)
    session = kiosk(bus_factory, devices={"printer": dev})
    assert session.refresh_hall()
    sim.paper = "out"
    flow = take_ticket(session, "gongan-hukou")
    v = flow.view()["ticket"]
    assert not v["printed"] and v["print_problem"] == "paper_out"
    assert "打印机缺纸" in flow.message and "请记下您的号码" in flow.message
    assert session.ctx.unprinted[-1]["code"] == v["code"] == "D001"
    assert flow.state_timeout() == 120.0  # kept on screen four times as long as a printed ticket
    assert sim.pages == []  # nothing came out
    assert ctl.engine.ticket("D001").state == "waiting"  # the ticket itself is valid
    sim.paper = "ok"
    flow2 = take_ticket(session, "gongan-hukou")
    assert flow2.view()["ticket"]["printed"]


def test_the_ticket_carries_the_halls_time_not_the_machines(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        ticket = {"code": "A001", "day": "2026-01-01", "issued_at": 1_767_225_600.0, "priority": "normal"}
        doc = ticket_doc({"ticket": ticket}, {"hall": "h", "name": "大厅", "timezone": "Asia/Shanghai"})
        assert doc.issued_at.strftime("%Y-%m-%d %H:%M") == "2026-01-01 08:00"  # 00:00 UTC
        doc = ticket_doc({"ticket": ticket}, {"hall": "h", "name": "大厅", "timezone": "Europe/Berlin"})
        assert doc.issued_at.strftime("%H:%M") == "01:00"
    finally:
        monkeypatch.undo()
        time.tzset()
