"""Every kiosk flow declares its states and transitions; ``Flow.go`` refuses anything undeclared.

Headless and without a bus: the checks are on the state machines themselves.
"""

from __future__ import annotations

import enum

import pytest
from pydantic import BaseModel

from hall_bus.bus.client import BusTimeout, RequestFailed
from hall_bus.bus.envelope import M
from hall_bus.contracts import registry
from hall_bus.contracts.queue import TicketGet, TicketStatus
from kiosk import i18n
from kiosk.flow import Flow, FlowState, Keypad, KioskContext, TransitionError
from kiosk.pickup_flow import PickupFlow
from kiosk.progress_flow import ProgressFlow
from kiosk.rate_flow import RateFlow
from kiosk.scan_flow import ScanFlow
from kiosk.ticket_flow import TicketFlow

FLOWS = (Flow, TicketFlow, PickupFlow, ProgressFlow, RateFlow, ScanFlow)


def make(cls: type[Flow]) -> Flow:
    ctx = KioskContext(kiosk_id="kiosk-1", bus=None, hall={"open_now": True})
    return cls(ctx, autostart=False) if cls is PickupFlow else cls(ctx)


@pytest.mark.parametrize("cls", FLOWS, ids=lambda c: c.name)
def test_each_flow_declares_a_str_enum_of_states_and_its_transitions(cls: type[Flow]) -> None:
    assert issubclass(cls.State, FlowState) and issubclass(cls.State, str) and issubclass(cls.State, enum.Enum)
    assert set(cls.transitions) == set(cls.State), "every state lists where it may go (maybe nowhere)"
    for state, targets in cls.transitions.items():
        assert all(isinstance(t, cls.State) for t in targets), state
    assert cls.State(cls.initial) in cls.State
    assert set(cls.busy_states) <= set(cls.State)
    flow = make(cls)
    assert flow.state == str(flow.state) and f"{flow.state}" == flow.state.value  # compares and prints as its string


@pytest.mark.parametrize("cls", FLOWS, ids=lambda c: c.name)
def test_an_undeclared_state_is_refused(cls: type[Flow]) -> None:
    flow = make(cls)
    before = flow.state
    with pytest.raises(TransitionError, match=r"'teleport' is not a state of this flow"):
        flow.go("teleport")
    assert flow.state == before


@pytest.mark.parametrize(
    "cls, start, target",
    [
        (TicketFlow, "domain", "done"),
        (TicketFlow, "domain", "printing"),
        (PickupFlow, "idle", "waiting_close"),
        (ProgressFlow, "choose", "result"),
        (RateFlow, "entry", "thanks"),
        (ScanFlow, "intro", "done"),
    ],
)
def test_an_undeclared_transition_is_refused(cls: type[Flow], start: str, target: str) -> None:
    flow = make(cls)
    flow.state = cls.State(start)
    with pytest.raises(TransitionError, match=rf"no transition {start} -> {target}"):
        flow.go(target)
    assert flow.state == start


def test_declared_transitions_redraws_and_the_error_state_are_allowed() -> None:
    flow = make(TicketFlow)
    flow.go("service")
    assert flow.state == "service" and flow.state is TicketFlow.State.SERVICE
    flow.go("service", "redraw")
    assert flow.message == "redraw"
    flow.go("error", "a failed action")  # reachable from every state (the app's error screen)
    assert flow.state == "error"
    flow.go("domain")
    assert flow.state == "domain"


def test_a_finished_flow_ignores_late_changes() -> None:
    flow = make(RateFlow)
    flow.close()
    flow.go("thanks")  # a worker finishing after the citizen left: nothing happens, nothing raises
    assert flow.finished and flow.state == "entry"


def test_the_keypad_helper() -> None:
    pad = Keypad("0123456789ABC", 4)
    for ch in "a1x2345":
        pad.type(ch)
    assert pad.text == "A123"
    pad.backspace()
    assert pad.text == "A12"
    digits = Keypad("0123456789", 8)
    assert not digits.type("²") and not digits.type("12") and digits.text == ""
    flow = make(ProgressFlow)
    flow.type_char("c")
    flow.type_char("-")
    assert flow.typed == "C-"
    flow.close()
    assert flow.typed == ""


def test_pickup_sentences_live_in_the_one_table() -> None:
    flow = make(PickupFlow)
    flow.start()
    keys = [k for k in i18n.STRINGS if k.startswith("pickup.")]
    assert "pickup.wrong_code" in keys and "pickup.action.card" in keys
    assert flow.view()["message_zh"] == i18n.tr("pickup.identify", "zh")
    assert flow.view()["message_en"] == i18n.tr("pickup.identify", "en")
    assert flow.view()["title"] == i18n.tr("pickup.title", "zh")


class ScriptedBus:
    """Answers each request with the next scripted outcome (an exception is raised)."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)

    def call(self, op: str, request: BaseModel, reply: type[M], timeout: float = 5.0, retry_s: float = 1.0) -> M:
        assert isinstance(request, registry().requests[op].request)
        out = self.outcomes.pop(0)
        if isinstance(out, BaseException):
            raise out
        return reply.model_validate(out)


def test_requests_are_told_apart_by_code_and_a_bus_outage_is_retried() -> None:
    bus = ScriptedBus(
        RequestFailed("case.lookup", "not_found", "no case C0001"),
        BusTimeout("no answer"),
        {
            "cases": [
                {
                    "case_no": "C0001",
                    "service": "s1",
                    "service_name": "S1",
                    "title": "",
                    "status": "ready",
                    "status_zh": "",
                    "detail": "",
                    "created_at": 1.0,
                    "updated_at": 2.0,
                    "steps": [],
                }
            ]
        },
    )
    flow = ProgressFlow(KioskContext(kiosk_id="kiosk-1", bus=bus))
    flow.by_number()
    for ch in "C0001":
        flow.type_char(ch)
    flow.submit()
    assert flow.state == "none"
    flow.go("entry")
    flow.submit()
    assert flow.state == "bus_error" and flow.message == i18n.tr("error.bus")
    flow.retry()
    assert flow.state == "result" and flow.cases[0].case_no == "C0001"
    answer = make(RateFlow)
    answer.ctx.bus = ScriptedBus(RequestFailed("ticket.get", "boom", "the store is read-only"))
    got = answer.ask("ticket.get", TicketGet(code="A001"), TicketStatus, retry=None)
    assert (got.ok, got.code, got.detail) == (False, "boom", "the store is read-only")
