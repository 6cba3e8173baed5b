"""The typed request: a request model out, the response model back, checked against the op's contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.contracts.queue import TicketGet, TicketIssue, TicketIssued, TicketStatus
from hall_bus.controller.service import HallController


def test_a_ticket_issued_and_looked_up_typed(tmp_hall: Path, bus_factory) -> None:
    ctl = HallController(hallconfig.load(tmp_hall), bus_factory("controller")).start()
    try:
        kiosk = bus_factory("kiosk-1")
        issued = kiosk.call(
            "ticket.issue", TicketIssue(service="shebao-card", idempotency_key="typed-0001"), TicketIssued
        )
        assert isinstance(issued, TicketIssued) and issued.created and issued.ticket.code.startswith("A")
        status = kiosk.call("ticket.get", TicketGet(code=issued.ticket.code), TicketStatus)
        assert status.ticket.id == issued.ticket.id and status.waiting_ahead >= 0
    finally:
        ctl.stop()


def test_a_model_that_is_not_the_ops_contract_is_refused_before_sending(bus_factory) -> None:
    kiosk = bus_factory("kiosk-1")
    with pytest.raises(TypeError, match="ticket.get: the contract takes TicketGet"):
        kiosk.call("ticket.get", TicketIssue(service="shebao-card", idempotency_key="typed-0002"), TicketIssued)
