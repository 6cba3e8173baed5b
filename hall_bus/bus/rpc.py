"""Request/response on the hall bus, the half of :class:`~hall_bus.bus.client.BusClient` that pairs
messages: a request waits for the response with its transaction id (re-sent with the same ``tx``
until answered or expired), and a served request is answered once per ``(sender, tx)``; a repeat
gets the stored response and is never executed twice. Request data is checked against its contract
before the handler runs (``env.data`` the checked dict, ``env.model`` the pydantic model, read typed
with :func:`hall_bus.bus.envelope.model_of`), and the handler's answer against the response
contract. A handler answers with the response model (sent as its plain data) or a plain dict.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from pydantic import BaseModel

from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.envelope import Envelope, M, MessageError
from hall_bus.contracts.base import as_data

log = logging.getLogger("hall_bus.bus.client")

RequestHandler = Callable[[Envelope], Any]
MessageHandler = Callable[[str, Envelope], None]


class BusError(Exception):
    """Base of hall bus errors."""


class BusTimeout(BusError):
    """No response arrived before the request expired."""


class RequestFailed(BusError):
    """The other side answered with an error response."""

    def __init__(self, op: str, code: str, message: str) -> None:
        self.op, self.code = op, code
        super().__init__(f"{op}: {code}: {message}")


class ServiceError(Exception):
    """Raised by a request handler to answer with a specific error code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass
class BusSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 15
    backoff_min_s: float = 0.1
    backoff_max_s: float = 5.0
    offline_queue: int = 10_000
    dedupe_window_s: float = messages.MAX_TTL_S + 30.0


@dataclass
class _Pending:
    envelope: Envelope
    topic: str
    future: concurrent.futures.Future[Any]
    next_send: float
    retry_s: float


class RequestResponse:
    """Requests out, responses in, and requests served with de-duplication (mixed into BusClient)."""

    hall_id: str
    client_id: str
    response_topic: str
    settings: BusSettings
    stats: collections.Counter[str]
    last_error: str
    _pending: dict[str, _Pending]
    _pending_lock: threading.Lock
    _services: dict[str, RequestHandler]
    _served: dict[tuple[str, str], tuple[float, bytes, str]]
    _connected: threading.Event

    if TYPE_CHECKING:

        def _call(self, fn: Callable[[], None]) -> None: ...
        def _publish_now(self, topic: str, payload: bytes, retain: bool) -> None: ...
        def publish_raw(self, topic: str, payload: bytes, retain: bool = False) -> None: ...
        def subscribe(self, topic_filter: str, handler: MessageHandler) -> None: ...

    # ------------------------------------------------------------------ requester (any thread)
    def request(
        self, op: str, data: dict[str, Any], timeout: float = 5.0, retry_s: float = 1.0, topic: str | None = None
    ) -> Any:
        """Send a request to the controller (or ``topic``) and wait for its response data.

        Raises BusTimeout when nothing answers before ``timeout`` (the request's expiry),
        RequestFailed when the answer is an error response.
        """
        return self.request_async(op, data, timeout, retry_s, topic).result(timeout + 1.0)

    def call(
        self,
        op: str,
        request: BaseModel,
        reply: type[M],
        timeout: float = 5.0,
        retry_s: float = 1.0,
        topic: str | None = None,
    ) -> M:
        """The typed :meth:`request`: ``request`` is the op's request model, the answer comes back as
        ``reply`` (the op's response model in its contract; a mismatch is a programming error)."""
        contract = messages.registry().requests.get(op)
        if contract is None or not isinstance(request, contract.request) or not issubclass(contract.response, reply):
            raise TypeError(
                f"{op}: the contract takes {contract.request.__name__ if contract else '?'} and answers "
                f"{contract.response.__name__ if contract else '?'}, not {type(request).__name__} -> {reply.__name__}"
            )
        return reply.model_validate(self.request(op, as_data(request), timeout, retry_s, topic))

    def request_async(
        self, op: str, data: dict[str, Any], timeout: float = 5.0, retry_s: float = 1.0, topic: str | None = None
    ) -> concurrent.futures.Future[Any]:
        env = messages.request(op, data, self.client_id, self.response_topic, ttl_s=timeout)
        target = topic or topics.controller_request(self.hall_id, op)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        pending = _Pending(env, target, future, time.monotonic() + retry_s, retry_s)
        with self._pending_lock:
            self._pending[env.tx] = pending
        self._call(lambda: self._send_request(pending))
        return future

    def serve(self, topic_filter: str, handler: RequestHandler) -> None:
        """Answer requests arriving on ``topic_filter`` with ``handler(envelope) -> data``.

        The handler runs on the dispatch thread, one request at a time, in arrival order.
        """
        self._services[topic_filter] = handler
        self.subscribe(topic_filter, self._handle_request)

    # ------------------------------------------------------------------ requester (network thread)
    def _send_request(self, pending: _Pending) -> None:
        if pending.future.done():
            return
        self._publish_now(pending.topic, pending.envelope.to_json(), False) if self._connected.is_set() else None
        pending.next_send = time.monotonic() + pending.retry_s

    def _retry_requests(self) -> None:
        now_wall = time.time()
        now = time.monotonic()
        expired = []
        with self._pending_lock:
            items = list(self._pending.items())
        for tx, p in items:
            if p.future.done():
                expired.append(tx)
            elif now_wall > p.envelope.expires_at:
                p.future.set_exception(
                    BusTimeout(
                        f"{p.envelope.op}: no response within the request's lifetime"
                        + (
                            ""
                            if self._connected.is_set()
                            else f" (bus not connected: {self.last_error or 'connecting'})"
                        )
                    )
                )
                expired.append(tx)
            elif self._connected.is_set() and now >= p.next_send:
                self.stats["request_retries"] += 1
                self._send_request(p)
        if expired:
            with self._pending_lock:
                for tx in expired:
                    self._pending.pop(tx, None)

    def _handle_response(self, payload: bytes) -> None:
        try:
            env = messages.parse(payload)
        except MessageError as exc:
            self.stats["invalid_received"] += 1
            log.warning("%s: rejected a response: %s", self.client_id, exc)
            return
        with self._pending_lock:
            pending = self._pending.pop(env.tx, None)
        if pending is None or pending.future.done():
            self.stats["late_responses"] += 1
            return
        if env.status == "ok":
            pending.future.set_result(env.data)
        else:
            err = env.error or {"code": "internal", "message": "error response without an error"}
            pending.future.set_exception(RequestFailed(env.op, err["code"], err["message"]))

    # ------------------------------------------------------------------ server (dispatch thread)
    def _answer_unparseable(self, topic: str, payload: bytes, exc: MessageError) -> None:
        """A request we cannot parse still gets an error response when it names a reply topic."""
        try:
            body = json.loads(payload)
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        reply_to, tx, sender = body.get("reply_to"), body.get("tx"), body.get("sender")
        try:
            expected = topics.client_response(self.hall_id, sender) if isinstance(sender, str) else None
        except ValueError:
            expected = None
        if expected and reply_to == expected and isinstance(tx, str) and len(tx) <= 64:
            op = body.get("op")
            if not isinstance(op, str):
                op = topics.last_segment(topic)
            self.publish_raw(reply_to, messages.error(op, tx, self.client_id, exc.code, str(exc)).to_json())

    def _handle_request(self, topic: str, env: Envelope) -> None:
        if env.kind != "request":
            log.warning("%s: ignored a %s message on request topic %s", self.client_id, env.kind, topic)
            return
        try:
            expected_reply = topics.client_response(self.hall_id, env.sender)
        except ValueError:
            expected_reply = ""
        if env.reply_to != expected_reply:
            # Answering on an arbitrary topic would let a client make us publish anywhere.
            self.stats["invalid_received"] += 1
            log.warning(
                "%s: dropped request %s from %r: reply_to %r is not that client's response topic",
                self.client_id,
                env.op,
                env.sender,
                env.reply_to,
            )
            return
        key = (env.sender, env.tx)
        now = time.time()
        cached = self._served.get(key)
        if cached is not None:
            self.stats["duplicate_requests"] += 1
            self.publish_raw(cached[2], cached[1])
            return
        if env.op != topics.last_segment(topic):
            reply = messages.error(
                env.op,
                env.tx,
                self.client_id,
                "invalid_envelope",
                f"op {env.op!r} sent to the topic of {topics.last_segment(topic)!r}",
            )
        elif env.expired(now):
            self.stats["expired_requests"] += 1
            log.warning(
                "%s: refused expired request %s tx=%s from %s (%.1fs late)",
                self.client_id,
                env.op,
                env.tx,
                env.sender,
                now - env.expires_at,
            )
            reply = messages.error(
                env.op,
                env.tx,
                self.client_id,
                "expired",
                f"request expired {now - env.expires_at:.1f}s ago; not executed",
            )
        else:
            handler = None
            for filt, h in self._services.items():
                if mqtt.topic_matches_sub(filt, topic):
                    handler = h
                    break
            try:
                if handler is None:
                    raise ServiceError("unknown_op", f"no service for {env.op!r}")
                contract = messages.contract_for(env.op)
                messages.check_into(env, contract.request, "invalid_data")
                result = handler(env)
                if isinstance(result, BaseModel):
                    result = as_data(result)
                messages.checked(contract.response, result, "internal")  # our own answer must keep the contract too
                reply = messages.ok(env, self.client_id, result)
            except ServiceError as exc:
                reply = messages.error(env.op, env.tx, self.client_id, exc.code, str(exc))
            except MessageError as exc:
                reply = messages.error(env.op, env.tx, self.client_id, exc.code, str(exc))
            except Exception as exc:  # the service must answer, never crash
                log.exception("%s: request %s failed", self.client_id, env.op)
                reply = messages.error(env.op, env.tx, self.client_id, "internal", f"{type(exc).__name__}: {exc}")
        payload = reply.to_json()
        self._served[key] = (now + self.settings.dedupe_window_s, payload, env.reply_to)
        if len(self._served) > 50_000 or self.stats["served"] % 1000 == 0:
            self._served = {k: v for k, v in self._served.items() if v[0] > now}
        self.stats["served"] += 1
        self.publish_raw(env.reply_to, payload)


def _is_request_topic(topic: str) -> bool:
    return "/request/" in topic
