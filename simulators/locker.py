"""Pickup-locker lock boards on one RS485 line ("8A/80" family, docs/protocols/locker-boards.md), kind ``locker``.

Query: ``boards=1,2`` (addresses present; others stay silent like an empty bus address),
``locks=24`` per board, ``open_value=11`` (the sensor wiring: the byte reported while a door is
open, ``11`` or ``00``), ``fire_ms=150`` (how long a board takes to fire a lock before it
answers; about 1000 on real hardware), ``auto_close_s=5`` (a person takes the item and shuts the
door after that long; ``none``: doors stay open until scripted), ``fault=`` with ``jammed:B:L``
and ``board_offline:B``.

Scripting (tests, demo) on the instance: ``script(board, lock, "open_then_close", after_s=5)``,
``script(board, lock, "never_close")``, ``script(board, lock, "jammed")``, ``close_door``,
``open_door`` (someone forces it), ``door_open``, ``set_offline(board, True)``.
"""

from __future__ import annotations

import dataclasses
import time

from drivers import locker as lb
from drivers.errors import FrameError
from simulators import registry
from simulators.base import SimulatedDevice

BEHAVIOURS = ("open_then_close", "never_close", "jammed")


@dataclasses.dataclass
class Door:
    is_open: bool = False
    close_at: float | None = None  # when the person shuts it
    behaviour: str = ""
    after_s: float | None = None
    fired: int = 0  # how many times the lock was fired


class LockerSimulator(SimulatedDevice):
    kind = "locker"
    OPTIONS = {
        "boards": "board addresses on the line, e.g. 1,2",
        "locks": "locks per board (default 24)",
        "open_value": "the sensor byte of an open door: 11 or 00",
        "fire_ms": "how long a board takes to fire a lock (default 150)",
        "auto_close_s": "seconds until the person shuts the door (none: never)",
    }
    FAULTS = {
        "jammed": "jammed:B:L: lock L of board B does not open",
        "board_offline": "board_offline:B: board B is silent",
    }

    def __init__(self, query: dict[str, str] | None = None) -> None:
        super().__init__(query)
        q = self.query
        try:
            self.boards = [int(b) for b in q.get("boards", "1").split(",") if b.strip()]
            self.locks = int(q.get("locks", "24"))
            self.open_value = int(q.get("open_value", "11"), 16)
            self.fire_s = int(q.get("fire_ms", "150")) / 1000.0
            auto = q.get("auto_close_s", "5")
            self.auto_close_s = None if auto in ("", "none") else float(auto)
        except ValueError as exc:
            raise ValueError(f"locker simulator query: {exc}") from None
        if self.open_value not in (lb.SENSOR_HIGH, lb.SENSOR_LOW):
            raise ValueError("open_value must be 11 or 00")
        if not all(1 <= b <= lb.MAX_BOARD for b in self.boards) or not 1 <= self.locks <= lb.MAX_LOCKS:
            raise ValueError(f"boards must be in 1..{lb.MAX_BOARD}, locks in 1..{lb.MAX_LOCKS}")
        self.codec = lb.RequestCodec()
        self.doors = {(b, n): Door() for b in self.boards for n in range(1, self.locks + 1)}
        self.offline = {int(a[0]) for a in self.faults.device_args("board_offline") if a}
        for args in self.faults.device_args("jammed"):
            if len(args) == 2:
                self.script(int(args[0]), int(args[1]), "jammed")
        self.bad_frames = 0

    # ------------------------------------------------------------------ people and scripts
    def _door(self, board: int, lock: int) -> Door:
        try:
            return self.doors[(board, lock)]
        except KeyError:
            raise KeyError(f"no lock {lock} on board {board} (boards {self.boards}, {self.locks} locks)") from None

    def script(self, board: int, lock: int, behaviour: str, after_s: float | None = None) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour {behaviour!r}: one of {', '.join(BEHAVIOURS)}")
        with self.lock:
            door = self._door(board, lock)
            door.behaviour, door.after_s = behaviour, after_s

    def open_door(self, board: int, lock: int) -> None:
        with self.lock:
            door = self._door(board, lock)
            door.is_open, door.close_at = True, None

    def close_door(self, board: int, lock: int) -> None:
        with self.lock:
            door = self._door(board, lock)
            door.is_open, door.close_at = False, None

    def door_open(self, board: int, lock: int) -> bool:
        with self.lock:
            return self._settle(self._door(board, lock))

    def set_offline(self, board: int, offline: bool = True) -> None:
        with self.lock:
            (self.offline.add if offline else self.offline.discard)(board)

    def _settle(self, door: Door) -> bool:
        if door.is_open and door.close_at is not None and time.monotonic() >= door.close_at:
            door.is_open, door.close_at = False, None
        return door.is_open

    def _fire(self, door: Door) -> None:
        door.fired += 1
        if door.behaviour == "jammed" or door.is_open:
            return
        door.is_open = True
        if door.behaviour == "never_close":
            door.close_at = None
        else:
            after = (
                door.after_s if door.behaviour == "open_then_close" and door.after_s is not None else self.auto_close_s
            )
            door.close_at = None if after is None else time.monotonic() + after

    # ------------------------------------------------------------------ protocol
    def _sensor(self, board: int, lock: int) -> int:
        is_open = self._settle(self.doors[(board, lock)])
        closed_value = lb.SENSOR_LOW if self.open_value == lb.SENSOR_HIGH else lb.SENSOR_HIGH
        return self.open_value if is_open else closed_value

    def handle(self, data: bytes) -> list[bytes]:
        replies: list[bytes] = []
        chunk = data
        while True:
            try:
                requests = self.codec.feed(chunk)
            except FrameError as exc:
                requests = getattr(exc, "frames", [])
                self.bad_frames += 1  # a real board ignores a frame it cannot read
                chunk = b""
                replies += [r for r in (self._answer(q) for q in requests) if r]
                continue
            replies += [r for r in (self._answer(q) for q in requests) if r]
            return replies

    def _answer(self, req: lb.Request) -> bytes | None:
        if req.board not in self.boards or req.board in self.offline:
            return None  # nobody at that address answers on RS485
        if req.lock > self.locks:
            return None
        if req.is_open:
            if self.fire_s:
                time.sleep(self.fire_s)  # the board is busy firing the coil
            if req.lock == 0:
                for n in range(1, self.locks + 1):
                    self._fire(self.doors[(req.board, n)])
                return lb.frame(lb.OPEN, req.board, 0, lb.CMD_OPEN)
            door = self.doors[(req.board, req.lock)]
            self._fire(door)
            return lb.frame(lb.OPEN, req.board, req.lock, self._sensor(req.board, req.lock))
        if req.is_query:
            if req.lock == 0:
                levels = {n: self._sensor(req.board, n) == lb.SENSOR_HIGH for n in range(1, self.locks + 1)}
                return lb.frame(lb.QUERY, req.board, *lb.levels_to_bits(levels), lb.CMD_QUERY)
            return lb.frame(lb.QUERY, req.board, req.lock, self._sensor(req.board, req.lock))
        return None


registry.register("locker", LockerSimulator)
