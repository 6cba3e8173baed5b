"""Lock-control boards of the common "8A/80" family on one RS485 bus (docs/protocols/locker-boards.md).

Host frames are five bytes, the last the XOR of the first four::

    8A BB LL 11 X   open lock LL of board BB (LL 0: every lock)   -> 8A|80 BB LL SS X
    80 BB LL 33 X   query one lock                                -> 80 BB LL SS X
    80 BB 00 33 X   query every lock                              -> 80 BB S4 S3 S2 S1 33 X

``SS`` is the door sensor: 0x11 or 0x00; which of the two means "door open" depends on the
sensor wiring of the model (``door_open_value`` in its profile). In the query-all reply one bit
per lock (S1 bit 0 = lock 1 ... S4 bit 7 = lock 32) is set when the sensor reads 0x11.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from drivers.errors import FrameError, ReplyTimeout, rs485_hint

OPEN = 0x8A
QUERY = 0x80
CMD_OPEN = 0x11
CMD_QUERY = 0x33
SENSOR_HIGH = 0x11
SENSOR_LOW = 0x00
MAX_BOARD = 0x40
MAX_LOCKS = 32


def xor(data: bytes) -> int:
    x = 0
    for b in data:
        x ^= b
    return x


def frame(*values: int) -> bytes:
    body = bytes(values)
    return body + bytes([xor(body)])


def open_request(board: int, lock: int) -> bytes:
    return frame(OPEN, board, lock, CMD_OPEN)


def query_request(board: int, lock: int) -> bytes:
    return frame(QUERY, board, lock, CMD_QUERY)


def bits_to_levels(s4: int, s3: int, s2: int, s1: int, locks: int = MAX_LOCKS) -> dict[int, bool]:
    word = s1 | (s2 << 8) | (s3 << 16) | (s4 << 24)
    return {n: bool(word >> (n - 1) & 1) for n in range(1, locks + 1)}


def levels_to_bits(levels: dict[int, bool]) -> tuple[int, int, int, int]:
    word = 0
    for n, high in levels.items():
        if high:
            word |= 1 << (n - 1)
    return (word >> 24) & 0xFF, (word >> 16) & 0xFF, (word >> 8) & 0xFF, word & 0xFF


@dataclasses.dataclass(frozen=True)
class Request:
    """A decoded host frame (what a board sees)."""

    start: int
    board: int
    lock: int
    cmd: int

    @property
    def is_open(self) -> bool:
        return self.start == OPEN and self.cmd == CMD_OPEN

    @property
    def is_query(self) -> bool:
        return self.start == QUERY and self.cmd == CMD_QUERY


class RequestCodec:
    """Board side: a byte stream in any chunking -> host frames. A bad 5-byte window raises
    FrameError after dropping one byte, so the next good frame is found (call feed(b"") again)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[Request]:
        self.buffer += data
        out: list[Request] = []
        while True:
            while self.buffer and self.buffer[0] not in (OPEN, QUERY):
                del self.buffer[0]
            if len(self.buffer) < 5:
                return out
            raw = bytes(self.buffer[:5])
            ok = (
                xor(raw[:4]) == raw[4]
                and raw[3] in (CMD_OPEN, CMD_QUERY)
                and 1 <= raw[1] <= MAX_BOARD
                and raw[2] <= MAX_LOCKS
            )
            if not ok:
                del self.buffer[0]
                err = FrameError("lock board frame invalid (checksum, command or address)", raw)
                err.frames = out
                raise err
            del self.buffer[:5]
            out.append(Request(*raw[:4]))


class LockBoardBus:
    """Every board on one RS485 line. ``door_open_value`` is the sensor byte that means "open"."""

    def __init__(
        self,
        port: Any,
        door_open_value: int = SENSOR_HIGH,
        locks_per_board: int = 24,
        reply_timeout_s: float = 0.5,
        open_timeout_s: float = 2.0,
    ) -> None:
        if door_open_value not in (SENSOR_HIGH, SENSOR_LOW):
            raise ValueError("door_open_value must be 0x11 or 0x00")
        self.port = port
        self.door_open_value = door_open_value
        self.locks = locks_per_board
        self.reply_timeout_s = reply_timeout_s
        self.open_timeout_s = open_timeout_s

    def close(self) -> None:
        self.port.close()

    def _check(self, board: int, lock: int | None = None) -> None:
        if not 1 <= board <= MAX_BOARD:
            raise ValueError(f"board address {board} outside 1..{MAX_BOARD}")
        if lock is not None and not 1 <= lock <= self.locks:
            raise ValueError(f"lock {lock} outside 1..{self.locks}")

    def _exchange(self, sent: bytes, size: int, timeout_s: float) -> bytes:
        try:
            self.port.reset_input_buffer()
        except (AttributeError, NotImplementedError):
            pass
        self.port.write(sent)
        got = bytearray()
        deadline = time.monotonic() + timeout_s
        while len(got) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReplyTimeout(
                    f"lock board {sent[1]}: no complete reply",
                    sent,
                    bytes(got),
                    rs485_hint(bytes(got), "the board address (--board; the DIP switches)"),
                )
            self.port.timeout = min(left, 0.1)
            got += self.port.read(size - len(got))
            # skip line noise before a start byte
            while got and got[0] not in (OPEN, QUERY):
                del got[0]
        raw = bytes(got)
        if xor(raw[:-1]) != raw[-1]:
            raise FrameError(f"lock board {sent[1]}: reply checksum {raw[-1]:02X}, computed {xor(raw[:-1]):02X}", raw)
        if raw[1] != sent[1]:
            raise FrameError(f"lock board {sent[1]}: reply from board {raw[1]}", raw)
        return raw

    def _door_open(self, raw: bytes, sensor: int) -> bool:
        if sensor not in (SENSOR_HIGH, SENSOR_LOW):
            raise FrameError(f"lock board {raw[1]}: door sensor byte {sensor:02X} is neither 11 nor 00", raw)
        return sensor == self.door_open_value

    def open_lock(self, board: int, lock: int) -> bool:
        """Fire one lock; True if its door reads open afterwards (False: jammed or held shut)."""
        self._check(board, lock)
        raw = self._exchange(open_request(board, lock), 5, self.open_timeout_s)
        if raw[2] != lock:
            raise FrameError(f"lock board {board}: open reply for lock {raw[2]}, asked {lock}", raw)
        return self._door_open(raw, raw[3])

    def open_all(self, board: int) -> None:
        """Fire every lock of a board (the board answers once)."""
        self._check(board)
        raw = self._exchange(open_request(board, 0), 5, self.open_timeout_s + 0.1 * self.locks)
        if raw[2] != 0:
            raise FrameError(f"lock board {board}: open-all reply for lock {raw[2]}", raw)

    def query(self, board: int, lock: int) -> bool:
        """True if the door of this lock is open."""
        self._check(board, lock)
        raw = self._exchange(query_request(board, lock), 5, self.reply_timeout_s)
        if raw[0] != QUERY or raw[2] != lock:
            raise FrameError(f"lock board {board}: query reply does not match lock {lock}", raw)
        return self._door_open(raw, raw[3])

    def query_all(self, board: int) -> dict[int, bool]:
        """Door open? for every lock of the board, 1..locks_per_board."""
        self._check(board)
        raw = self._exchange(query_request(board, 0), 8, self.reply_timeout_s)
        if raw[0] != QUERY or raw[6] != CMD_QUERY:
            raise FrameError(f"lock board {board}: not a query-all reply", raw)
        high = bits_to_levels(raw[2], raw[3], raw[4], raw[5], self.locks)
        return {n: level == (self.door_open_value == SENSOR_HIGH) for n, level in high.items()}
