"""The common base of the kiosk flows: a state, a view for the screen, a timeout back home.

A flow is a plain state machine. Its *actions* (methods the screen calls when the citizen taps)
may block on a device or the bus; the UI calls them on a worker thread and redraws whenever the
flow notifies its listeners, so the screen never freezes. ``view()`` is cheap and safe to call from
any thread at any time: it returns a plain dict describing what the screen shows, already in the
current language.

Every flow has an inactivity timeout (longer in elder mode). ``tick(now)`` applies it: the flow
clears every piece of personal data it held (identity, codes typed, scanned pages) and marks itself
``finished`` so the session returns to the home screen.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from kiosk.i18n import tr

Listener = Callable[["Flow"], None]


@dataclass
class KioskContext:
    """What every flow of one kiosk shares: the bus, the hall, the devices and the citizen's settings."""

    kiosk_id: str
    bus: Any  # kiosk.ports.BusPort
    devices: dict[str, Any] = field(default_factory=dict)  # 'idcard' | 'printer' | 'scanner' -> device or None
    hall: dict = field(default_factory=dict)  # the controller's hall.info
    clock: Callable[[], float] = time.monotonic
    lang: str = "zh"
    elder: bool = False
    request_timeout_s: float = 5.0
    card_wait_s: float = 20.0
    salt: bytes | None = None  # identity token salt; None = devices.identity's configured salt
    unprinted: list[dict] = field(default_factory=list)  # tickets the printer could not print (for staff)

    @property
    def timeout_factor(self) -> float:
        return 2.0 if self.elder else 1.0

    def device(self, kind: str) -> Any:
        return self.devices.get(kind)

    def request(self, op: str, data: dict) -> Any:
        return self.bus.request(op, data, timeout=self.request_timeout_s, retry_s=1.0)

    def tr(self, key: str, **values: object) -> str:
        return tr(key, self.lang, **values)


class Flow:
    """Base of every kiosk flow (see the module docstring)."""

    name = "flow"
    initial = "start"
    timeout_s = 60.0
    busy_states: frozenset[str] = frozenset()  # states in which a device/bus call is running

    def __init__(self, ctx: KioskContext) -> None:
        self.ctx = ctx
        self.state = self.initial
        self.data: dict[str, Any] = {}
        self.message = ""
        self.finished = False
        self.timed_out = False
        self.listeners: list[Listener] = []
        self.last_activity = ctx.clock()
        self._lock = threading.RLock()
        self._cancel = threading.Event()

    # ------------------------------------------------------------------ timing
    @property
    def timeout(self) -> float:
        return self.state_timeout() * self.ctx.timeout_factor

    def state_timeout(self) -> float:
        """Seconds of inactivity allowed in the current state (subclasses may vary it per state)."""
        return self.timeout_s

    def touch(self) -> None:
        self.last_activity = self.ctx.clock()

    def seconds_left(self, now: float | None = None) -> float:
        now = self.ctx.clock() if now is None else now
        return max(0.0, self.timeout - (now - self.last_activity))

    def tick(self, now: float | None = None) -> bool:
        """Apply the inactivity timeout; True when it fired (personal data cleared, flow finished)."""
        now = self.ctx.clock() if now is None else now
        if self.finished or self.state in self.busy_states:
            return False
        if now - self.last_activity >= self.timeout:
            self.timed_out = True
            self.close()
            return True
        return False

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Leave the flow: cancel any wait, clear personal data, go home."""
        self._cancel.set()
        with self._lock:
            self.clear_personal_data()
            self.data.clear()
            self.message = ""
            self.state = self.initial
            self.finished = True
        self._notify()

    def clear_personal_data(self) -> None:
        """Forget identity, typed codes and scans; subclasses extend."""

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # ------------------------------------------------------------------ state changes
    def go(self, state: str, message: str = "", **data: Any) -> None:
        with self._lock:
            if self.finished:
                return
            self.state = state
            self.message = message
            self.data.update(data)
            self.touch()
        self._notify()

    def _notify(self) -> None:
        for listener in list(self.listeners):
            listener(self)

    # ------------------------------------------------------------------ view
    def view(self) -> dict:
        with self._lock:
            v = {"flow": self.name, "state": self.state, "message": self.message, "busy": self.state in self.busy_states,
                 "finished": self.finished, "seconds_left": int(self.seconds_left()), "lang": self.ctx.lang}
            v.update(self._view())
            return v

    def _view(self) -> dict:
        return {}
