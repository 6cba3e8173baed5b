"""The bus client's network thread: the one thread that calls into paho, driven by select() on the
MQTT socket and a wake-up socket, supervised so that nothing a message carries can stop it (mixed into
:class:`~hall_bus.bus.client.BusClient`)."""

from __future__ import annotations

import collections
import logging
import os
import queue
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import paho.mqtt.client as mqtt

from hall_bus.bus.lanes import Lane, read_burst, retry_after, tls_pending

if TYPE_CHECKING:
    from hall_bus.bus.rejects import FairInbox
    from hall_bus.bus.settings import BusSettings

log = logging.getLogger("hall_bus.bus.client")


class _Selectable(Protocol):
    """What select() takes: a socket, or paho's socket-like."""

    def fileno(self) -> int: ...


log = logging.getLogger(__name__)

FATAL_FAILURES = 20  # network loop failures ...
FATAL_WINDOW_S = 10.0  # ... within this many seconds: the client cannot recover


def _exit_process(reason: str) -> None:
    """The default ``on_fatal``: a component whose bus is broken beyond repair exits non-zero, so its
    supervisor (systemd, run.sh) starts it again."""
    log.critical("%s; exiting so that the supervisor restarts this process", reason)
    logging.shutdown()
    os._exit(70)


READ_BURST = 500  # packets read in one turn of the loop before the other work gets its turn
PAUSED_POLL_S = 0.005  # while a flooding client is not read, how often to look whether it may be again


class NetworkLoop:
    client_id: str
    settings: BusSettings
    stats: collections.Counter[str]
    last_error: str
    on_fatal: Callable[[str], None]
    _mqtt: mqtt.Client
    _net_thread: threading.Thread | None
    _commands: queue.SimpleQueue[Callable[[], None]]
    _wake_r: socket.socket
    _wake_w: socket.socket
    _stopping: threading.Event
    _ever_connected: bool
    _lanes: list[Lane]
    _inbox: FairInbox

    if TYPE_CHECKING:

        def _retry_requests(self) -> None: ...

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

    def _network_steps(self) -> None:
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
                        next_attempt, backoff = retry_after(now, backoff, self.settings)
                        # paho only allows reconnect() after a first connect(); keep using connect() until then.
                wait = max(0.0, min(next_attempt - time.monotonic(), 0.5))
                self._select([self._wake_r], [], wait)
                self._run_commands()
                self._retry_requests()
                continue
            now = time.monotonic()
            lanes = []
            for lane in self._lanes:
                lane.connect_if_due(now)
                if lane.socket() is not None:
                    lanes.append((lane, lane.socket()))
            wlist = [sock] if self._mqtt.want_write() else []
            wlist += [ls for lane, ls in lanes if lane.client.want_write()]
            # A client with its fill of requests waiting is not read until they are served: the rest of
            # its flood waits in the broker (which drops what overflows that client's queue) instead of
            # costing this process the reading, decrypting and dropping of every message.
            full = {lane.name for lane, _ in lanes if self._inbox.full(lane.requester)}
            rlist = [sock, self._wake_r, *(ls for lane, ls in lanes if lane.name not in full)]
            readable, writable = self._select(rlist, wlist, PAUSED_POLL_S if full else 0.25)
            if sock in readable or tls_pending(sock):
                read_burst(self._mqtt, sock, READ_BURST, self._readable_now)
            for lane, ls in lanes:  # each client's lane in turn, a bounded burst each
                lane.service(ls in readable, ls in writable, self._readable_now, may_read=lane.name not in full)
            if self._mqtt.socket() is not None and (sock in writable or self._mqtt.want_write()):
                self._mqtt.loop_write()
            if self._wake_r in readable:
                self._run_commands()
            if self._mqtt.socket() is not None:
                self._mqtt.loop_misc()
            self._retry_requests()

    def _network_loop(self) -> None:
        """The network thread: :meth:`_network_step` supervised. An unexpected exception is logged and
        the loop goes on (reconnecting if the socket is gone); if the client keeps failing, the process
        is told (``on_fatal``, which exits non-zero so a supervisor restarts it)."""
        failures: collections.deque[float] = collections.deque(maxlen=FATAL_FAILURES)
        while not self._stopping.is_set():
            try:
                self._network_steps()
            except Exception as exc:
                self.stats["loop_errors"] += 1
                now = time.monotonic()
                failures.append(now)
                log.exception("%s: bus network loop failed; going on", self.client_id)
                if len(failures) == FATAL_FAILURES and now - failures[0] < FATAL_WINDOW_S:
                    self.on_fatal(f"{self.client_id}: the bus network loop failed {FATAL_FAILURES} times: {exc}")
                    return
                try:
                    if self._mqtt.socket() is not None:
                        self._mqtt.disconnect()
                except Exception:
                    pass
                time.sleep(0.05)
        for lane in self._lanes:
            lane.close()
        try:
            if self._mqtt.socket() is not None:
                self._mqtt.disconnect()
        except Exception:  # pragma: no cover - best effort on the way out
            pass

    def _readable_now(self, sock: _Selectable) -> bool:
        return bool(self._select([sock], [], 0.0)[0])

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
