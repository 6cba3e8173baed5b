"""A small in-process hall for screenshots and the UI benchmark: broker + controller + kiosk devices.

Unlike the demo hall it has no generated citizens: callers drive it (issue tickets, call windows)
so pictures and timings are repeatable. The broker is mosquitto when installed, else the embedded
amqtt broker. The kiosk devices of hall.toml are opened through ``devices.factory`` when that
module is installed; one that fails to open is ``None`` (the kiosk offers another way).
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from pathlib import Path
from typing import Any

from hall_bus import config as hallconfig
from hall_bus.bus.brokers import EmbeddedBroker, Mosquitto, find_mosquitto
from hall_bus.bus.client import BusClient, BusSettings
from hall_bus.controller.service import HallController
from hall_bus.hosts.kiosk_devices import open_kiosk_devices
from hall_bus.hosts.locker_host import LockerHost

log = logging.getLogger(__name__)


class LocalHall:
    def __init__(
        self,
        config_path: str | Path | None = None,
        broker: str = "auto",
        always_open: bool = True,
        with_devices: bool = True,
    ) -> None:
        base = hallconfig.load(config_path or hallconfig.default_path())
        self._tmp = tempfile.TemporaryDirectory(prefix="hallkit-ui-")
        hours = dataclasses.replace(base.hours, always_open=always_open) if always_open else base.hours
        self.config = dataclasses.replace(base, hours=hours, data_dir=self._tmp.name)
        self.broker_kind = (
            "mosquitto" if broker == "auto" and find_mosquitto() else ("embedded" if broker == "auto" else broker)
        )
        self.broker: Any = None
        self.controller: HallController | None = None
        self.devices: dict[str, Any] = {}
        self.hosts: list[Any] = []
        self.with_devices = with_devices
        self._clients: list[BusClient] = []

    def start(self) -> LocalHall:
        self.broker = Mosquitto().start() if self.broker_kind == "mosquitto" else EmbeddedBroker().start()
        self.config = dataclasses.replace(
            self.config, bus=dataclasses.replace(self.config.bus, host=self.broker.host, port=self.broker.port)
        )
        if self.with_devices:
            self._lockers_for_pictures()
        self.controller = HallController(self.config, self.make_bus("controller")).start()
        if self.with_devices:
            self.devices = open_kiosk_devices(self.config, self.make_bus)
            self._start_locker_hosts()
        return self

    LOCKER_SIM_ID = "ui-lockers"

    def _lockers_for_pictures(self) -> None:
        """Lockers whose doors stay open until told (so an 'open' screen can be photographed), and
        notifications kept in memory (so the pickup codes are known)."""
        devices = tuple(
            dataclasses.replace(
                d, url=d.url + ("&" if "?" in d.url else "?") + f"auto_close_s=none&id={self.LOCKER_SIM_ID}"
            )
            if d.kind == "locker"
            else d
            for d in self.config.devices
        )
        extra = dict(self.config.extra)
        if "pickup" in extra:
            extra["pickup"] = {**extra["pickup"], "notifier": "memory"}
        self.config = dataclasses.replace(self.config, devices=devices, extra=extra)

    def _start_locker_hosts(self) -> None:
        for dev in self.config.devices_of("locker"):
            try:
                self.hosts.append(LockerHost(self.config, dev.id, self.make_bus(dev.id)).start())
            except Exception as exc:
                log.warning("locker bank %s unavailable: %s", dev.id, exc)

    def make_bus(self, client_id: str) -> BusClient:
        client = BusClient(
            self.config.hall_id, client_id, BusSettings(host=self.broker.host, port=self.broker.port)
        ).start()
        self._clients.append(client)
        if not client.wait_connected(10):
            raise RuntimeError(f"{client_id} cannot connect to the broker: {client.last_error}")
        return client

    def stop(self) -> None:
        for host in self.hosts:
            host.stop()
        for dev in self.devices.values():
            try:
                if dev is not None:
                    dev.close()
            except Exception as exc:
                log.info("closing %s: %s", dev, exc)
        if self.controller:
            self.controller.stop()
        for c in reversed(self._clients):
            c.stop()
        if self.broker:
            self.broker.stop() if isinstance(self.broker, EmbeddedBroker) else self.broker.close()
        self._tmp.cleanup()
