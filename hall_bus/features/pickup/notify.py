"""Telling the citizen that an item waits in a locker (the SMS gateway itself is out of scope).

:class:`Notifier` is the adapter interface; :class:`LoggingNotifier` writes the message to the log
with the pickup code masked (the default); :class:`MemoryNotifier` keeps messages in memory (tests,
the demo screen). A real SMS/WeChat adapter implements ``notify`` and is set on the pickup service.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Protocol

from hall_bus.features.pickup.security import mask_code

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notification:
    hall: str
    hall_name: str
    case_no: str
    item_id: int
    item_name: str
    identity_token: str | None  # whom to notify (the gateway resolves it to a phone number); never logged
    compartment: str
    position: str
    code: str  # the one-time pickup code in the clear: only here, never stored or logged
    qr: str  # signed QR text
    expires_at: float  # collect before this

    def text_zh(self, code: str | None = None) -> str:
        until = dt.datetime.fromtimestamp(self.expires_at).strftime("%Y-%m-%d")
        return (
            f"【{self.hall_name}】您的{self.item_name or '办件材料'}（办件编号 {self.case_no}）已存入24小时自助取件柜，"
            f"取件码 {code if code is not None else self.code}，请于 {until} 前凭身份证、取件码或短信二维码取件。"
        )


class Notifier(Protocol):
    name: str

    def notify(self, n: Notification) -> None: ...


class LoggingNotifier:
    """Logs the message with the code masked; the QR is not logged."""

    name = "log"

    def notify(self, n: Notification) -> None:
        log.info("pickup notification for item %d: %s", n.item_id, n.text_zh(code=mask_code(n.code)))


class MemoryNotifier:
    """Keeps every notification (with the code) in memory: for tests and the demo only (one outbox per hall)."""

    name = "memory"

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self._cond = threading.Condition()

    def notify(self, n: Notification) -> None:
        with self._cond:
            self.sent.append(n)
            self._cond.notify_all()

    def for_item(self, item_id: int, timeout: float = 10.0) -> Notification:
        with self._cond:
            self._cond.wait_for(lambda: any(x.item_id == item_id for x in self.sent), timeout)
            for x in self.sent:
                if x.item_id == item_id:
                    return x
        raise LookupError(f"no notification for item {item_id} within {timeout} s")


_outboxes: dict[str, MemoryNotifier] = {}
_outbox_lock = threading.Lock()


def memory_outbox(hall: str) -> MemoryNotifier:
    """The in-memory outbox of a hall (``[pickup] notifier = "memory"``): the demo screen and tests read it."""
    with _outbox_lock:
        return _outboxes.setdefault(hall, MemoryNotifier())


def make_notifier(spec: str, hall: str) -> Notifier:
    """``log`` (default), ``memory``, or ``package.module:Class`` (a gateway adapter built without arguments)."""
    if spec == "log":
        return LoggingNotifier()
    if spec == "memory":
        return memory_outbox(hall)
    import importlib

    module, _, attr = spec.partition(":")
    notifier: Notifier = getattr(importlib.import_module(module), attr)()
    return notifier
