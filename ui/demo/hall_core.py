"""The in-process hall under the demo and the screenshots: broker, controller, device hosts, one stop.

:class:`HallCore` is what :class:`ui.demo.hall.DemoHall` (``hallkit demo``, with generated citizens)
and :class:`ui.demo.local_hall.LocalHall` (screenshots and the UI benchmark, driven by their
callers) share: hall.toml loaded onto a fresh store in a temporary directory, the broker started and
written into the hall's bus settings, bus clients made one at a time, the hall controller, the
window and locker hosts from hall.toml, the kiosk devices, and a stop that ends all of it in
reverse. :func:`with_sim_options` points a hall's simulated devices at what a picture or a demo key
needs (a fixed registry id, doors that stay open).
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from devices.base import Device
from hall_bus import config as hallconfig
from hall_bus.bus import endpoint
from hall_bus.bus.brokers import EmbeddedBroker, Mosquitto, find_mosquitto
from hall_bus.bus.client import BusClient, BusError, BusSettings
from hall_bus.config import HallConfig
from hall_bus.controller.service import HallController
from hall_bus.hosts.host import DeviceHost
from hall_bus.hosts.kiosk_devices import open_kiosk_devices
from hall_bus.hosts.locker_host import LockerHost
from hall_bus.hosts.window_host import WindowHost

log = logging.getLogger(__name__)

BROKERS = ("auto", "embedded", "mosquitto")  # auto: mosquitto when installed, else the embedded amqtt broker


def with_sim_options(config: HallConfig, kind: str, **options: str) -> HallConfig:
    """The hall with ``options`` added to the ``sim://`` URL of every device of ``kind`` (an option
    the URL already sets is kept as it is; devices on real hardware are left alone)."""

    def url(u: str) -> str:
        given = parse_qs(urlsplit(u).query)
        extra = "&".join(f"{k}={v}" for k, v in options.items() if k not in given)
        return u + ("&" if "?" in u else "?") + extra if extra else u

    devices = tuple(
        dataclasses.replace(d, url=url(d.url)) if d.kind == kind and d.url.startswith("sim://") else d
        for d in config.devices
    )
    return dataclasses.replace(config, devices=devices)


class HallCore:
    """One hall in this process (see the module docstring); subclasses add what they run on it."""

    def __init__(
        self,
        config_path: str | Path | None = None,
        broker: str = "auto",
        port: int | None = None,
        always_open: bool = True,
        tmp_prefix: str = "hallkit-hall-",
    ) -> None:
        if broker not in BROKERS:
            raise ValueError(f"broker must be one of {', '.join(BROKERS)}, not {broker!r}")
        base = hallconfig.load(config_path or hallconfig.default_path())
        self._tmp = tempfile.TemporaryDirectory(prefix=tmp_prefix)
        hours = dataclasses.replace(base.hours, always_open=True) if always_open else base.hours
        self.config: HallConfig = dataclasses.replace(base, hours=hours, data_dir=self._tmp.name)
        self.config_path = Path(config_path or hallconfig.default_path())
        self.home_dir = base.data_dir  # hall.toml's own data_dir: where commands run beside the hall look
        self.endpoint_file: Path | None = None
        self.broker_kind = broker if broker != "auto" else ("mosquitto" if find_mosquitto() else "embedded")
        self.port = port
        self.broker: EmbeddedBroker | Mosquitto | None = None
        self.controller: HallController | None = None
        self.devices: dict[str, Device | None] = {}
        self.hosts: list[DeviceHost] = []
        self._clients: list[BusClient] = []
        self._connect_lock = threading.Lock()

    # ------------------------------------------------------------------ starting
    def start_broker(self) -> None:
        """Start the broker (on ``port``, else a free one) and point the hall's bus settings at it."""
        broker = Mosquitto(port=self.port) if self.broker_kind == "mosquitto" else EmbeddedBroker(port=self.port)
        self.broker = broker.start()
        bus = dataclasses.replace(self.config.bus, host=self.broker.host, port=self.broker.port)
        self.config = dataclasses.replace(self.config, bus=bus)

    def publish_endpoint(self) -> Path:
        """Write where the broker listens into hall.toml's data_dir, so that ``hallkit`` commands run with the
        same hall.toml reach this hall (``hall_bus.bus.endpoint``); removed again by :meth:`stop`."""
        self.endpoint_file = endpoint.write(
            self.home_dir, self.config.hall_id, self.config.bus.host, self.config.bus.port
        )
        return self.endpoint_file

    def start_controller(self) -> HallController:
        self.controller = HallController(self.config, self.make_bus("controller")).start()
        return self.controller

    @property
    def hall(self) -> HallController:
        """The running hall controller (after :meth:`start_controller`)."""
        if self.controller is None:
            raise RuntimeError("the hall controller is not started")
        return self.controller

    def make_bus(self, client_id: str) -> BusClient:
        """A started bus client on the hall's broker (stopped with the hall). Clients connect one at a
        time: amqtt can trip over sessions that start at the same moment."""
        with self._connect_lock:
            settings = BusSettings(host=self.config.bus.host, port=self.config.bus.port)
            client = BusClient(self.config.hall_id, client_id, settings).start()
            self._clients.append(client)
            if not client.wait_connected(10):
                raise BusError(f"{client_id} cannot connect to the broker: {client.last_error}")
            return client

    def open_kiosk_devices(self) -> None:
        """The kiosk's devices of hall.toml (one that fails to open is ``None``: the kiosk offers another way)."""
        self.devices = open_kiosk_devices(self.config, self.make_bus)

    def start_hosts(self, windows: bool = True, lockers: bool = True) -> None:
        """Window terminals and locker banks from hall.toml; one that cannot start is reported and skipped."""
        if windows:
            for number in sorted({d.window for d in self.config.devices if d.window is not None}):
                try:
                    self.hosts.append(WindowHost(self.config, number, self.make_bus(f"window-{number}")).start())
                except Exception as exc:
                    self.warn(f"window {number} devices unavailable: {exc}")
        if lockers:
            for dev in self.config.devices_of("locker"):
                try:  # a locker host is its own bus client
                    self.hosts.append(LockerHost(self.config, dev.id, self.make_bus(dev.id)).start())
                except Exception as exc:
                    self.warn(f"locker bank {dev.id} unavailable: {exc}")

    def warn(self, message: str) -> None:
        log.warning("%s", message)

    # ------------------------------------------------------------------ stopping
    def stop(self) -> None:
        """Hosts, kiosk devices, controller, bus clients and broker, in that order; then the store."""
        for host in reversed(self.hosts):
            try:
                host.stop()
            except Exception as exc:
                log.warning("stopping %s: %s", type(host).__name__, exc)
        for device in self.devices.values():
            try:
                if device is not None:
                    device.close()
            except Exception as exc:
                log.info("closing %s: %s", device, exc)
        if self.controller:
            self.controller.stop()
        for client in reversed(self._clients):
            client.stop()
        if self.endpoint_file is not None:
            endpoint.remove(self.endpoint_file)
        if isinstance(self.broker, EmbeddedBroker):
            self.broker.stop()
        elif self.broker is not None:
            self.broker.close()
        self._tmp.cleanup()
