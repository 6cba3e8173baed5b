"""Printer state on the real bus, paper running out during a ticket, the 58 mm printer without a
cutter, python-escpos text through the driver, and the technician's status command."""

from __future__ import annotations

import datetime as dt
import queue
import time

import numpy as np
import pytest
import zxingcpp

from devices.base import DeviceState
from devices.config import DeviceConfig
from devices.printer import PrinterNotReady, ReceiptPrinter
from drivers.escpos_docs import QueueTicketDoc
from drivers.escpos_printer import EscposPrinter
from hall_bus.bus import topics
from hall_bus.cli import main as cli
from hall_bus.hosts.device_bridge import bridged
from simulators import registry
from simulators.base import serve_pty
from simulators.printer import PrinterSimulator


def ticket(code: str) -> QueueTicketDoc:
    return QueueTicketDoc(
        "示范区政务服务中心",
        code,
        "不动产登记（二手房转移）",
        "不动产",
        12,
        35.0,
        dt.datetime(2026, 11, 23, 14, 5),
        f"https://hall.example/q/demo/2026-11-23/{code}",
    )


def config(url: str, profile: str = "generic-80mm") -> DeviceConfig:
    return DeviceConfig(id="kiosk-1-printer", kind="printer", url=url, profile=profile)


def test_state_on_the_bus_follows_paper_and_cover(bus_factory, hall_id: str) -> None:
    watcher = bus_factory("watcher")
    states: queue.Queue = queue.Queue()
    watcher.subscribe(
        topics.device_state(hall_id, "kiosk-1-printer"), lambda t, e: states.put((e.data["state"], e.data["detail"]))
    )
    time.sleep(0.2)
    name = f"printer-{hall_id}"
    dev = bridged(
        ReceiptPrinter(config(f"sim://printer?id={name}&line_rate=0&fault=paper_out")), bus_factory("kiosk-1"), hall_id
    ).open()
    sim = registry.instance(name)
    try:
        assert dev.state == DeviceState.ERROR and "paper out" in dev.detail  # answered, but cannot print
        with pytest.raises(PrinterNotReady) as err:
            dev.print_ticket(ticket("A001"))
        assert err.value.code == "paper_out"
        sim.paper = "near_end"
        dev.refresh()
        assert dev.state == DeviceState.DEGRADED
        sim.paper = "ok"
        dev.print_ticket(ticket("A001"))
        assert dev.state == DeviceState.READY
        seen: list[tuple[str, str]] = []
        deadline = time.time() + 5
        while time.time() < deadline and (not seen or seen[-1][0] != "ready"):
            try:
                seen.append(states.get(timeout=0.2))
            except queue.Empty:
                pass
        order = [s for s, _ in seen]
        assert "error" in order and "degraded" in order and order[-1] == "ready"
        assert order.index("error") < order.index("degraded") < len(order) - 1
        assert any("打印纸用完" in d for s, d in seen if s == "error")
        assert [p.text.splitlines()[3] for p in sim.wait_pages(1)] == ["A001"]
    finally:
        dev.close()


def test_paper_running_out_during_a_ticket_is_reported_not_lost() -> None:
    name = "printer-roll-ends"
    dev = ReceiptPrinter(config(f"sim://printer?id={name}&line_rate=0&fault=paper_out_after:1")).open()
    sim = registry.instance(name)
    try:
        dev.print_ticket(ticket("A001"))
        with pytest.raises(PrinterNotReady, match="may be incomplete") as err:
            dev.print_ticket(ticket("A002"))
        assert err.value.code == "paper_out" and dev.state == DeviceState.ERROR
        assert [p.text.splitlines()[3] for p in sim.pages] == ["A001"]
    finally:
        dev.close()


def test_58mm_printer_without_cutter_over_a_pty(tmp_path) -> None:
    sim = PrinterSimulator({"baud": "9600", "width": "384", "tear": "0.3", "out": str(tmp_path)})
    served = serve_pty(sim)
    dev = ReceiptPrinter(config(served.url, "generic-58mm")).open()
    try:
        dev.print_ticket(ticket("C003"))
        (page,) = sim.wait_pages(1)
        assert page.cut == "tear" and b"\x1dV" not in bytes(sim.received)
        lines = page.text.splitlines()
        assert "C003" in lines and "前面还有 12 人等候，" in lines  # wrapped after the comma at 32 columns
        from PIL import Image

        img = Image.open(sim.png_paths[0])
        assert img.width == 384
        assert [b.text for b in zxingcpp.read_barcodes(np.array(img))] == [ticket("C003").qr_url]
    finally:
        dev.close()
        served.stop()


def test_python_escpos_text_prints_chinese_punctuation_through_the_driver() -> None:
    # Chinese mode off until FS &; a font with GB18030's four-byte characters (the ¥ below)
    sim = PrinterSimulator({"baud": "115200", "chinese": "0", "font": "gb18030"})
    served = serve_pty(sim)
    printer = EscposPrinter(served.url, baudrate=115200, width_dots=576)
    try:
        printer.set(align="center")
        printer.textln("，。：（）「」—¥")
        printer.textln("Plain ASCII")
        printer.cut()
        (page,) = sim.wait_pages(1)
        assert page.text.splitlines()[:2] == ["，。：（）「」—¥", "Plain ASCII"]
        assert printer.profile.profile_data["media"]["width"]["pixels"] == 576
        assert printer.status().can_print
    finally:
        printer.close()
        served.stop()


def test_status_command(capsys) -> None:
    assert cli.main(["device", "printer", "status", "--url", "sim://printer?line_rate=0&fault=cover_open"]) == 1
    out = capsys.readouterr().out
    assert "cover=open" in out and "state=error" in out
    assert cli.main(["device", "printer", "status", "--url", "sim://printer?line_rate=0&fault=paper_near_end"]) == 0
    assert "paper=near end" in capsys.readouterr().out
    assert cli.main(["device", "printer", "test", "--url", "sim://printer?line_rate=0&fault=paper_out"]) == 1
    assert "paper out" in capsys.readouterr().err
    assert cli.main(["device", "printer", "status", "--url", "usb://zz:1"]) == 1
    assert "usb://VID:PID" in capsys.readouterr().err


def test_usb_printer_unplugged_and_plugged_back() -> None:
    from devices.base import DeviceOffline
    from simulators.fake_usb import FakeUsbBackend

    sim = PrinterSimulator({})
    backend = FakeUsbBackend(sim)
    dev = ReceiptPrinter(config("usb://0416:5011"), usb_backend=backend).open()
    dev.backoff_min_s = dev._backoff = 0.05
    try:
        dev.print_ticket(ticket("U001"))
        backend.unplugged = True
        with pytest.raises(DeviceOffline):
            dev.print_ticket(ticket("U002"))
        assert dev.state == DeviceState.OFFLINE
        time.sleep(0.1)
        with pytest.raises(DeviceOffline, match="no such USB device"):
            dev.print_ticket(ticket("U002"))
        backend.unplugged = False
        deadline = time.time() + 5
        while True:
            try:
                dev.print_ticket(ticket("U002"))
                break
            except DeviceOffline:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        assert dev.state == DeviceState.READY
        assert [p.text.splitlines()[3] for p in sim.wait_pages(2)] == ["U001", "U002"]
    finally:
        dev.close()


def test_a_late_status_byte_is_not_taken_for_the_next_answer() -> None:
    from devices.base import DeviceTimeout

    sim = PrinterSimulator({"baud": "115200", "fault": "delay=1.3"})
    served = serve_pty(sim)
    dev = None
    try:
        sim.faults.delay_s = 0
        dev = ReceiptPrinter(config(served.url)).open()
        sim.faults.delay_s = 1.3  # longer than the driver's 1 s reply timeout
        with pytest.raises(DeviceTimeout):
            dev.refresh()
        sim.faults.delay_s = 0
        sim.cover_open = True
        deadline = time.time() + 5
        while len(sim.sent) < 4 and time.time() < deadline:  # the late answer to DLE EOT 1 is on the line
            time.sleep(0.02)
        time.sleep(0.1)
        st = dev.refresh()
        assert st.cover_open and not st.online and dev.state == DeviceState.ERROR
    finally:
        if dev is not None:
            dev.close()
        served.stop()


def test_fake_usb_printer_class_requests() -> None:
    import usb.core

    from simulators.fake_usb import FakeUsbBackend

    sim = PrinterSimulator({"model": "XP-80C"})
    dev = usb.core.find(idVendor=0x0416, idProduct=0x5011, backend=FakeUsbBackend(sim))
    assert dev is not None and dev[0][(0, 0)].bInterfaceClass == 7  # printer class
    ident = bytes(dev.ctrl_transfer(0xA1, 0, 0, 0, 256))
    assert int.from_bytes(ident[:2], "big") == len(ident) and b"MDL:XP-80C;" in ident and b"CMD:ESC/POS" in ident
    assert bytes(dev.ctrl_transfer(0xA1, 1, 0, 0, 1)) == b"\x18"  # selected, no error, paper present
    sim.paper = "out"
    assert bytes(dev.ctrl_transfer(0xA1, 1, 0, 0, 1)) == b"\x30"  # paper empty, error
