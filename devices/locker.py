"""A bank of pickup lockers: the lock-control boards on one RS485 line, as a hall device.

``open(board, lock) -> bool`` fires a lock and tells whether the door came open (False: jammed or
held shut); ``status(board)`` gives every door of a board as "open"/"closed"; ``wait_closed``
polls one door until the citizen shuts it. Boards come from ``options.boards`` in hall.toml
(default ``[1]``); door-sensor polarity and the lock count come from the model's profile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from devices.base import Device, DeviceState, DriverSlot
from devices.config import DeviceConfig
from devices.factory import register_kind
from drivers import locker as lb
from drivers.errors import ReplyTimeout
from drivers.transport import open_transport

log = logging.getLogger(__name__)
T = TypeVar("T")


class LockerBank(Device):
    kind = "locker"

    def __init__(self, config: DeviceConfig) -> None:
        super().__init__(config)
        boards = config.options.get("boards", self.profile.get("boards", [1]))
        if isinstance(boards, str):
            boards = [int(b) for b in boards.split(",") if b.strip()]
        self.boards: list[int] = [int(b) for b in boards]
        self.locks = int(config.options.get("locks", self.profile.get("locks", 24)))
        self.door_open_value = int(str(self.profile.get("door_open_value", "11")), 16)
        self.baudrate = int(config.options.get("baudrate", self.profile.get("baudrate", 9600)))
        self.poll_interval_s = float(config.options.get("poll_interval_s", self.profile.get("poll_interval_s", 0.3)))
        self.link: DriverSlot[lb.LockBoardBus] = DriverSlot(config.id)
        self.missing: set[int] = set()  # boards that did not answer the last time we asked
        self._cancel = threading.Event()

    # ------------------------------------------------------------------ Device
    def _open_driver(self) -> None:
        port = open_transport(self.config.url, baudrate=self.baudrate, timeout=0.1)
        self.link.value = lb.LockBoardBus(
            port,
            door_open_value=self.door_open_value,
            locks_per_board=self.locks,
            reply_timeout_s=float(self.profile.get("reply_timeout_s", 0.5)),
            open_timeout_s=float(self.profile.get("open_timeout_s", 2.0)),
        )

    @property
    def bus(self) -> lb.LockBoardBus:
        """The open driver (DeviceOffline before the bank was opened)."""
        return self.link.get()

    def _close_driver(self) -> None:
        self.link.close()

    def _probe(self) -> None:
        """Every board is asked once; the bank is up if at least one answers."""
        first: Exception | None = None
        self.missing = set()
        for board in self.boards:
            try:
                self.bus.query_all(board)
            except ReplyTimeout as exc:
                self.missing.add(board)
                first = first or exc
        if first is not None and self.missing == set(self.boards):
            raise first

    def _sticky_degraded(self) -> bool:
        return bool(self.missing)

    def _note_missing(self) -> None:
        if self.missing:
            self.set_state(DeviceState.DEGRADED, f"lock board(s) {sorted(self.missing)} not answering")

    def _on_board(self, board: int, fn: Callable[..., T], *args: Any) -> T:
        if board not in self.boards:
            raise ValueError(f"board {board} is not in this bank (boards {self.boards})")
        try:
            result = self.guard(fn, board, *args)
        except Exception:
            if self.state == DeviceState.DEGRADED:
                self.missing.add(board)
                self._note_missing()
            raise
        if board in self.missing:
            self.missing.discard(board)
            if not self.missing and self.state == DeviceState.DEGRADED:
                self.set_state(DeviceState.READY, "")
        return result

    # ------------------------------------------------------------------ locker operations
    def open(self, *args: int) -> Any:
        """``open()`` opens the device; ``open(board, lock)`` fires one lock -> door came open?"""
        if not args:
            return self._open_device()
        board, lock = args
        opened = self._on_board(board, lambda b, lk: self.bus.open_lock(b, lk), lock)
        log.info("%s: board %d lock %d fired, door %s", self.id, board, lock, "open" if opened else "still closed")
        return opened

    def _open_device(self) -> LockerBank:
        Device.open(self)
        self._note_missing()
        return self

    def open_all(self, board: int) -> None:
        self._on_board(board, lambda b: self.bus.open_all(b))

    def is_open(self, board: int, lock: int) -> bool:
        return self._on_board(board, lambda b, lk: self.bus.query(b, lk), lock)

    def status(self, board: int | None = None) -> Any:
        """``status()`` is the device health (Device.status); ``status(board)`` the doors of a board."""
        if board is None:
            return Device.status(self)
        doors = self._on_board(board, lambda b: self.bus.query_all(b))
        return {n: "open" if is_open else "closed" for n, is_open in doors.items()}

    def wait_closed(self, board: int, lock: int, timeout_s: float) -> bool:
        """True once the door of (board, lock) reads closed; False if still open after ``timeout_s``."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        cancel = self._cancel
        while True:
            if not self.is_open(board, lock):
                return True
            left = deadline - time.monotonic()
            if left <= 0 or cancel.wait(min(self.poll_interval_s, left)):
                return False

    def cancel_waits(self) -> None:
        self._cancel.set()
        self._cancel = threading.Event()


register_kind("locker", LockerBank)
