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
import logging
import queue
import random
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.envelope import MessageError
from hall_bus.bus.rpc import (
    BusError,
    BusSettings,
    BusTimeout,
    MessageHandler,
    RequestFailed,
    RequestHandler,
    RequestResponse,
    ServiceError,
    _is_request_topic,
    _Pending,
)

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


class _Selectable(Protocol):
    """What select() takes: a socket, or paho's socket-like."""

    def fileno(self) -> int: ...


log = logging.getLogger(__name__)


class BusClient(RequestResponse):
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
        self._mqtt.will_set(
            self.availability_topic, messages.availability(client_id, False).to_json(), qos=1, retain=True
        )
        self._mqtt.on_connect = self._on_connect
        self._mqtt.on_disconnect = self._on_disconnect
        self._mqtt.on_message = self._on_message
        self._mqtt.on_socket_open = self._on_socket_open
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._subs: dict[str, list[MessageHandler]] = {}
        self._retained: dict[str, bytes] = {}
        self._offline: collections.deque[tuple[str, bytes, bool]] = collections.deque()
        self._pending: dict[str, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._services: dict[str, RequestHandler] = {}
        self._served: dict[tuple[str, str], tuple[float, bytes, str]] = {}
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
            if first and self._connected.is_set():
                self._mqtt.subscribe(topic_filter, qos=1)

        self._call(do)

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
        self._call(lambda: self._publish_now(topic, payload, retain))

    # ------------------------------------------------------------------ network thread
    def _call(self, fn: Callable[[], None]) -> None:
        if threading.current_thread() is self._net_thread:
            fn()
            return
        self._commands.put(fn)
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):
            pass

    def _network_loop(self) -> None:
        backoff = self.settings.backoff_min_s
        next_attempt = 0.0
        while not self._stopping.is_set():
            sock = self._mqtt.socket()
            if sock is None:
                now = time.monotonic()
                if now >= next_attempt:
                    try:
                        if self._ever_connected:
                            self._mqtt.reconnect()
                        else:
                            self._mqtt.connect(self.settings.host, self.settings.port, self.settings.keepalive_s)
                        self._ever_connected = True
                        backoff = self.settings.backoff_min_s
                        continue
                    except (OSError, ValueError) as exc:
                        self.stats["connect_failures"] += 1
                        self.last_error = f"connect to {self.settings.host}:{self.settings.port} failed: {exc}"
                        log.debug("%s: %s; retry in %.2fs", self.client_id, self.last_error, backoff)
                        next_attempt = now + backoff * (0.8 + 0.4 * random.random())
                        backoff = min(backoff * 2, self.settings.backoff_max_s)
                        # paho only allows reconnect() after a first connect(); keep using connect() until then.
                wait = max(0.0, min(next_attempt - time.monotonic(), 0.5))
                self._select([self._wake_r], [], wait)
                self._run_commands()
                self._retry_requests()
                continue
            wlist = [sock] if self._mqtt.want_write() else []
            readable, writable = self._select([sock, self._wake_r], wlist, 0.25)
            if sock in readable:
                self._mqtt.loop_read()
            if self._mqtt.socket() is not None and (sock in writable or self._mqtt.want_write()):
                self._mqtt.loop_write()
            if self._wake_r in readable:
                self._run_commands()
            if self._mqtt.socket() is not None:
                self._mqtt.loop_misc()
            self._retry_requests()
        try:
            if self._mqtt.socket() is not None:
                self._mqtt.disconnect()
        except Exception:  # pragma: no cover - best effort on the way out
            pass

    def _select(
        self, rlist: Sequence[_Selectable], wlist: Sequence[_Selectable], timeout: float
    ) -> tuple[list[_Selectable], list[_Selectable]]:
        try:
            r, w, _ = select.select(rlist, wlist, [], timeout)
            return r, w
        except (OSError, ValueError, TypeError):
            return [], []

    def _run_commands(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        while True:
            try:
                fn = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                fn()
            except Exception:  # a bad command must not kill the network thread
                log.exception("%s: bus command failed", self.client_id)

    def _flush_until(self, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline and self._mqtt.socket() is not None:
            sock = self._mqtt.socket()
            if sock is None:
                return
            r, w = self._select([sock], [sock] if self._mqtt.want_write() else [], 0.05)
            if sock in r:
                self._mqtt.loop_read()
            if self._mqtt.socket() is not None and self._mqtt.want_write():
                self._mqtt.loop_write()

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
    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # Small request/response messages must not wait for Nagle's algorithm (40 ms stalls).
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if getattr(reason_code, "is_failure", False):
            self.last_error = f"broker refused the connection: {reason_code}"
            log.error("%s: %s", self.client_id, self.last_error)
            self.stats["refused"] += 1
            return
        self._connected.set()
        self.stats["connects"] += 1
        topics_ = [(t, 1) for t in self._subs]
        topics_.append((self.response_topic, 1))
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
        topic = msg.topic
        if topic == self.response_topic:
            self._handle_response(bytes(msg.payload))
            return
        if not msg.payload and msg.retain:
            return  # a cleared retained topic
        handlers = []
        for filt, hs in self._subs.items():
            if mqtt.topic_matches_sub(filt, topic):
                handlers.extend(hs)
        if handlers:
            self._dispatch.put((self._deliver, (topic, msg.payload, handlers)))

    # ------------------------------------------------------------------ dispatch thread
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

    def _deliver(self, topic: str, payload: bytes, handlers: list[MessageHandler]) -> None:
        try:
            # Requests are validated by _handle_request so that it can answer with an error.
            env = messages.parse(payload, check_data=not _is_request_topic(topic))
        except MessageError as exc:
            self.stats["invalid_received"] += 1
            log.warning("%s: rejected a message on %s: %s (%s)", self.client_id, topic, exc, exc.code)
            if _is_request_topic(topic):
                self._answer_unparseable(topic, payload, exc)
            return
        for handler in handlers:
            handler(topic, env)
