"""Shared device part of the frame-protocol devices (pad, caller keypad, LED display).

Devices whose config has the same URL (and baud rate) share one port: they sit on one RS485 line
and are told apart by their ``address`` (``options = { address = 2 }`` in hall.toml). The port is
opened by the first of them and closed when the last one closes; a device that loses the port marks
the line broken, so whoever opens next gets a fresh port while the others notice on their next
exchange and reopen too.
"""

from __future__ import annotations

import threading
from typing import Any

from devices.base import Device, DeviceError, DeviceOffline, DeviceState
from drivers import hallframe as hf
from drivers.transport import open_transport

_lines: dict[tuple[str, int], hf.HallLine] = {}  # (url, baud) -> the open line
_users: dict[int, int] = {}  # id(line) -> number of devices using it
_lines_lock = threading.Lock()


def _acquire(url: str, baud: int) -> hf.HallLine:
    with _lines_lock:
        line = _lines.get((url, baud))
        if line is None or line.broken:
            line = _lines[(url, baud)] = hf.HallLine(open_transport(url, baudrate=baud, timeout=0.05))
        _users[id(line)] = _users.get(id(line), 0) + 1
        return line


def _release(url: str, baud: int, line: hf.HallLine) -> None:
    """One device leaves the line; the last one closes the port (a broken line that was replaced
    in the registry is closed by the last of its old users)."""
    with _lines_lock:
        left = _users.get(id(line), 1) - 1
        if left > 0:
            _users[id(line)] = left
            return
        _users.pop(id(line), None)
        if _lines.get((url, baud)) is line:
            del _lines[(url, baud)]
    line.port.close()


class HallFrameDeviceBase(Device):
    driver_class: type[Any] = object

    def _open_driver(self) -> None:
        self._baud = int(self.config.options.get("baudrate", self.profile.get("baudrate", 9600)))
        addr = int(self.config.options.get("address", self.profile.get("address", 1)))
        self.line = _acquire(self.config.url, self._baud)
        self.port = self.line.port
        self.link = hf.HallLink(self.line, addr)
        self.driver = self.driver_class(self.link)

    def _close_driver(self) -> None:
        _release(self.config.url, self._baud, self.line)

    def _after_failure(self, err: DeviceError, reopen: bool) -> None:
        if isinstance(err, DeviceOffline) and getattr(self, "line", None) is not None:
            self.line.broken = True  # the port is gone for every device on it
        super()._after_failure(err, reopen)

    def _probe(self) -> None:
        self.driver.heartbeat()

    def call(self, name: str, *args: Any) -> Any:
        """Run a driver method under ``guard``; the driver is looked up only after guard reopened the
        device (a device unplugged at start has no driver yet)."""
        return self.guard(lambda: getattr(self.driver, name)(*args))

    def listen(self, name: str, *args: Any) -> Any:
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
