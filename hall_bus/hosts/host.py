"""What every device host shares: a process that runs some of the hall's devices on the bus.

A host (the window host, the locker host) opens its devices, serves and subscribes on its own bus
client, and runs one thread of its own for the device work (polling keys, watching doors,
heartbeats): bus callbacks never wait on a serial line. A device that does not answer at start stays
offline on the bus (its :class:`~hall_bus.hosts.device_bridge.DeviceBridge` says so) and is
retried on first use; a failure in one piece of device work is counted and logged, and the host
goes on.

Subclasses give :meth:`DeviceHost.owned` (the devices to open and close), :meth:`DeviceHost.attach`
(their ``serve``/``subscribe`` calls) and :meth:`DeviceHost.tick` (the work done every ``poll_s``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Self, TypeVar

from devices.base import Device, DeviceError
from hall_bus.bus.client import BusClient
from hall_bus.bus.connect import bus_settings
from hall_bus.config import HallConfig

log = logging.getLogger(__name__)

D = TypeVar("D", bound=Device)


class DeviceHost:
    """Lifecycle of a device host: :meth:`start` (open, serve, thread), :meth:`stop` (thread, close)."""

    def __init__(self, config: HallConfig, bus: BusClient, name: str, poll_s: float) -> None:
        self.config, self.bus, self.hall = config, bus, config.hall_id
        self.name = name  # the thread's name and the log lines' prefix, e.g. window-host-3
        self.poll_s = poll_s
        self.stats: dict[str, int] = {"device_errors": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ to implement
    def owned(self) -> list[Device]:
        """The devices this host opens at start and closes at stop."""
        raise NotImplementedError

    def attach(self) -> None:
        """Serve the host's requests and subscribe to what it shows (before the bus starts)."""

    def tick(self) -> None:
        """The device work done on the host's thread every ``poll_s``."""

    def release(self) -> None:
        """Give back what the host holds once its thread has ended: by default, close its devices."""
        for dev in self.owned():
            dev.close()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        for dev in self.owned():
            try:
                dev.open()
            except DeviceError as exc:  # the device state says so on the bus; retried on first use
                log.warning("%s: %s unavailable at start: %s", self.name, dev.id, exc)
        self.attach()
        self.bus.start()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        self.release()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.guarded(self.tick)

    def guarded(self, fn: Callable[[], object]) -> None:
        """Run one piece of device work; a failure is counted and logged, and the host goes on (a
        bug in one job must not stop the others)."""
        try:
            fn()
        except DeviceError as exc:
            self.stats["device_errors"] += 1
            log.info("%s: %s", self.name, exc)
        except Exception:
            self.stats["device_errors"] += 1
            log.exception("%s: device work failed", self.name)


def as_kind(device: Device, cls: type[D]) -> D:
    """``device`` as the device class ``cls`` (TypeError when it is another kind)."""
    if not isinstance(device, cls):
        raise TypeError(f"device {device.id}: expected a {cls.__name__}, got a {type(device).__name__}")
    return device


def host_bus(config: HallConfig, client_id: str, host: str | None = None, port: int | None = None) -> BusClient:
    """The bus client of a device host (not yet started: :meth:`DeviceHost.start` starts it)."""
    return BusClient(config.hall_id, client_id, bus_settings(config, client_id, host, port))
