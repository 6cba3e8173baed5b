"""Request/response on the hall bus, the half of :class:`~hall_bus.bus.client.BusClient` that pairs
messages: a request waits for the response with its transaction id (re-sent with the same ``tx``
until answered or expired), and a served request is answered once per ``(requester, tx)``; a repeat
gets the stored response and is never executed twice (in memory, bounded; the controller also keeps
the answers of requests with effects in its store, so a restart does not forget them). The requester
is who the broker let write the request's topic (:func:`hall_bus.bus.topics.request_route`); a request
whose envelope names another sender, arrives retained, lies outside the allowed clock skew or has
expired is refused with its code, and the refusal is logged rate-limited (:mod:`hall_bus.bus.rejects`). Request data is checked against its contract
before the handler runs (``env.data`` the checked dict, ``env.model`` the pydantic model, read typed
with :func:`hall_bus.bus.envelope.model_of`), and the handler's answer against the response
contract. A handler answers with the response model (sent as its plain data) or a plain dict.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.envelope import Envelope, M, MessageError
from hall_bus.bus.lanes import Lane
from hall_bus.bus.rejects import RejectLog
from hall_bus.bus.settings import BusSettings
from hall_bus.contracts.base import as_data

log = logging.getLogger("hall_bus.bus.client")

ERROR_ANSWERS_PER_S = 20.0  # error answers per requester and second, after a burst of ...
ERROR_BURST = 100.0
ERROR_MARK = b',"status":"error",'  # how an error answer reads (Envelope.to_json writes status before data)

RequestHandler = Callable[[Envelope], Any]
RequestGuard = Callable[[Envelope], None]  # raises ServiceError to refuse
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
class _Pending:
    envelope: Envelope
    topic: str
    reply_topic: str
    future: concurrent.futures.Future[Any]
    next_send: float
    retry_s: float


@dataclass(frozen=True)
class _Service:
    handler: RequestHandler
    guard: RequestGuard | None
    on_main: bool = True  # heard on the main connection (False: on request lanes of their own)


@dataclass
class _Served:
    expires_at: float
    payload: bytes
    reply_topic: str


class RequestResponse:
    """Requests out, responses in, and requests served with de-duplication (mixed into BusClient)."""

    hall_id: str
    client_id: str
    response_topic: str
    settings: BusSettings
    stats: collections.Counter[str]
    rejects: RejectLog
    last_error: str
    _pending: dict[str, _Pending]
    _pending_lock: threading.Lock
    _services: dict[str, _Service]
    _reply_topics: set[str]
    _served: collections.OrderedDict[tuple[str, str], _Served]
    _error_budget: dict[str, tuple[float, float]]
    _lanes: list[Lane]
    _lanes_expected: int
    mqtt_client_id: str
    _connected: threading.Event

    if TYPE_CHECKING:

        def _call(self, fn: Callable[[], None]) -> None: ...
        def _publish_now(self, topic: str, payload: bytes, retain: bool) -> None: ...
        def publish_raw(self, topic: str, payload: bytes, retain: bool = False) -> None: ...
        def _subscribe_raw(self, topic_filter: str) -> None: ...
        def clear_state(self, topic: str) -> None: ...
        def _on_message(self, client: Any, userdata: Any, msg: Any) -> None: ...

    # ------------------------------------------------------------------ requester (any thread)
    def request(
        self, op: str, data: dict[str, Any], timeout: float = 5.0, retry_s: float = 1.0, topic: str | None = None
    ) -> Any:
        """Send a request to the controller (or ``topic``, a device's request topic) and wait for its
        response data.

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
        target = topic or topics.client_request(self.hall_id, self.client_id, op)
        route = topics.request_route(self.hall_id, target)
        if route is None:
            raise ValueError(f"{target} is not a request topic")
        env = messages.request(op, data, self.client_id, route.reply_topic, ttl_s=timeout)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        pending = _Pending(env, target, route.reply_topic, future, time.monotonic() + retry_s, retry_s)
        with self._pending_lock:
            self._pending[env.tx] = pending

        def send() -> None:
            if route.reply_topic != self.response_topic and route.reply_topic not in self._reply_topics:
                self._reply_topics.add(route.reply_topic)  # a device's answers: listen before asking
                self._subscribe_raw(route.reply_topic)
            self._send_request(pending)

        self._call(send)
        return future

    def serve(
        self,
        topic_filter: str,
        handler: RequestHandler,
        guard: RequestGuard | None = None,
        lanes: Sequence[str] = (),
    ) -> None:
        """Answer requests arriving on ``topic_filter`` with ``handler(envelope) -> data``.

        The requester is the client the topic belongs to (:func:`topics.request_route`), which the
        broker authenticated; ``env.sender`` must say the same. ``guard(env)`` (who may call the op at
        all) runs before the request's data is read, the handler after it was checked. Both run on the
        dispatch thread, one request at a time, requesters taken in turn.

        ``lanes``: filters within ``topic_filter`` (one client's requests each) read on connections of
        their own (:mod:`hall_bus.bus.lanes`), instead of ``topic_filter`` on the main connection.
        """

        self._lanes_expected += len(lanes)

        def do() -> None:
            self._services[topic_filter] = _Service(handler, guard, on_main=not lanes)
            if not lanes:
                self._subscribe_raw(topic_filter)
            for i, lane_filter in enumerate(lanes):
                self._lanes.append(Lane(f"{self.mqtt_client_id}-l{i}", lane_filter, self.settings, self._on_message))

        self._call(do)

    def wrap_service(self, topic_filter: str, wrap: Callable[[RequestHandler], RequestHandler | None]) -> None:
        """Replace the handler serving ``topic_filter`` with ``wrap(current handler)`` (e.g. to time it),
        on the network thread after the ``serve`` calls made before; ``wrap`` returning None keeps it."""

        def do() -> None:
            current = self._services.get(topic_filter)
            if current is None:
                log.warning("%s serves no %s; nothing to wrap", self.client_id, topic_filter)
                return
            replacement = wrap(current.handler)
            if replacement is not None:
                self._services[topic_filter] = dataclasses.replace(current, handler=replacement)

        self._call(do)

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
        self.rejects.flush()

    def _handle_response(self, topic: str, payload: bytes) -> None:
        try:
            env = messages.parse(payload)
        except MessageError as exc:
            self.stats["invalid_received"] += 1
            self.rejects.note(topic, exc.code, f"a response on {topic}: {exc}")
            return
        with self._pending_lock:
            pending = self._pending.get(env.tx)
            if pending is not None and pending.reply_topic == topic and pending.envelope.op == env.op:
                del self._pending[env.tx]
            else:
                pending = None
        if pending is None or pending.future.done():
            self.stats["late_responses"] += 1
            return
        if env.status == "ok":
            pending.future.set_result(env.data)
        else:
            err = env.error or {"code": "internal", "message": "error response without an error"}
            pending.future.set_exception(RequestFailed(env.op, err["code"], err["message"]))

    # ------------------------------------------------------------------ server (dispatch thread)
    def _serve_message(self, topic: str, payload: bytes, retained: bool, service: _Service) -> None:
        route = topics.request_route(self.hall_id, topic)
        if route is None:
            self.rejects.note("?", "invalid_topic", f"a request on {topic}, which is not a request topic")
            return
        try:
            env = messages.parse(payload, check_data=False)
            if env.kind != "request":
                raise MessageError("invalid_envelope", f"a {env.kind} message on a request topic")
        except MessageError as exc:
            self.stats["invalid_received"] += 1
            self.rejects.note(route.requester, exc.code, f"{topic}: {exc}")
            self._answer_unparseable(route, payload, exc)
            return
        reply = self._answer(route, env, retained, service)
        if ERROR_MARK not in reply[:512] or self._may_answer_error(route.requester):
            self.publish_raw(route.reply_topic, reply)

    def _answer_unparseable(self, route: topics.RequestRoute, payload: bytes, exc: MessageError) -> None:
        """A request we cannot parse still gets an error response when its tx can be read; the answer
        goes to the authenticated requester's topic, never to a topic named in the payload."""
        try:
            body = json.loads(payload) if len(payload) <= messages.MAX_PAYLOAD and exc.code != "invalid_json" else None
        except (ValueError, RecursionError):
            return
        tx = body.get("tx") if isinstance(body, dict) else None
        if isinstance(tx, str) and 1 <= len(tx) <= 64 and self._may_answer_error(route.requester):
            self.publish_raw(
                route.reply_topic, messages.error(route.op, tx, self.client_id, exc.code, str(exc)[:300]).to_json()
            )

    def _may_answer_error(self, requester: str) -> bool:
        """A token bucket per requester for error answers: a client that floods bad requests is told
        about the first ones, the rest are only counted (their answers would queue before others')."""
        now = time.monotonic()
        tokens, since = self._error_budget.get(requester, (ERROR_BURST, now))
        tokens = min(ERROR_BURST, tokens + (now - since) * ERROR_ANSWERS_PER_S)
        if len(self._error_budget) > 10_000:
            self._error_budget.clear()
        if tokens < 1.0:
            self._error_budget[requester] = (tokens, now)
            self.stats["error_answers_withheld"] += 1
            return False
        self._error_budget[requester] = (tokens - 1.0, now)
        return True

    def _refuse(self, route: topics.RequestRoute, env: Envelope, code: str, message: str) -> bytes:
        self.stats[f"refused_{code}"] += 1
        self.rejects.note(route.requester, code, f"{route.op} tx={env.tx[:64]}: {message}")
        return messages.error(route.op, env.tx, self.client_id, code, message).to_json()

    def _answer(self, route: topics.RequestRoute, env: Envelope, retained: bool, service: _Service) -> bytes:
        now = time.time()
        if retained:
            # A request is an act, not a state: a retained one would run again on every start.
            if route.requester != topics.CONTROLLER:  # a device's request topic is not its host's to clear
                self.clear_state(topics.client_request(self.hall_id, route.requester, route.op))
            return self._refuse(route, env, "retained_request", "a request must not be retained; cleared, not run")
        if env.sender != route.requester:
            return self._refuse(
                route, env, "sender_mismatch", f"sender {env.sender[:64]!r} is not the authenticated client"
            )
        if env.op != route.op:
            return self._refuse(route, env, "invalid_envelope", f"op {env.op[:64]!r} sent to the topic of {route.op!r}")
        if env.reply_to != route.reply_topic:
            return self._refuse(route, env, "invalid_envelope", f"reply_to must be {route.reply_topic}")
        key = (route.requester, env.tx)
        cached = self._served.get(key)
        if cached is not None:
            self.stats["duplicate_requests"] += 1
            return cached.payload
        if env.expired(now):
            self.stats["expired_requests"] += 1
            return self._refuse(route, env, "expired", f"request expired {now - env.expires_at:.1f}s ago; not executed")
        skew = env.sent_at - now
        if abs(skew) > self.settings.max_clock_skew_s:
            return self._refuse(
                route,
                env,
                "clock_skew",
                f"sent_at is {skew:+.0f} s from the server's clock (at most ±{self.settings.max_clock_skew_s:.0f} s)",
            )
        try:
            contract = messages.contract_for(env.op)
            if service.guard is not None:
                service.guard(env)
            messages.check_into(env, contract.request, "invalid_data")
            result = service.handler(env)
            if isinstance(result, BaseModel):
                result = as_data(result)
            messages.checked(contract.response, result, "internal")  # our own answer keeps the contract too
            payload = messages.ok(env, self.client_id, result).to_json()
        except (ServiceError, MessageError) as exc:
            payload = messages.error(env.op, env.tx, self.client_id, exc.code, str(exc)).to_json()
        except Exception as exc:  # the service must answer, never crash
            log.exception("%s: request %s failed", self.client_id, env.op)
            payload = messages.error(
                env.op, env.tx, self.client_id, "internal", f"{type(exc).__name__}: {exc}"
            ).to_json()
        self._remember(key, _Served(env.expires_at + self.settings.max_clock_skew_s, payload, route.reply_topic), now)
        self.stats["served"] += 1
        return payload

    def _remember(self, key: tuple[str, str], served: _Served, now: float) -> None:
        """Keep an answer while its request could come again; O(1) per request, bounded."""
        self._served[key] = served
        self._served.move_to_end(key)
        while self._served:
            oldest = next(iter(self._served.values()))
            if oldest.expires_at > now and len(self._served) <= self.settings.dedupe_max:
                break
            self._served.popitem(last=False)

    @property
    def dedupe_entries(self) -> int:
        return len(self._served)
