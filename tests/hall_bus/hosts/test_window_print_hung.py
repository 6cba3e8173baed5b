"""A window whose printer hangs must not stall the hall (the bus's trust boundary: no message on any
topic can stall a component). Window 1's host here receives ``printer.print`` and never answers (a
jammed printer, or a host that hangs). While its print is pending the controller keeps serving: a
kiosk's ``ticket.issue`` is answered, and the ticket exists, before the print's outcome event comes,
also while window 1's own client (or anyone holding its credentials) floods ``mandate.print`` at the
hung printer; the flood is refused at once (``printer_busy``) and reaches the printer not at all.
The job ends as ``print_unknown`` when the controller gives up on the host, and frees the printer."""

from __future__ import annotations

import concurrent.futures
import queue
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.client import BusClient, RequestFailed
from hall_bus.controller.service import HallController
from hall_bus.controller.window_print import PRINT_TIMEOUT_S
from tests.hall_bus.features.mandates.conftest import new_mandate
from tests.hall_bus.hosts.test_window_printer import PrintEvents, with_window_printer


@dataclass
class HungHall:
    controller: HallController
    window_1: BusClient  # window 1's client: its host's printer never answers
    heard: queue.Queue[messages.Envelope]  # the printer.print requests that reached window 1's host
    kiosk: BusClient
    manager: BusClient
    events: PrintEvents

    def issue_ticket(self) -> dict[str, Any]:
        """A kiosk's ticket, and proof from the controller that it exists (its state, read back)."""
        data = {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]}
        issued: dict[str, Any] = self.kiosk.request("ticket.issue", data)
        assert issued["created"]
        found = self.manager.request("ticket.get", {"code": issued["ticket"]["code"]})["ticket"]
        assert found["id"] == issued["ticket"]["id"] and found["state"] == "waiting"
        return issued

    def print_txs(self) -> set[str]:
        """The distinct print requests window 1's host received (the controller re-sends the same tx)."""
        txs: set[str] = set()
        while True:
            try:
                txs.add(self.heard.get_nowait().tx)
            except queue.Empty:
                return txs


@pytest.fixture
def hung(tmp_hall: Path, tmp_path: Path, bus_factory: Any) -> Iterator[HungHall]:
    config = hallconfig.load(with_window_printer(tmp_hall, f"hung-{uuid.uuid4().hex[:8]}", tmp_path / "paper"))
    controller = HallController(config, bus_factory("controller")).start()
    window_1 = bus_factory("window-1")  # online, so its printer is not refused as offline
    heard: queue.Queue[messages.Envelope] = queue.Queue()
    request_topic = topics.device_request(config.hall_id, "window-1-printer", "printer.print")
    window_1.subscribe(request_topic, lambda _t, env: heard.put(env))  # heard, never answered
    events = PrintEvents(bus_factory("listener"), config.hall_id)
    try:
        yield HungHall(controller, window_1, heard, bus_factory("kiosk-1"), bus_factory("manager"), events)
    finally:
        controller.stop()


def test_a_kiosk_is_served_while_a_print_hangs_and_the_outcome_comes_after(hung: HungHall) -> None:
    m = new_mandate(hung.manager, hung.controller)
    ask = {"mandate_no": m["mandate_no"], "window": 1, "actor": "S0101"}
    queued = hung.window_1.request("mandate.print", ask)  # answered at once, not after the printer
    assert queued["queued"] is True and queued["printer"] == "window-1-printer"
    job = queued["job"]
    first = hung.heard.get(timeout=5)  # the print is at the host now, and the host says nothing
    assert first.op == "printer.print" and first.sender == "controller"

    hung.issue_ticket()  # the hall goes on: the kiosk's ticket is issued and exists ...
    assert hung.events.count(job) == 0  # ... while the print is still pending (no outcome yet)

    outcome = hung.events.of(job, timeout=PRINT_TIMEOUT_S + 10)  # the controller gives up on the host
    assert outcome is not None
    assert outcome["printed"] is False and outcome["code"] == "print_unknown" and outcome["window"] == 1
    assert set(outcome) == {"job", "window", "printer", "printed", "code", "message"}
    assert m["mandate_no"] not in str(outcome)

    again = hung.window_1.request("mandate.print", ask)  # the printer is free again for the next job
    assert again["queued"] is True and again["job"] != job


def test_a_flood_of_prints_at_a_hung_printer_does_not_hold_up_the_kiosk(hung: HungHall) -> None:
    m = new_mandate(hung.manager, hung.controller)
    ask = {"mandate_no": m["mandate_no"], "window": 1, "actor": "S0101"}
    job = hung.window_1.request("mandate.print", ask)["job"]
    first = hung.heard.get(timeout=5)  # pending at the hung host

    flood = [hung.window_1.request_async("mandate.print", ask) for _ in range(20)]  # 20 requests, 20 transactions
    hung.issue_ticket()  # served among (or after) the flood ...
    codes = []
    for answer in concurrent.futures.as_completed(flood, timeout=10):
        with pytest.raises(RequestFailed) as err:
            answer.result()
        codes.append(err.value.code)
    hung.issue_ticket()
    assert hung.events.count(job) == 0  # ... all before the first print's outcome
    assert codes == ["printer_busy"] * 20  # refused at once: one job per printer in flight
    assert hung.print_txs() <= {first.tx}  # the host heard the first print only (and its re-sends)
    outcome = hung.events.of(job, timeout=PRINT_TIMEOUT_S + 10)
    assert outcome is not None and outcome["code"] == "print_unknown"
    assert [e for e in hung.events.heard if e["printer"] != "probe"] == [outcome]  # no job of the 20 was made


def test_a_case_receipt_and_a_mandate_receipt_share_the_printer_s_one_job(hung: HungHall) -> None:
    """One job per printer whichever feature prints: a mandate's 回执 waits for the case receipt."""
    case = {"case_no": "SB20261125077", "status": "received", "actor": "M0001", "service": "shebao-card"}
    hung.manager.request("case.update", case)
    job = hung.window_1.request("case.print_receipt", {"case_no": case["case_no"], "window": 1, "actor": "S0101"})
    assert job["queued"]
    hung.heard.get(timeout=5)  # pending at the hung host
    m = new_mandate(hung.manager, hung.controller)
    with pytest.raises(RequestFailed) as err:
        hung.window_1.request("mandate.print", {"mandate_no": m["mandate_no"], "window": 1, "actor": "S0101"})
    assert err.value.code == "printer_busy"
