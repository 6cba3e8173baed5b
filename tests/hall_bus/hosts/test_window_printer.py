"""Receipts printed at the window: the controller -> the window host -> the receipt printer (its
simulator, sim://printer) over the real broker. The ops answer at once with the print job, and the
``print`` event tells how it ended. ``case.print_receipt`` prints the 受理回执 with the verification
code and a QR of the phone page; ``mandate.print`` the 帮办代办 回执; paper out and an open cover come
back as the event's codes; a repeated request (the same transaction) gets the same job and prints
once, also after the controller restarted; a window terminal prints at its own window only; a host
that is gone is told at once. The case receipt's PNG is saved (HALLKIT_SCREENSHOTS keeps a copy as
printer-case-receipt.png)."""

from __future__ import annotations

import os
import queue
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from hall_bus import config as hallconfig
from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.client import BusClient, RequestFailed
from hall_bus.config import HallConfig
from hall_bus.controller.service import HallController
from hall_bus.features.cases import codes
from hall_bus.hosts.window_host import WindowHost
from simulators import registry
from simulators.printer import PrinterSimulator
from tests.hall_bus.features.mandates.conftest import TOKEN, new_mandate

SHOTS = os.environ.get("HALLKIT_SCREENSHOTS")
CASE_NO = "SB20261125001"


JOB = re.compile(r"[0-9a-f]{16}")
WINDOW_1_PRINTER = re.compile(r'\n\[\[devices\]\]\nid = "window-1-printer"\n(?:[^\[\n][^\n]*\n)*')


def with_window_printer(hall_toml: Path, sim_name: str, out: Path) -> Path:
    """The test hall with a receipt printer at window 1 on a simulator of its own (hall.toml's own
    window-1-printer, if it has one, replaced)."""
    text = WINDOW_1_PRINTER.sub("\n", hall_toml.read_text(encoding="utf-8"))
    text += (
        '\n[[devices]]\nid = "window-1-printer"\nkind = "printer"\n'
        f'url = "sim://printer?id={sim_name}&out={out}&tear=0.3"\n'
        'profile = "generic-80mm"\nhost = "window-1"\nwindow = 1\n'
    )
    hall_toml.write_text(text, encoding="utf-8")
    return hall_toml


class PrintEvents:
    """The hall's ``print`` events as a listening client hears them (subscribed before it returns)."""

    def __init__(self, bus: BusClient, hall_id: str) -> None:
        self.heard: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        topic = topics.event(hall_id, "print")
        bus.subscribe(topic, self._on_event)
        probe = {"job": "0" * 16, "window": 1, "printer": "probe", "printed": False, "code": "probe", "message": ""}
        deadline = time.monotonic() + 10
        while self.of("0" * 16, timeout=0.3) is None:  # the broker has the subscription once a probe comes back
            assert time.monotonic() < deadline, "print events are not heard"
            bus.publish_event(topic, "print", probe)

    def _on_event(self, _topic: str, env: messages.Envelope) -> None:
        with self._changed:
            self.heard.append(dict(env.data))
            self._changed.notify_all()

    def of(self, job: str, timeout: float = 15.0) -> dict[str, Any] | None:
        """The event of ``job``, waiting up to ``timeout`` for it."""
        with self._changed:
            self._changed.wait_for(lambda: any(e["job"] == job for e in self.heard), timeout)
            return next((e for e in self.heard if e["job"] == job), None)

    def count(self, job: str) -> int:
        with self._changed:
            return sum(1 for e in self.heard if e["job"] == job)


@dataclass
class PrintHall:
    config: HallConfig
    controller: HallController
    host: WindowHost
    sim: PrinterSimulator
    manager: BusClient
    bus_factory: Any
    events: PrintEvents

    def print(self, op: str, data: dict[str, Any]) -> dict[str, Any]:
        """Ask ``op`` as the manager: the answer at once (queued), then the job's ``print`` event."""
        out = self.manager.request(op, data)
        assert out["queued"] is True and JOB.fullmatch(out["job"]) and out["window"] == data["window"], out
        event = self.events.of(out["job"])
        assert event is not None, f"no print event for {out}"
        assert event["window"] == out["window"] and event["printer"] == out["printer"]
        return event

    def restart_controller(self) -> None:
        self.controller.stop()
        self.controller = HallController(self.config, self.bus_factory("controller")).start()


@pytest.fixture
def hall(tmp_hall: Path, tmp_path: Path, bus_factory: Any) -> Iterator[PrintHall]:
    name = f"wp-{uuid.uuid4().hex[:8]}"
    config = hallconfig.load(with_window_printer(tmp_hall, name, tmp_path / "paper"))
    ctl = HallController(config, bus_factory("controller")).start()
    host = WindowHost(config, 1, bus_factory("window-1")).start()
    sim = registry.instance(name)
    assert isinstance(sim, PrinterSimulator) and host.printer is not None
    events = PrintEvents(bus_factory("listener"), config.hall_id)
    h = PrintHall(config, ctl, host, sim, bus_factory("manager"), bus_factory, events)
    try:
        yield h
    finally:
        host.stop()
        h.controller.stop()


def new_case(manager: BusClient, case_no: str = CASE_NO) -> dict[str, Any]:
    data = {"case_no": case_no, "status": "received", "actor": "S0101", "service": "shebao-card"}
    case: dict[str, Any] = manager.request("case.update", data)["case"]
    return case


def qr_in_png(path: Path) -> list[str]:
    """The QR codes read back from the picture of the paper (zxing-cpp)."""
    image = np.array(Image.open(path).convert("L"))
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def test_the_case_receipt_prints_the_code_and_the_phone_page_qr(hall: PrintHall) -> None:
    new_case(hall.manager)
    receipt = hall.manager.request("case.receipt", {"case_no": CASE_NO})
    out = hall.manager.request("case.print_receipt", {"case_no": CASE_NO, "window": 1, "actor": "S0101"})
    assert out == {"queued": True, "job": out["job"], "case_no": CASE_NO, "window": 1, "printer": "window-1-printer"}
    event = hall.events.of(out["job"])
    assert event is not None and event["printed"] is True and event["code"] is None, event
    assert set(event) == {"job", "window", "printer", "printed", "code", "message"}  # nothing of the case
    page = hall.sim.wait_pages(1)[0]
    text = page.text.replace("\n", "")
    for shown in ("办件受理回执", CASE_NO, "社保卡申领", "查询码", receipt["code"], "扫码后输入查询码查看办理进度"):
        assert shown in text, shown
    assert codes.matches(hall.controller.features["cases"].code_secret, hall.config.hall_id, CASE_NO, receipt["code"])
    (qr,) = page.qr_codes
    assert qr.data == receipt["page_url"] and qr.data.endswith(f"case?no={CASE_NO}")
    assert (
        receipt["code"] not in qr.data and receipt["code"].replace("-", "") not in qr.data
    )  # the QR alone opens nothing
    assert TOKEN not in text
    png = hall.sim.png_paths[0]
    assert qr_in_png(png) == [receipt["page_url"]]  # as the paper reads, not only as the bytes said
    if SHOTS:
        shutil.copy(png, Path(SHOTS) / "printer-case-receipt.png")


def test_english_case_receipt(hall: PrintHall) -> None:
    new_case(hall.manager)
    assert hall.print("case.print_receipt", {"case_no": CASE_NO, "window": 1, "lang": "en", "actor": "S0101"})[
        "printed"
    ]
    text = hall.sim.wait_pages(1)[0].text.replace("\n", "")
    assert "Case acceptance receipt" in text and "Verification code" in text and "办件受理回执" not in text


def test_the_mandate_receipt_prints_at_the_window(hall: PrintHall) -> None:
    m = new_mandate(hall.manager, hall.controller)
    event = hall.print("mandate.print", {"mandate_no": m["mandate_no"], "window": 1, "actor": "S0102"})
    assert event["printed"] and event["printer"] == "window-1-printer"
    page = hall.sim.wait_pages(1)[0]
    text = page.text.replace("\n", "")
    assert "帮办代办委托单回执" in text and m["mandate_no"] in text and "参保缴费凭证（原件）" in text
    assert [q.data for q in page.qr_codes] == [m["follow_url"]]


def test_paper_out_and_an_open_cover_come_back_as_codes_and_print_nothing(hall: PrintHall) -> None:
    new_case(hall.manager)
    ask = {"case_no": CASE_NO, "window": 1, "actor": "S0101"}
    hall.sim.paper = "out"
    event = hall.print("case.print_receipt", ask)
    assert event["printed"] is False and event["code"] == "paper_out"
    hall.sim.paper, hall.sim.cover_open = "ok", True
    assert hall.print("case.print_receipt", ask)["code"] == "cover_open"
    assert hall.sim.wait_pages(1, timeout=1.0) == []
    hall.sim.cover_open, hall.sim.offline = False, True
    assert hall.print("case.print_receipt", ask)["code"] == "printer_offline"
    hall.sim.offline = False  # the clerk closes the cover and the printer is back: the next request prints
    assert hall.print("case.print_receipt", ask)["printed"]
    assert len(hall.sim.wait_pages(1)) == 1


def test_no_printer_and_a_window_that_is_not_yours_are_refused(hall: PrintHall) -> None:
    new_case(hall.manager)
    with pytest.raises(RequestFailed) as err:
        hall.manager.request("case.print_receipt", {"case_no": CASE_NO, "window": 2, "actor": "S0101"})
    assert err.value.code == "no_printer"
    with pytest.raises(RequestFailed) as err:  # window 2's terminal may not print at window 1
        hall.bus_factory("window-2").request("case.print_receipt", {"case_no": CASE_NO, "window": 1, "actor": "S0201"})
    assert err.value.code == "forbidden"
    with pytest.raises(RequestFailed) as err:  # a printer's requests are the controller's (and the ACL's)
        hall.manager.request(
            "printer.print",
            {"window": 1, "document": {"kind": "case_receipt"}},
            topic=topics.device_request(hall.config.hall_id, "window-1-printer", "printer.print"),
        )
    assert err.value.code == "sender_mismatch"
    assert hall.sim.wait_pages(1, timeout=0.5) == []


def test_a_repeated_request_prints_once_also_after_a_controller_restart(hall: PrintHall) -> None:
    m = new_mandate(hall.manager, hall.controller)
    h = hall.config.hall_id
    answers: queue.Queue[messages.Envelope] = queue.Queue()
    hall.bus_factory("answers").subscribe(hall.manager.response_topic, lambda _t, env: answers.put(env))
    env = messages.request(
        "mandate.print",
        {"mandate_no": m["mandate_no"], "window": 1, "actor": "S0102"},
        "manager",
        hall.manager.response_topic,
        ttl_s=60,
    )
    request_topic = topics.client_request(h, "manager", "mandate.print")
    for _ in range(3):  # a network retry sends the same bytes again
        hall.manager.publish_raw(request_topic, env.to_json())
    got = [answers.get(timeout=10) for _ in range(3)]
    assert all(a.tx == env.tx and a.status == "ok" and a.data == got[0].data for a in got)  # one job
    job = got[0].data["job"]
    assert got[0].data["queued"] and (hall.events.of(job) or {}).get("printed") is True
    assert len(hall.sim.wait_pages(2, timeout=1.5)) == 1
    hall.restart_controller()
    hall.manager.publish_raw(request_topic, env.to_json())
    again = answers.get(timeout=10)  # answered from the controller's store, not printed again
    assert again.status == "ok" and again.data == got[0].data
    assert len(hall.sim.wait_pages(2, timeout=1.5)) == 1
    assert hall.host.stats["printed"] == 1 and hall.events.count(job) == 1


def test_a_window_host_that_is_gone_is_told_at_once(hall: PrintHall) -> None:
    new_case(hall.manager)
    hall.host.stop()
    hall.host.bus.stop()  # the window PC is gone: its client's availability says offline
    started = time.monotonic()
    with pytest.raises(RequestFailed) as err:
        hall.manager.request("case.print_receipt", {"case_no": CASE_NO, "window": 1, "actor": "S0101"}, timeout=10)
    assert err.value.code == "printer_offline" and time.monotonic() - started < 2.0  # not the 8 s wait
