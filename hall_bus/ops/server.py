"""The controller's monitoring endpoint: ``/metrics`` (Prometheus text format) and ``/healthz``.

``/healthz`` answers 200 when the controller's bus client is connected and its store answers a query
within two seconds (the store lock is free: no request is stuck in a transaction), 503 otherwise,
with a short JSON body saying which::

    {"status": "ok", "bus": "connected", "store": "ok"}
    {"status": "unavailable", "bus": "disconnected", "store": "ok"}

Served on ``[monitoring] host:port`` (default off; ``127.0.0.1:9464`` when on) by a small threaded
HTTP server of the standard library, beside the controller in the same process:
``start_monitoring(controller, config)`` after the controller started, ``.stop()`` before it stops.
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from hall_bus.bus import topics
from hall_bus.config import HallConfig
from hall_bus.controller.service import HallController
from hall_bus.controller.store import Store
from hall_bus.ops.clock import ClockHook, ClockWatch
from hall_bus.ops.metrics import BusWatch, HallCollector, RequestTimer, StoreWatch, time_requests, untime_requests
from hall_bus.ops.settings import MonitoringSettings, backup_settings, monitoring_settings

log = logging.getLogger(__name__)

STORE_WAIT_S = 2.0


class MonitoringError(RuntimeError):
    """The monitoring endpoint cannot run as [monitoring] asks (e.g. its port is taken)."""


def store_answers(store: Store, wait_s: float = STORE_WAIT_S) -> str:
    """``ok``, or why the controller's own store connection does not answer."""
    if not store.lock.acquire(timeout=wait_s):
        return f"busy for more than {wait_s:g} s"
    try:
        store.db.execute("SELECT 1").fetchone()
        return "ok"
    except sqlite3.Error as exc:
        return f"error: {exc}"
    finally:
        store.lock.release()


def health(controller: HallController) -> tuple[bool, dict[str, str]]:
    bus = "connected" if controller.bus.connected else "disconnected"
    store = store_answers(controller.store)
    ok = bus == "connected" and store == "ok"
    return ok, {"status": "ok" if ok else "unavailable", "bus": bus, "store": store}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    metrics: Callable[[], bytes]
    healthz: Callable[[], tuple[bool, dict[str, str]]]


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            try:
                self._send(200, CONTENT_TYPE_LATEST, self.server.metrics())
            except Exception as exc:  # a scrape that fails says so; the controller goes on
                log.exception("metrics scrape failed")
                self._send(500, "text/plain; charset=utf-8", f"metrics unavailable: {exc}\n".encode())
        elif path == "/healthz":
            ok, body = self.server.healthz()
            self._send(200 if ok else 503, "application/json", json.dumps(body).encode() + b"\n")
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class Monitoring:
    """The endpoint of one controller (nothing runs when ``[monitoring] enabled`` is false)."""

    def __init__(
        self,
        controller: HallController,
        settings: MonitoringSettings,
        backup_dir: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.controller, self.settings, self.backup_dir, self.clock = controller, settings, backup_dir, clock
        self.registry = CollectorRegistry()  # a new one at each start
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._store: StoreWatch | None = None
        self._timer: RequestTimer | None = None
        self._clocks: ClockHook | None = None
        self.clocks = ClockWatch(
            settings.clock_skew_warn_s,
            settings.clock_skew_log_every_s,
            controller.config.bus.max_clock_skew_s,
            clock,
        )
        self._filter = topics.client_requests(controller.hall)

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("monitoring is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def start(self) -> Monitoring:
        c = self.controller
        kind = _Server6 if ":" in self.settings.host else _Server
        try:
            server = kind((self.settings.host, self.settings.port), _Handler)
        except OSError as exc:
            raise MonitoringError(
                f"[monitoring] cannot listen on {self.settings.host}:{self.settings.port}: {exc.strerror or exc}"
            ) from None
        self.registry = CollectorRegistry()
        self._store = StoreWatch(Path(c.store.path), c.hall)
        watch = BusWatch(c.bus, c.hall)
        self.registry.register(
            HallCollector(c.config, self.settings, c.bus, self._store, watch, self.backup_dir, self.clock)
        )
        self._timer = time_requests(c.bus, self._filter, self.registry)
        self.registry.register(self.clocks)
        self._clocks = ClockHook(c.bus, c.config, self._filter, self.clocks).start()  # wraps the timer
        server.metrics = lambda: generate_latest(self.registry)
        server.healthz = lambda: health(c)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="hallkit-monitoring", daemon=True)
        self._thread.start()
        log.info("monitoring on %s (/metrics, /healthz)", self.url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5.0)
        if self._clocks is not None:  # first: its wrapper is the outer one
            self._clocks.stop()
        if self._timer is not None:
            untime_requests(self.controller.bus, self._filter, self._timer)
        if self._store is not None:
            self._store.close()
        self._server = self._thread = self._store = self._timer = self._clocks = None


def start_monitoring(controller: HallController, config: HallConfig) -> Monitoring:
    """The monitoring endpoint of a started controller, as ``[monitoring]`` of hall.toml asks (off by
    default: then the handle does nothing). Call ``.stop()`` before stopping the controller."""
    monitoring = Monitoring(controller, monitoring_settings(config), backup_settings(config).dir)
    return monitoring.start() if monitoring.settings.enabled else monitoring
