"""Shared device part of the frame-protocol devices (pad, caller keypad, LED display)."""
from __future__ import annotations

from drivers import hallframe as hf
from drivers.transport import open_transport

from .base import Device, DeviceState


class HallFrameDeviceBase(Device):
    driver_class: type = object

    def _open_driver(self) -> None:
        baud = int(self.config.options.get("baudrate", self.profile.get("baudrate", 9600)))
        addr = int(self.config.options.get("address", self.profile.get("address", 1)))
        self.port = open_transport(self.config.url, baudrate=baud, timeout=0.05)
        self.link = hf.HallLink(self.port, addr)
        self.driver = self.driver_class(self.link)

    def _close_driver(self) -> None:
        self.port.close()

    def _probe(self) -> None:
        self.driver.heartbeat()

    def call(self, name: str, *args):
        """Run a driver method under ``guard``; the driver is looked up only after guard reopened the
        device (a device unplugged at start has no driver yet)."""
        return self.guard(lambda: getattr(self.driver, name)(*args))

    def listen(self, name: str, *args):
        """Run a driver method that only listens (poll for events). Silence on the line is normal
        for a keypad nobody presses, so a successful listen does not prove the device alive: it
        does not lift DEGRADED (a heartbeat or a command does); an event heard does."""
        with self.lock:
            self._passive = True
            try:
                out = self.call(name, *args)
            finally:
                self._passive = False
            if out and self.state == DeviceState.DEGRADED:
                self.set_state(DeviceState.READY, "")
            return out

    def _sticky_degraded(self) -> bool:
        return getattr(self, "_passive", False)

    def heartbeat(self) -> None:
        self.call("heartbeat")
