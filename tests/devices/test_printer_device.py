"""The receipt printer device against its simulator over sim://, a pty, TCP (port 9100 style) and fake USB."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devices.base import DeviceOffline, DeviceState, ProtocolError
from devices.config import DeviceConfig
from devices.printer import PrinterNotReady, ReceiptPrinter
from drivers.escpos_docs import QueueTicketDoc
from simulators.base import serve_pty, serve_tcp
from simulators.fake_usb import FakeUsbBackend
from simulators.printer import PrinterSimulator


def ticket(code: str = "A001") -> QueueTicketDoc:
    return QueueTicketDoc(
        "示范区政务服务中心",
        code,
        "社保卡申领",
        "社保",
        2,
        6.0,
        dt.datetime(2026, 11, 23, 10, 0),
        f"https://hall.example/q/{code}",
    )


def printer(url: str, **kw) -> ReceiptPrinter:
    return ReceiptPrinter(
        DeviceConfig(id="kiosk-1-printer", kind="printer", url=url, profile="generic-80mm"), **kw
    ).open()


def _served(kind: str, sim: PrinterSimulator):
    return serve_pty(sim) if kind == "pty" else serve_tcp(sim)


@pytest.mark.parametrize("link", ["pty", "tcp", "usb"])
def test_print_and_status_faults(link: str) -> None:
    sim = PrinterSimulator({"baud": "115200"})
    served = None
    if link == "usb":
        dev = printer("usb://0416:5011", usb_backend=FakeUsbBackend(sim))
    else:
        served = _served(link, sim)
        url = served.url.replace("socket://", "tcp://") if link == "tcp" else served.url
        dev = printer(url)
    try:
        assert dev.state == DeviceState.READY
        dev.print_ticket(ticket("A001"))
        assert [p.qr_codes[0].data for p in sim.wait_pages(1)] == ["https://hall.example/q/A001"]
        sim.paper = "near_end"
        dev.print_ticket(ticket("A002"))
        assert dev.state == DeviceState.DEGRADED and "near end" in dev.detail
        sim.paper = "out"
        with pytest.raises(PrinterNotReady) as err:
            dev.print_ticket(ticket("A003"))
        assert err.value.code == "paper_out" and dev.state == DeviceState.ERROR
        sim.paper, sim.cover_open = "ok", True
        with pytest.raises(PrinterNotReady) as err:
            dev.print_ticket(ticket("A004"))
        assert err.value.code == "cover_open"
        sim.cover_open = False
        dev.print_ticket(ticket("A005"))
        assert dev.state == DeviceState.READY
        assert [p.text.splitlines()[3] for p in sim.wait_pages(3)] == ["A001", "A002", "A005"]  # nothing lost silently
    finally:
        dev.close()
        if served:
            served.stop()


def test_unplugged_printer_goes_offline_and_comes_back() -> None:
    sim = PrinterSimulator({"line_rate": "0"})
    served = serve_tcp(sim)
    port = served.port
    dev = printer(served.url)
    dev.backoff_min_s = 0.05
    served.stop()
    with pytest.raises(DeviceOffline):
        for _ in range(3):
            dev.print_ticket(ticket())
    assert dev.state == DeviceState.OFFLINE
    served = serve_tcp(PrinterSimulator({"line_rate": "0"}), port=port)
    try:
        deadline = time.time() + 5
        while dev.state != DeviceState.READY and time.time() < deadline:
            try:
                dev.print_ticket(ticket("A009"))
            except DeviceOffline:
                time.sleep(0.1)
        assert dev.state == DeviceState.READY
    finally:
        dev.close()
        served.stop()


def test_corrupt_status_byte_is_a_protocol_error() -> None:
    dev = printer("sim://printer?line_rate=0")
    dev.driver.link.port.simulator.faults.corrupt_checksum = 1
    with pytest.raises(ProtocolError, match="status byte"):
        dev.refresh()
    assert dev.state == DeviceState.DEGRADED
    assert dev.refresh().can_print and dev.state == DeviceState.READY
    dev.close()


def test_sim_printer_command_writes_pngs(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hall_bus.cli.main",
            "sim",
            "printer",
            "--tcp",
            "0",
            "--out",
            str(tmp_path),
            "--baud",
            "115200",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("socket://127.0.0.1:")
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "hall_bus.cli.main",
                "device",
                "printer",
                "test",
                "--url",
                url.replace("socket://", "tcp://"),
                "--ticket",
                "B042",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        deadline = time.time() + 5
        while not list(tmp_path.glob("*.png")) and time.time() < deadline:
            time.sleep(0.05)
        pngs = list(tmp_path.glob("*.png"))
        assert len(pngs) == 1
        import numpy as np
        import zxingcpp
        from PIL import Image

        assert (
            zxingcpp.read_barcodes(np.array(Image.open(pngs[0])))[0].text == "B042"
        )  # the bare code: a test page has no signed phone link
    finally:
        proc.terminate()
        proc.wait(10)
