"""The device layer: a driver wrapped with health, reconnection and one exception tree.

Three layers, as in Home Assistant: ``drivers/`` speak bytes and raise driver errors;
a :class:`Device` here gives the hall one state per device (connecting, ready, degraded, offline,
error), turns driver errors into :class:`DeviceError` subclasses, reconnects with backoff, and tells
its :class:`DeviceListener` objects about every change of state, every event and its closing. The
device knows nothing of the hall bus: ``hall_bus.hosts.device_bridge`` is the listener that publishes
health (retained), availability and events there (Home Assistant's coordinator/entity split).

A device is accepted only after it answered once (test before setup): ``open()`` probes it.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from devices.config import DeviceConfig
from devices.profiles import Profile, load_profile
from drivers import errors as drv

log = logging.getLogger(__name__)
T = TypeVar("T")


class DeviceState(str, enum.Enum):
    CONNECTING = "connecting"
    READY = "ready"
    DEGRADED = "degraded"  # works, with a warning (paper near end, a transient fault just now)
    OFFLINE = "offline"  # the transport is gone (unplugged, refused); reconnecting
    ERROR = "error"  # answers, but cannot do its job (paper out, cover open, board fault)


class DeviceError(Exception):
    """Base of every device failure the application sees."""

    def __init__(self, device_id: str, message: str) -> None:
        self.device_id = device_id
        super().__init__(f"{device_id}: {message}")


class DeviceTimeout(DeviceError):
    """The device did not answer in time."""


class ProtocolError(DeviceError):
    """The device answered with bytes that break its protocol."""


class NotSupported(DeviceError):
    """The device's model (profile) cannot do this."""


class DeviceOffline(DeviceError):
    """The device cannot be reached: unplugged, powered off, wrong URL."""


class DeviceFault(DeviceError):
    """The device reported a fault (``code``): no card, paper out, door jammed ..."""

    def __init__(self, device_id: str, code: str, message: str) -> None:
        self.code = code
        super().__init__(device_id, message)


class Closable(Protocol):
    def close(self) -> None: ...


DriverT = TypeVar("DriverT", bound=Closable)


class DriverSlot(Generic[DriverT]):
    """The driver (or camera, or printer connection) a device holds while it is open: ``get()`` it
    to use it (DeviceOffline while closed), ``close()`` it whatever state it is in."""

    def __init__(self, device_id: str) -> None:
        self.device_id = device_id
        self.value: DriverT | None = None

    def get(self) -> DriverT:
        if self.value is None:
            raise DeviceOffline(self.device_id, "not open")
        return self.value

    def close(self) -> None:
        if self.value is not None:
            value, self.value = self.value, None
            value.close()


class DeviceListener(Protocol):
    """Who follows a device: the bus bridge, a kiosk screen, a test."""

    def device_state(self, device: Device) -> None:
        """The device's state or detail changed (``device.status()`` tells the new one)."""

    def device_event(self, device: Device, name: str, type_: str, data: dict[str, Any]) -> None:
        """The device reported an event (a card read, a page scanned, a door): no personal data in ``data``."""

    def device_closed(self, device: Device) -> None:
        """The device was closed on purpose (the host is shutting down)."""


class Device:
    """Base of the hall's devices. Subclasses implement ``_open_driver``, ``_close_driver`` and
    ``_probe`` (one harmless exchange proving the device answers)."""

    kind = "device"
    backoff_min_s = 0.5
    backoff_max_s = 30.0

    def __init__(self, config: DeviceConfig) -> None:
        self.config = config
        self.id = config.id
        self.profile: Profile = load_profile(config.kind or self.kind, config.profile or "")
        self.state = DeviceState.CONNECTING
        self.detail = ""
        self.since = time.time()
        self.lock = threading.RLock()  # one exchange on the line at a time
        self._backoff = self.backoff_min_s
        self._next_attempt = 0.0
        self._opened = False
        self.listeners: list[DeviceListener] = []

    # ------------------------------------------------------------------ to implement
    def _open_driver(self) -> None:
        raise NotImplementedError

    def _close_driver(self) -> None:
        raise NotImplementedError

    def _probe(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ lifecycle
    def open(self) -> Device:
        """Open and probe; raises DeviceError if the device does not answer (state says why)."""
        with self.lock:
            self.set_state(DeviceState.CONNECTING, f"opening {self.config.url}")
            try:
                self._open_driver()
                self._opened = True
                self._probe()
            except Exception as exc:
                err = self._translate(exc)
                self._after_failure(err, reopen=True)
                raise err from None
            self._backoff = self.backoff_min_s
            self.set_state(DeviceState.READY, "")
            return self

    def close(self) -> None:
        with self.lock:
            if self._opened:
                try:
                    self._close_driver()
                except Exception as exc:
                    log.debug("%s: close: %s", self.id, exc)
                self._opened = False
            self.set_state(DeviceState.OFFLINE, "closed")
            for listener in list(self.listeners):
                listener.device_closed(self)

    def ensure_open(self) -> None:
        """Reconnect if the device went offline and its backoff has passed; else raise DeviceOffline."""
        with self.lock:
            if self._opened and self.state != DeviceState.OFFLINE:
                return
            if time.monotonic() < self._next_attempt:
                raise DeviceOffline(
                    self.id, f"offline ({self.detail}); next reconnect in {self._next_attempt - time.monotonic():.1f} s"
                )
            self.open()

    def guard(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one driver operation: reconnect if needed, map errors, keep the state current."""
        with self.lock:
            self.ensure_open()
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                err = self._translate(exc)
                self._after_failure(err, reopen=isinstance(err, DeviceOffline))
                raise err from None
            if self.state in (DeviceState.DEGRADED, DeviceState.CONNECTING) and not self._sticky_degraded():
                self.set_state(DeviceState.READY, "")
            return result

    def _sticky_degraded(self) -> bool:
        """Subclasses keep DEGRADED while a lasting condition holds (e.g. paper near end)."""
        return False

    # ------------------------------------------------------------------ errors and state
    def _translate(self, exc: Exception) -> DeviceError:
        if isinstance(exc, DeviceError):
            return exc
        if isinstance(exc, drv.TransportError):
            return DeviceOffline(self.id, exc.reason)
        if isinstance(exc, drv.ReplyTimeout):
            return DeviceTimeout(self.id, str(exc))
        if isinstance(exc, drv.FrameError):
            return ProtocolError(self.id, str(exc))
        if isinstance(exc, drv.DeviceReported):
            return DeviceFault(self.id, str(exc.code), exc.text)
        if isinstance(exc, OSError):  # the serial port vanished under us (unplugged USB adapter)
            return DeviceOffline(self.id, f"{type(exc).__name__}: {exc}")
        return DeviceError(self.id, f"{type(exc).__name__}: {exc}")

    def _after_failure(self, err: DeviceError, reopen: bool) -> None:
        if isinstance(err, DeviceOffline) or reopen:
            if self._opened:
                try:
                    self._close_driver()
                except Exception:
                    pass
                self._opened = False
            self._next_attempt = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, self.backoff_max_s)
            self.set_state(DeviceState.OFFLINE, str(err))
        elif isinstance(err, (DeviceTimeout, ProtocolError)):
            self.set_state(DeviceState.DEGRADED, str(err))
        elif isinstance(err, DeviceFault):
            self.on_fault(err)

    def on_fault(self, err: DeviceFault) -> None:
        """A reported fault: by default the device still works (a card missing is not a device problem)."""

    def set_state(self, state: DeviceState, detail: str = "") -> None:
        if state == self.state and detail == self.detail:
            return
        if state != self.state:
            log.info("%s (%s): %s -> %s %s", self.id, self.kind, self.state.value, state.value, detail)
            self.since = time.time()
        self.state, self.detail = state, detail
        for listener in list(self.listeners):
            listener.device_state(self)

    def status(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.config.kind or self.kind,
            "state": self.state.value,
            "detail": self.detail[:200],
            "profile": self.profile.name,
            "since": self.since,
        }

    def publish_event(self, name: str, type_: str, data: dict[str, Any]) -> None:
        """Tell the listeners of an event (no personal data in ``data``: callers mask or hash it)."""
        for listener in list(self.listeners):
            listener.device_event(self, name, type_, data)
