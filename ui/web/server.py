"""Running the console: the bus client ``web``, the accounts, the live hall and uvicorn, started and
stopped together (``hallkit web``, ``hallkit demo`` and the tests use the same :class:`WebServer`); a
small thread ends the idle sessions every ``sweep_s`` seconds (:meth:`Accounts.sweep`), which frees
the desk of a clerk who walked away without logging out."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import uvicorn

from hall_bus.bus.client import BusClient
from hall_bus.bus.connect import bus_settings
from hall_bus.config import HallConfig
from hall_bus.features.evaluation.settings import load as staff_settings
from ui.web import alerts, tablets
from ui.web.accounts import SWEEP_EVERY_S, Accounts
from ui.web.app import WebContext, create_app
from ui.web.live import HallLive
from ui.web.routes import clerk
from ui.web.settings import WebSettings, web_settings

log = logging.getLogger(__name__)

CLIENT_ID = "web"


class WebServer:
    def __init__(
        self,
        config: HallConfig,
        bus_host: str | None = None,
        bus_port: int | None = None,
        host: str | None = None,
        port: int | None = None,
        settings: WebSettings | None = None,
        bus: BusClient | None = None,
        listen: socket.socket | None = None,
        sweep_s: float = SWEEP_EVERY_S,
    ) -> None:
        """``port`` 0 takes a free port; ``listen``, a socket already bound (and so held), serves on it;
        ``sweep_s``: how often the idle sessions are ended."""
        self.config = config
        self._listen = listen
        self.settings = settings or web_settings(config)
        self.host = host or self.settings.host
        self.port = port if port is not None else self.settings.port
        if listen is not None:
            self.host, self.port = listen.getsockname()[:2]
        self.bus = bus or BusClient(config.hall_id, CLIENT_ID, bus_settings(config, CLIENT_ID, bus_host, bus_port))
        staff = staff_settings(config).staff
        self.accounts = Accounts(Path(config.data_dir), staff, self.settings)
        self.live = HallLive(self.bus, config.hall_id)
        self.context = WebContext(config, self.bus, self.accounts, self.live, self.settings)
        self.app = create_app(self.context)
        alerts.install(self.context)
        tablets.tablets_of(self.context)  # the web-hosted pads answer the controller from the start
        clerk.install(self.context)  # a session's end frees its desk
        self.sweep_s = sweep_s
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._stop_sweep = threading.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, wait_s: float = 10.0) -> WebServer:
        """Connect to the bus and serve in a thread of this process."""
        self.bus.start()
        if self.port == 0 and self._listen is None:  # bound here and kept: nobody takes the port in between
            self._listen = bound(self.host, 0)
            self.port = self._listen.getsockname()[1]
        config = uvicorn.Config(
            self.app, host=self.host, port=self.port, log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        sockets = [self._listen] if self._listen is not None else None
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": sockets}, name="web-console", daemon=True
        )
        self._thread.start()
        threading.Thread(target=self._sweep, name="web-sessions", daemon=True).start()
        deadline = time.monotonic() + wait_s
        while not self._server.started and time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError(f"the web console could not listen on {self.host}:{self.port}")
            time.sleep(0.02)
        return self

    def _sweep(self) -> None:
        while not self._stop_sweep.wait(self.sweep_s):
            try:
                self.accounts.sweep()
            except Exception:
                log.exception("web console: the idle sessions' sweep failed")

    def stop(self) -> None:
        self._stop_sweep.set()
        for stop in self.context.extras.get("on_stop", []):
            stop()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.bus.stop()
        self.accounts.close()


def bound(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: a free port), for :class:`WebServer`'s ``listen``."""
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so (else 40 ms delayed-ACK stalls)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock
