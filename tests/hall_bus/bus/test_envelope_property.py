"""Any bytes give an envelope or a coded rejection, never another exception (hypothesis)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hall_bus.bus import envelope as messages
from hall_bus.bus.envelope import MessageError

CODES = {"too_large", "invalid_json", "invalid_envelope", "unsupported_version", "unknown_op", "invalid_data"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)
FIELDS = (
    "v",
    "kind",
    "sender",
    "sent_at",
    "op",
    "tx",
    "reply_to",
    "expires_at",
    "data",
    "status",
    "error",
    "type",
    "state",
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "v": st.one_of(st.just(1), json_values),
        "kind": st.one_of(st.sampled_from(messages.KINDS), json_values),
        "sender": st.one_of(st.just("kiosk-1"), json_values),
        "sent_at": json_values,
        "expires_at": json_values,
        "op": st.one_of(st.sampled_from(["ticket.issue", "hall.info", "nope"]), json_values),
        "tx": json_values,
        "reply_to": json_values,
        "data": json_values,
        "status": st.one_of(st.sampled_from(["ok", "error"]), json_values),
        "error": json_values,
        "type": json_values,
        "state": json_values,
    },
)


def _parse(payload: bytes) -> None:
    try:
        messages.parse(payload)
    except MessageError as exc:
        assert exc.code in CODES, exc.code


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_any_bytes(payload: bytes) -> None:
    _parse(payload)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes)
def test_any_envelope_shaped_json(body: dict) -> None:
    _parse(json.dumps(body, allow_nan=True).encode())


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=200_000), st.sampled_from([b"[", b'{"a":', b'[{"x":']))
def test_any_nesting(depth: int, opener: bytes) -> None:
    _parse(opener * depth)
