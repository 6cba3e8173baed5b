"""The hall bus client: paho-mqtt 2.x behind one owning thread.

paho-mqtt is not fully thread-safe, so exactly one thread (the *network thread*) ever calls into
paho. Other threads hand it work through a queue and a wake-up socket. Incoming messages are
validated and handed to a *dispatch thread*, so a slow handler (a durable SQLite write) never
stalls keep-alives or other traffic.

What the client does for every HallKit component:

* connects with a last will that marks its availability topic ``offline`` (retained) and
  publishes ``online`` once connected;
* reconnects with exponential backoff and jitter, re-subscribes every filter and republishes
  every retained state it owns on each new connection (a restarted broker forgets them);
* buffers messages published while offline in a bounded queue (oldest dropped first, counted);
* request/response (:mod:`hall_bus.bus.rpc`) with a transaction id, reply topic and expiry in the
  envelope; a pending request is re-sent on reconnect and at ``retry_s`` intervals with the same transaction id, so
  a server that deduplicates by ``(sender, tx)`` executes it once;
* ``serve(op, handler)`` answers requests: expired ones are refused, malformed ones answered
  with an error response, repeated transaction ids answered from a cache, never re-executed.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import queue
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.envelope import MessageError
from hall_bus.bus.lanes import Lane, nodelay
from hall_bus.bus.network import NetworkLoop, _exit_process
from hall_bus.bus.rejects import FairInbox, RejectLog
from hall_bus.bus.rpc import (
    BusError,
    BusTimeout,
    MessageHandler,
    RequestFailed,
    RequestHandler,
    RequestResponse,
    ServiceError,
    _Pending,
    _Served,
    _Service,
)
from hall_bus.bus.settings import BusSettings
from hall_bus.bus.tls import tls_context

__all__ = [
    "BusClient",
    "BusError",
    "BusSettings",
    "BusTimeout",
    "MessageHandler",
    "RequestFailed",
    "RequestHandler",
    "ServiceError",
]

log = logging.getLogger(__name__)

MAX_INFLIGHT = 1000  # QoS 1 messages in flight (paho's default of 20 makes a busy server's answers queue)


class BusClient(NetworkLoop, RequestResponse):
    """One component's connection to the hall bus (see module docstring)."""

    def __init__(
        self, hall_id: str, client_id: str, settings: BusSettings | None = None, availability_topic: str | None = None
    ) -> None:
        self.hall_id = hall_id
        self.client_id = client_id
        self.settings = settings or BusSettings()
        self.availability_topic = availability_topic or topics.client_availability(hall_id, client_id)
        self.response_topic = topics.client_response(hall_id, client_id)
        # The MQTT-level client id is made unique per connection: two processes that (wrongly) share a
        # HallKit client id must not knock each other off the broker in an endless takeover loop. The
        # HallKit id (sender, response topic, availability, ACL user name) stays ``client_id``.
        self.mqtt_client_id = f"{client_id}-{uuid.uuid4().hex[:8]}"
        self._mqtt = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.mqtt_client_id, clean_session=True, protocol=mqtt.MQTTv311
        )
        if self.settings.username:
            self._mqtt.username_pw_set(self.settings.username, self.settings.password)
        if self.settings.tls_ca:
            self._mqtt.tls_set_context(tls_context(self.settings))
        self._mqtt.will_set(
            self.availability_topic, messages.availability(client_id, False).to_json(), qos=1, retain=True
        )
        self._mqtt.max_inflight_messages_set(MAX_INFLIGHT)
        self._mqtt.on_connect = self._on_connect
        self._mqtt.on_disconnect = self._on_disconnect
        self._mqtt.on_message = self._on_message
        self._mqtt.on_socket_open = nodelay
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._subs: dict[str, list[MessageHandler]] = {}
        self._retained: dict[str, bytes] = {}
        self._offline: collections.deque[tuple[str, bytes, bool]] = collections.deque()
        self._pending: dict[str, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._services: dict[str, _Service] = {}
        self._reply_topics: set[str] = set()
        self._error_budget: dict[str, tuple[float, float]] = {}
        self._lanes: list[Lane] = []
        self._lanes_expected = 0  # lanes asked for by serve() (made on the network thread)
        self._served: collections.OrderedDict[tuple[str, str], _Served] = collections.OrderedDict()
        self._held: list[tuple[str, bytes, bool]] | None = None  # publishes held back by held()
        self.rejects = RejectLog(client_id)
        self._inbox = FairInbox(self.rejects)  # requests waiting to be served, round robin by requester
        self.on_fatal: Callable[[str], None] = _exit_process
        self._dispatch: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._net_thread: threading.Thread | None = None
        self._dispatch_thread: threading.Thread | None = None
        self._ever_connected = False
        self._closing = False
        self.stats = collections.Counter()
        self.last_error: str = ""
        self._connection_listeners: list[Callable[[bool], None]] = []
        self._idle_hooks: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> BusClient:
        if self._net_thread:
            return self
        self._dispatch_thread = threading.Thread(
            target=self._dispatch_loop, name=f"bus-dispatch-{self.client_id}", daemon=True
        )
        self._dispatch_thread.start()
        self._net_thread = threading.Thread(target=self._network_loop, name=f"bus-net-{self.client_id}", daemon=True)
        self._net_thread.start()
        return self

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def serving(self) -> bool:
        """Connected, and every request lane's subscription confirmed by the broker."""
        lanes = list(self._lanes)
        return (
            self._connected.is_set() and len(lanes) == self._lanes_expected and all(lane.subscribed for lane in lanes)
        )

    def on_connection_change(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(connected)`` (on the dispatch thread) whenever the connection comes or goes."""
        self._connection_listeners.append(listener)

    def stop(self, timeout: float = 3.0) -> None:
        """Say ``offline``, flush, disconnect and join the threads."""
        if not self._net_thread:
            return

        def goodbye() -> None:
            self._closing = True
            if self._mqtt.socket() is not None and self._connected.is_set():
                info = self._mqtt.publish(
                    self.availability_topic, messages.availability(self.client_id, False).to_json(), qos=1, retain=True
                )
                self._flush_until(lambda: info.is_published(), 1.0)
                self._mqtt.disconnect()
            self._stopping.set()

        self._call(goodbye)
        self._net_thread.join(timeout)
        if self._net_thread.is_alive():
            self._stopping.set()
            self._wake()
            self._net_thread.join(timeout)
        self._dispatch.put(None)
        if self._dispatch_thread:
            self._dispatch_thread.join(timeout)
        self._net_thread = None
        with self._pending_lock:
            for p in self._pending.values():
                if not p.future.done():
                    p.future.set_exception(BusError("bus client stopped"))
            self._pending.clear()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> BusClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ public API (any thread)
    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """Receive validated envelopes on ``topic_filter``; handler(topic, envelope) runs on the dispatch thread."""

        def do() -> None:
            first = topic_filter not in self._subs
            self._subs.setdefault(topic_filter, []).append(handler)
            if first:
                self._subscribe_raw(topic_filter)

        self._call(do)

    def _subscribe_raw(self, topic_filter: str) -> None:
        """Network thread: subscribe now if connected (every filter is subscribed again on connect)."""
        if self._connected.is_set():
            self._mqtt.subscribe(topic_filter, qos=1)

    def publish_state(self, topic: str, type_: str, data: Any) -> None:
        """Publish retained state; it is republished after every reconnect."""
        self.publish_raw(topic, messages.state(type_, self.client_id, data).to_json(), retain=True)

    def clear_state(self, topic: str) -> None:
        """Remove a retained state topic (an empty retained message)."""

        def do() -> None:
            self._retained.pop(topic, None)
            if self._connected.is_set():
                self._mqtt.publish(topic, b"", qos=1, retain=True)

        self._call(do)

    def publish_event(self, topic: str, type_: str, data: Any) -> None:
        self.publish_raw(topic, messages.event(type_, self.client_id, data).to_json(), retain=False)

    def publish_raw(self, topic: str, payload: bytes, retain: bool = False) -> None:
        if self._held is not None and threading.current_thread() is self._dispatch_thread:
            self._held.append((topic, payload, retain))
            return
        self._call(lambda: self._publish_now(topic, payload, retain))

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold back what the dispatch thread publishes inside the block and send it when the block
        ends normally (drop it if the block raises): a request handler's state and events leave only
        after the store committed what they describe. The idle hooks run first, so what a server
        deferred (its states) goes out before the events of the block."""
        if not self.holding() and threading.current_thread() is self._dispatch_thread:
            self._held = []
            try:
                yield
            except BaseException:
                self._held = None
                raise
            held, self._held = self._held, None
            self._run_idle_hooks()
            for topic, payload, retain in held:
                self.publish_raw(topic, payload, retain)
            return
        yield

    def holding(self) -> bool:
        """Is the calling thread inside :meth:`held` (its publishes wait for the block's end)?"""
        return self._held is not None and threading.current_thread() is self._dispatch_thread

    # ------------------------------------------------------------------ network thread
    def _publish_now(self, topic: str, payload: bytes, retain: bool) -> None:
        if retain:
            self._retained[topic] = payload
        if not self._connected.is_set():
            if retain:
                return  # republished from self._retained on connect
            if len(self._offline) >= self.settings.offline_queue:
                self._offline.popleft()
                self.stats["offline_dropped"] += 1
                if self.stats["offline_dropped"] in (1, 10, 100, 1000) or self.stats["offline_dropped"] % 10000 == 0:
                    log.warning(
                        "%s: offline queue full (%d); dropped %d oldest message(s) so far",
                        self.client_id,
                        self.settings.offline_queue,
                        self.stats["offline_dropped"],
                    )
            self._offline.append((topic, payload, retain))
            return
        info = self._mqtt.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
            self.stats["publish_errors"] += 1
            log.warning("%s: publish to %s failed: %s", self.client_id, topic, mqtt.error_string(info.rc))
        self.stats["published"] += 1

    # paho callbacks: these run on the network thread
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if getattr(reason_code, "is_failure", False):
            self.last_error = f"broker refused the connection: {reason_code}"
            log.error("%s: %s", self.client_id, self.last_error)
            self.stats["refused"] += 1
            return
        self._connected.set()
        self.stats["connects"] += 1
        served_here = [f for f, service in self._services.items() if service.on_main]  # not those read on lanes
        topics_ = [(t, 1) for t in [*self._subs, *served_here, *self._reply_topics, self.response_topic]]
        self._mqtt.subscribe(topics_)
        self._mqtt.publish(
            self.availability_topic, messages.availability(self.client_id, True).to_json(), qos=1, retain=True
        )
        for topic, payload in self._retained.items():
            self._mqtt.publish(topic, payload, qos=1, retain=True)
        while self._offline:
            topic, payload, retain = self._offline.popleft()
            self._mqtt.publish(topic, payload, qos=1, retain=retain)
        with self._pending_lock:
            pending = list(self._pending.values())
        for p in pending:
            self._send_request(p)
        self._notify_connection(True)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was:
            self.stats["disconnects"] += 1
            if not self._closing:
                log.warning("%s: lost the bus connection (%s); reconnecting", self.client_id, reason_code)
            self._notify_connection(False)

    def _notify_connection(self, up: bool) -> None:
        for listener in self._connection_listeners:
            self._dispatch.put((listener, (up,)))

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._route(msg.topic, bytes(msg.payload), bool(msg.retain))
        except Exception:  # nothing a message carries may stop the network thread
            self.stats["loop_errors"] += 1
            log.exception("%s: failed to route a message on %s", self.client_id, msg.topic[:200])

    def _route(self, topic: str, payload: bytes, retain: bool) -> None:
        if not payload:
            return  # a cleared retained topic
        if topic == self.response_topic or topic in self._reply_topics:
            self._handle_response(topic, payload)
            return
        for filt, service in self._services.items():
            if mqtt.topic_matches_sub(filt, topic):
                self._inbox.put(topic, (topic, payload, retain, service))
                self._dispatch.put((self._serve_next, ()))
                return
        handlers = []
        for filt, hs in self._subs.items():
            if mqtt.topic_matches_sub(filt, topic):
                handlers.extend(hs)
        if handlers:
            self._dispatch.put((self._deliver, (topic, payload, handlers)))

    # ------------------------------------------------------------------ dispatch thread
    def _serve_next(self) -> None:
        """Serve the next request, taking requesters in turn: one client's flood delays another's
        request by at most one message per flooding client, whatever it queued before."""
        item = self._inbox.take()
        if item is not None:
            self._serve_message(*item)

    def _dispatch_loop(self) -> None:
        while True:
            item = self._dispatch.get()
            if item is None:
                return
            fn, args = item
            try:
                fn(*args)
            except Exception:
                log.exception("%s: message handler failed", self.client_id)
            if self._dispatch.empty():
                self._run_idle_hooks()

    def on_idle(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` on the dispatch thread when it has nothing left to do and at the end of every
        :meth:`held` block: a server finishes there what it defers while requests wait (the hook
        decides whether now is the time)."""
        self._idle_hooks.append(hook)

    def _run_idle_hooks(self) -> None:
        for hook in self._idle_hooks:
            try:
                hook()
            except Exception:
                log.exception("%s: idle hook failed", self.client_id)

    def requests_waiting(self) -> int:
        """Requests heard and not yet served."""
        return len(self._inbox)

    def _deliver(self, topic: str, payload: bytes, handlers: list[MessageHandler]) -> None:
        try:
            env = messages.parse(payload)
        except MessageError as exc:
            self.stats["invalid_received"] += 1
            self.rejects.note(topic, exc.code, f"a message on {topic}: {exc}")
            return
        for handler in handlers:
            handler(topic, env)
