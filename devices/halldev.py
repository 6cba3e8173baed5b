"""Shared device part of the frame-protocol devices (pad, caller keypad, LED display)."""
from __future__ import annotations

from drivers import hallframe as hf
from drivers.transport import open_transport

from .base import Device


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

    def heartbeat(self) -> None:
        self.call("heartbeat")
