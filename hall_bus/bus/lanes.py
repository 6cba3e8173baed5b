"""Request lanes: a server reads each client's requests on a connection of their own.

The broker writes one connection's messages in order, so if every client's requests reached the
controller on one connection, one client flooding junk would queue ahead of every other client's
requests in the broker and in TCP, whatever the controller does once it reads them. With a lane per
client (a second, third ... MQTT connection subscribed to ``client/<id>/request/+`` only), a flood
queues on the flooder's own lane, and the network thread reads the lanes in turn, a bounded burst
each, so another client's request waits for at most one burst per flooding client.
"""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hall_bus.bus.tls import tls_context

if TYPE_CHECKING:
    from hall_bus.bus.settings import BusSettings

log = logging.getLogger("hall_bus.bus.client")

LANE_BURST = 8  # packets read from one lane before the next lane's turn


class Lane:
    def __init__(
        self, name: str, topic_filter: str, settings: BusSettings, on_message: Callable[[Any, Any, Any], None]
    ) -> None:
        self.name = name
        self.topic_filter = topic_filter
        self.requester = topic_filter.split("/")[-3]  # .../client/<id>/request/+
        self.settings = settings
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=name, clean_session=True, protocol=mqtt.MQTTv311
        )
        if settings.username:
            self.client.username_pw_set(settings.username, settings.password)
        if settings.tls_ca:
            self.client.tls_set_context(tls_context(settings))
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = on_message
        self.client.on_socket_open = nodelay
        self.backoff = settings.backoff_min_s
        self.next_attempt = 0.0
        self.ever_connected = False
        self.subscribed = False  # the broker confirmed the subscription: this lane hears its client
        self.misc_due = 0.0

    def socket(self) -> Any:
        return self.client.socket()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if not getattr(reason_code, "is_failure", False):
            client.subscribe(self.topic_filter, qos=1)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: Any, reason_codes: Any, properties: Any) -> None:
        self.subscribed = True

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self.subscribed = False

    def connect_if_due(self, now: float) -> None:
        if self.client.socket() is not None or now < self.next_attempt:
            return
        try:
            if self.ever_connected:
                self.client.reconnect()
            else:
                self.client.connect(self.settings.host, self.settings.port, self.settings.keepalive_s)
            self.ever_connected = True
            self.backoff = self.settings.backoff_min_s
        except (OSError, ValueError) as exc:
            log.debug("lane %s: connect failed: %s", self.name, exc)
            self.next_attempt, self.backoff = retry_after(now, self.backoff, self.settings)

    def service(self, readable: bool, writable: bool, select_one: Callable[[Any], bool], may_read: bool = True) -> None:
        sock = self.client.socket()
        if sock is None:
            return
        if may_read and (readable or tls_pending(sock)):
            read_burst(self.client, sock, LANE_BURST, select_one)
        if self.client.socket() is not None and (writable or self.client.want_write()):
            self.client.loop_write()
        now = time.monotonic()
        if self.client.socket() is not None and now >= self.misc_due:  # keepalive: once a second is plenty
            self.misc_due = now + 1.0
            self.client.loop_misc()

    def close(self) -> None:
        try:
            if self.client.socket() is not None:
                self.client.disconnect()
        except Exception:  # pragma: no cover - best effort on the way out
            pass


def retry_after(now: float, backoff: float, settings: BusSettings) -> tuple[float, float]:
    """When to try connecting again (the backoff with jitter) and the next, doubled backoff."""
    return now + backoff * (0.8 + 0.4 * random.random()), min(backoff * 2, settings.backoff_max_s)


def nodelay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """paho's on_socket_open: small request/response messages must not wait for Nagle's algorithm
    (delayed ACKs add about 40 ms to each)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


def tls_pending(sock: object) -> bool:
    """TLS may hold decrypted bytes that select() cannot see."""
    pending = getattr(sock, "pending", None)
    return bool(pending and pending() > 0)


def read_burst(client: mqtt.Client, sock: Any, limit: int, readable_now: Callable[[Any], bool]) -> None:
    """Read what has arrived on ``client``'s socket, up to ``limit`` packets (paho reads one per call
    when idle)."""
    for _ in range(limit):
        client.loop_read()
        if client.socket() is not sock or not (tls_pending(sock) or readable_now(sock)):
            return
