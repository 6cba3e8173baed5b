"""Versioned JSON envelopes and the registry of message contracts.

Every bus payload is a JSON object with ``v`` (envelope version) and ``kind``:

* ``request``  – ``op, tx, sender, reply_to, sent_at, expires_at, data``
* ``response`` – ``op, tx, sender, sent_at, status ("ok"|"error"), data, error {code, message}``
* ``state``    – retained; ``type, sender, sent_at, data``
* ``event``    – ``type, sender, sent_at, data``
* ``availability`` – retained, also the last will; ``sender, state ("online"|"offline")``

Only MQTT 3.1.1 features are used on the wire, so reply topic, transaction id and expiry travel
inside the envelope. The ``data`` of each request op, response, state and event type is checked
against its pydantic model in the one contract registry, :func:`hall_bus.contracts.registry`
(every contract, whatever this process imported).
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from hall_bus import contracts
from hall_bus.validation import first_problem

if TYPE_CHECKING:
    from hall_bus.contracts.base import Registry, RequestContract

VERSION = 1
KINDS = ("request", "response", "state", "event", "availability")
MAX_PAYLOAD = 256 * 1024
MAX_TTL_S = 300.0  # a request may not claim to stay valid longer than this
MAX_DEPTH = 32  # JSON nesting deeper than this is refused before parsing
MAX_TIME = 1e11  # a UNIX time beyond the year 5000 is not a time
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")

M = TypeVar("M", bound=BaseModel)


class MessageError(ValueError):
    """A bus payload that breaks the contract. ``code`` is the machine-readable error code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def registry() -> Registry:
    """The one contract registry (hall_bus.contracts): every contract, whatever this process imported."""
    return contracts.registry()


def request_ops() -> list[str]:
    return sorted(registry().requests)


def contract_for(op: str) -> RequestContract:
    try:
        return registry().requests[op]
    except KeyError:
        raise MessageError("unknown_op", f"no such operation {op!r}") from None


def new_tx() -> str:
    return uuid.uuid4().hex


@dataclass
class Envelope:
    kind: str
    sender: str
    sent_at: float
    data: Any = None
    op: str = ""
    type: str = ""
    tx: str = ""
    reply_to: str = ""
    expires_at: float = 0.0
    status: str = ""
    error: dict[str, str] | None = None  # {code, message} on an error response
    state: str = ""
    v: int = VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    model: BaseModel | None = None  # the validated data as its contract's pydantic model (when checked)

    def to_json(self) -> bytes:
        body: dict[str, Any] = {"v": self.v, "kind": self.kind, "sender": self.sender}
        if self.kind == "availability":
            body["state"] = self.state
            return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        body["sent_at"] = round(self.sent_at, 6)
        if self.kind == "request":
            body.update(
                op=self.op, tx=self.tx, reply_to=self.reply_to, expires_at=round(self.expires_at, 6), data=self.data
            )
        elif self.kind == "response":
            body.update(op=self.op, tx=self.tx, status=self.status, data=self.data, error=self.error)
        else:
            body.update(type=self.type, data=self.data)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def expired(self, now: float | None = None) -> bool:
        return self.kind == "request" and (now if now is not None else time.time()) > self.expires_at


def request(
    op: str,
    data: dict[str, Any],
    sender: str,
    reply_to: str,
    ttl_s: float,
    tx: str | None = None,
    now: float | None = None,
) -> Envelope:
    now = time.time() if now is None else now
    return Envelope(
        "request", sender, now, data=data, op=op, tx=tx or new_tx(), reply_to=reply_to, expires_at=now + ttl_s
    )


def ok(req: Envelope, sender: str, data: Any) -> Envelope:
    return Envelope("response", sender, time.time(), data=data, op=req.op, tx=req.tx, status="ok")


def error(req_op: str, req_tx: str, sender: str, code: str, message: str) -> Envelope:
    return Envelope(
        "response", sender, time.time(), op=req_op, tx=req_tx, status="error", error={"code": code, "message": message}
    )


def state(type_: str, sender: str, data: Any) -> Envelope:
    return Envelope("state", sender, time.time(), data=data, type=type_)


def event(type_: str, sender: str, data: Any) -> Envelope:
    return Envelope("event", sender, time.time(), data=data, type=type_)


def availability(sender: str, online: bool) -> Envelope:
    return Envelope("availability", sender, 0.0, state="online" if online else "offline")


def _need(body: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    if key not in body:
        raise MessageError("invalid_envelope", f"envelope.{key}: missing ({what})")
    value = body[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise MessageError("invalid_envelope", f"envelope.{key}: must be {what}")
    if not isinstance(value, kind):
        raise MessageError("invalid_envelope", f"envelope.{key}: must be {what}, got {type(value).__name__}")
    return value


def _time(body: dict[str, Any], key: str) -> float:
    """A UNIX time: a finite number (not a boolean) between 0 and :data:`MAX_TIME`."""
    value = _need(body, key, (int, float), "a UNIX time")
    try:
        number = float(value)
    except OverflowError:
        raise MessageError(
            "invalid_envelope", f"envelope.{key}: {len(str(value))}-digit number is out of range"
        ) from None
    if not math.isfinite(number) or not 0 <= number <= MAX_TIME:
        raise MessageError("invalid_envelope", f"envelope.{key}: must be a UNIX time, got {str(value)[:32]}")
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse(payload: bytes, check_data: bool = True) -> Envelope:
    """Decode and validate a payload; raise MessageError with a specific code and reason.

    Whatever the bytes, the answer is an :class:`Envelope` or a :class:`MessageError` (a hostile
    payload's deep nesting, huge numbers or odd types included): nothing else escapes.
    """
    try:
        return _parse(payload, check_data)
    except MessageError:
        raise
    except RecursionError:
        raise MessageError("invalid_json", "payload is nested too deeply") from None
    except Exception as exc:  # a hostile payload must never raise anything but a coded rejection
        raise MessageError("invalid_envelope", f"payload rejected: {type(exc).__name__}") from None


def _parse(payload: bytes, check_data: bool) -> Envelope:
    if len(payload) > MAX_PAYLOAD:
        raise MessageError("too_large", f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    if _too_deep(payload):
        raise MessageError("invalid_json", f"payload is nested more than {MAX_DEPTH} levels deep")
    try:
        body = json.loads(payload, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MessageError("invalid_json", f"payload is not JSON: {str(exc)[:120]}") from None
    if not isinstance(body, dict):
        raise MessageError("invalid_envelope", f"payload must be a JSON object, got {type(body).__name__}")
    v = body.get("v")
    if type(v) is not int or v != VERSION:
        raise MessageError(
            "unsupported_version", f"envelope version {str(v)[:16]!r} is not supported (this side speaks {VERSION})"
        )
    kind = _need(body, "kind", str, "one of " + ", ".join(KINDS))
    if kind not in KINDS:
        raise MessageError("invalid_envelope", f"envelope.kind: {kind[:32]!r} is not one of {', '.join(KINDS)}")
    sender = _need(body, "sender", str, "the sending client id")
    if kind == "availability":
        st = _need(body, "state", str, "online or offline")
        if st not in ("online", "offline"):
            raise MessageError("invalid_envelope", f"envelope.state: {st[:32]!r} is not online or offline")
        return Envelope(kind, sender, 0.0, state=st)
    sent_at = _time(body, "sent_at")
    env = Envelope(kind, sender, sent_at, data=body.get("data"))
    if kind == "request":
        env.op = _need(body, "op", str, "the operation name")
        env.tx = _need(body, "tx", str, "a transaction id")
        env.reply_to = _need(body, "reply_to", str, "the topic to answer on")
        env.expires_at = _time(body, "expires_at")
        if not 1 <= len(env.tx) <= 64:
            raise MessageError("invalid_envelope", "envelope.tx: must be 1..64 characters")
        if not 0 < env.expires_at - sent_at <= MAX_TTL_S:
            raise MessageError(
                "invalid_envelope", f"envelope.expires_at: must be after sent_at and at most {MAX_TTL_S:.0f} s later"
            )
        if check_data:
            check_into(env, contract_for(env.op).request, "invalid_data")
    elif kind == "response":
        env.op = _need(body, "op", str, "the operation name")
        env.tx = _need(body, "tx", str, "a transaction id")
        env.status = _need(body, "status", str, "ok or error")
        if env.status not in ("ok", "error"):
            raise MessageError("invalid_envelope", f"envelope.status: {env.status[:16]!r} is not ok or error")
        if env.status == "error":
            err = body.get("error")
            if (
                not isinstance(err, dict)
                or not isinstance(err.get("code"), str)
                or not isinstance(err.get("message"), str)
            ):
                raise MessageError("invalid_envelope", "envelope.error: must be {code, message} on an error response")
            env.error = {"code": err["code"], "message": err["message"]}
        elif check_data and env.op in (requests := registry().requests):
            check_into(env, requests[env.op].response, "invalid_data")
    else:
        env.type = _need(body, "type", str, "the message type")
        reg = registry()
        contracts = reg.states if kind == "state" else reg.events
        if check_data and env.type in contracts:
            check_into(env, contracts[env.type].data, "invalid_data")
    return env


def _too_deep(payload: bytes) -> bool:
    """More than :data:`MAX_DEPTH` open brackets in a row, counted without parsing (strings ignored)."""
    if payload.count(b"[") + payload.count(b"{") <= MAX_DEPTH:
        return False
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", payload)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > MAX_DEPTH:
            return True
    return False


def checked(model: type[M], data: Any, code: str) -> M:
    """``data`` validated by its contract's model; MessageError(code, "data.field: problem") if it breaks it."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise MessageError(code, first_problem(exc, "data", model)) from None


def check_into(env: Envelope, model: type[BaseModel], code: str) -> None:
    """Validate ``env.data``: ``env.model`` becomes the model, ``env.data`` its plain dict (defaults filled)."""
    env.model = checked(model, env.data, code)
    env.data = env.model.model_dump(exclude_unset=True)


def model_of(env: Envelope, model: type[M]) -> M:
    """The data of ``env`` (a request, a state or an event) as its typed contract model ``model``.

    ``env.model`` when :func:`parse` already checked the data into that model; otherwise (an envelope
    built by hand, or checked against another model) ``env.data`` is validated against ``model`` now,
    raising :class:`MessageError` ``invalid_data`` as a parse would.
    """
    if isinstance(env.model, model):
        return env.model
    return checked(model, env.data, "invalid_data")
