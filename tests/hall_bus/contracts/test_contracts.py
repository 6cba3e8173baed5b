"""The bus contracts as pydantic models: one registry of every module, HallKit's error sentences,
the old defaults and the dict handlers read."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from hall_bus.bus import envelope
from hall_bus.bus.envelope import MessageError
from hall_bus.contracts import MODULES, registry
from hall_bus.contracts.queue import TicketIssue


def request(op: str, data: object) -> bytes:
    now = time.time()
    return json.dumps(
        {
            "v": 1,
            "kind": "request",
            "op": op,
            "tx": "t-1",
            "sender": "kiosk-1",
            "reply_to": "r",
            "sent_at": now,
            "expires_at": now + 5,
            "data": data,
        }
    ).encode()


def problem(op: str, data: object) -> str:
    with pytest.raises(MessageError) as err:
        envelope.parse(request(op, data))
    assert err.value.code == "invalid_data"
    return str(err.value)


def test_every_module_is_in_the_registry() -> None:
    reg = registry()
    for module in MODULES:
        for rc in module.CONTRACTS.requests:
            assert reg.requests[rc.op] is rc
    assert {
        "ticket.issue",
        "pad.evaluate",
        "case.lookup",
        "evaluation.submit",
        "pickup.open",
        "locker.open",
        "tidal.mode",
    } <= set(reg.requests)
    assert {"device.state", "tidal.load", "window.state"} <= set(reg.states)
    assert {"idcard.card", "evaluation", "pickup", "locker.door"} <= set(reg.events)


def test_a_process_that_imported_no_contract_checks_every_message() -> None:
    code = (
        "import json, time; from hall_bus.bus import envelope as e; now = time.time()\n"
        "b = {'v': 1, 'kind': 'request', 'op': 'tidal.mode', 'tx': 't', 'sender': 's', 'reply_to': 'r',"
        " 'sent_at': now, 'expires_at': now + 5, 'data': {'mode': 'x', 'actor': 'a'}}\n"
        "try:\n    e.parse(json.dumps(b).encode())\nexcept e.MessageError as x:\n    print(x.code, x)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "invalid_data data.mode: 'x' is not one of off, propose, auto"


def test_defaults_are_filled_and_absent_optionals_stay_absent() -> None:
    env = envelope.parse(request("ticket.issue", {"service": "shebao-card", "idempotency_key": "k-12345678"}))
    assert env.data == {
        "service": "shebao-card",
        "idempotency_key": "k-12345678",
        "priority": "normal",
        "channel": "kiosk",
    }
    assert isinstance(env.model, TicketIssue) and env.model.priority == "normal"


@pytest.mark.parametrize(
    ("op", "data", "message"),
    [
        (
            "ticket.issue",
            {"service": "s", "idempotency_key": "k-12345678", "priority": "x"},
            "data.priority: 'x' is not one of normal, elderly, disabled, pregnant, military",
        ),
        ("ticket.issue", {"service": "s", "idempotency_key": "abc"}, "data.idempotency_key: length 3 outside 8..64"),
        (
            "ticket.issue",
            {"service": "S!", "idempotency_key": "k-12345678"},
            "data.service: 'S!' does not match [a-z0-9][a-z0-9_-]{0,31}",
        ),
        (
            "ticket.issue",
            {"service": "s", "idempotency_key": "k-12345678", "age_years": 151},
            "data.age_years: 151 outside 0..150",
        ),
        (
            "ticket.issue",
            {"service": "s", "idempotency_key": "k-12345678", "age_years": True},
            "data.age_years: must be an integer, got bool",
        ),
        ("ticket.issue", {"service": "s", "idempotency_key": "k-12345678", "vip": 1}, "data.vip: unknown field"),
        ("ticket.issue", {"idempotency_key": "k-12345678"}, "data.service: missing"),
        ("ticket.issue", [], "data: must be an object, got list"),
        ("window.assign", {"window": 1, "domains": [], "actor": "a"}, "data.domains: 0 items, expected 1..20"),
        (
            "pickup.open",
            {"kiosk": "k1", "session_id": "0" * 16, "item_ids": ["1"]},
            "data.item_ids[0]: must be an integer, got str",
        ),
    ],
)
def test_error_sentences(op: str, data: object, message: str) -> None:
    assert problem(op, data) == message


def test_open_objects_keep_their_extra_fields() -> None:
    reg = registry()
    model = reg.states["device.state"].data
    checked = envelope.checked(model, {"id": "p1", "kind": "pad", "state": "ready", "battery": 80}, "invalid_data")
    assert checked.model_dump(exclude_unset=True) == {"id": "p1", "kind": "pad", "state": "ready", "battery": 80}
    with pytest.raises(MessageError, match=r"data.state: 'fine' is not one of"):
        envelope.checked(model, {"id": "p1", "kind": "pad", "state": "fine"}, "invalid_data")
