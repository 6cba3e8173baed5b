"""Conformance checks per device kind, run against any URL (the simulator or the real device), so a
technician runs the very same checks on both: ``hallkit conformance <kind> --url URL``.

Each check gets a :class:`Probe`: the opened transport wrapped so every byte written and read is
recorded. A failed check reports what went wrong and the bytes exchanged. Checks for a kind are
registered with :func:`check`; drivers are the project's own, so passing the suite means "our driver
and this device agree on the protocol".
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from drivers.transport import open_transport


class SpyPort:
    """A serial port that records the exchange (direction, bytes)."""

    def __init__(self, port: Any) -> None:
        self._port = port
        self.log: list[tuple[str, bytes]] = []

    def write(self, data: bytes) -> int:
        self.log.append(("->", bytes(data)))
        return self._port.write(data)

    def read(self, n: int = 1) -> bytes:
        data = self._port.read(n)
        if data:
            self.log.append(("<-", bytes(data)))
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_port", "log"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._port, name, value)

    def transcript(self, limit: int = 12) -> str:
        merged: list[tuple[str, bytearray]] = []
        for d, b in self.log:
            if merged and merged[-1][0] == d:
                merged[-1][1].extend(b)
            else:
                merged.append((d, bytearray(b)))
        return "\n".join(f"    {d} {bytes(b).hex(' ')}" for d, b in merged[-limit:])


class CheckFailed(AssertionError):
    pass


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise CheckFailed(message)


@dataclass
class Probe:
    url: str
    baudrate: int
    options: dict[str, str]
    port: SpyPort = field(init=False)

    def __post_init__(self) -> None:
        self.port = SpyPort(open_transport(self.url, baudrate=self.baudrate, timeout=0.5))

    def close(self) -> None:
        self.port._port.close()


@dataclass
class Result:
    name: str
    passed: bool
    detail: str = ""
    transcript: str = ""
    seconds: float = 0.0


_checks: dict[str, list[tuple[str, Callable[[Probe], None]]]] = {}
DEFAULT_BAUD = {"idcard": 115200, "locker": 9600, "pad": 9600, "caller": 9600, "display": 9600, "printer": 115200}


def check(kind: str, name: str) -> Callable:
    def deco(fn: Callable[[Probe], None]) -> Callable[[Probe], None]:
        _checks.setdefault(kind, []).append((name, fn))
        return fn
    return deco


def kinds() -> list[str]:
    import devices.conformance_hall  # noqa: F401  (registers pad, caller, display)

    return sorted(_checks)


def run(kind: str, url: str, baudrate: int | None = None, options: dict[str, str] | None = None) -> list[Result]:
    kinds()
    if kind not in _checks:
        raise KeyError(f"no conformance checks for {kind!r} (kinds: {', '.join(kinds())})")
    results = []
    for name, fn in _checks[kind]:
        t0 = time.monotonic()
        probe = None
        try:
            probe = Probe(url, baudrate or DEFAULT_BAUD.get(kind, 9600), dict(options or {}))
            fn(probe)
            results.append(Result(name, True, seconds=time.monotonic() - t0))
        except Exception as exc:  # noqa: BLE001 - every failure is a result, with the bytes
            detail = f"{type(exc).__name__}: {exc}" if not isinstance(exc, CheckFailed) else str(exc)
            if not isinstance(exc, (CheckFailed, OSError, TimeoutError, ValueError)):
                detail += "\n" + traceback.format_exc(limit=2)
            results.append(Result(name, False, detail, probe.port.transcript() if probe else "", time.monotonic() - t0))
        finally:
            if probe is not None:
                probe.close()
    return results


# ---------------------------------------------------------------------------------------------- ID card
@check("idcard", "SAM status answers 90 (ready)")
def _idcard_status(p: Probe) -> None:
    from drivers.idcard import IdCardDriver

    IdCardDriver(p.port).sam_status()


@check("idcard", "find, select and read a card; the ID number's check digit is right")
def _idcard_read(p: Probe) -> None:
    from drivers.idcard import IdCardDriver

    drv = IdCardDriver(p.port)
    expect(drv.find(), "no card found: put a card on the reader")
    drv.select()
    card = drv.read_card()
    expect(card.checksum_ok, f"the card's ID number {card.masked_id} fails its check digit")
    expect(card.card_type in ("resident", "J", "I"), f"unknown card type {card.card_type!r}")


@check("idcard", "a corrupted frame does not upset the next exchange")
def _idcard_resync(p: Probe) -> None:
    from drivers.idcard import IdCardDriver

    p.port.write(b"\xaa\xaa\xaa\x96\x69\x00\x03\x20\x01\x00")  # a frame with a wrong checksum
    time.sleep(0.2)
    p.port._port.reset_input_buffer()
    IdCardDriver(p.port).sam_status()


# ---------------------------------------------------------------------------------------------- locker
@check("locker", "query all locks of board 1")
def _locker_query(p: Probe) -> None:
    from drivers.locker import LockBoardBus

    doors = LockBoardBus(p.port).query_all(int(p.options.get("board", 1)))
    expect(len(doors) >= 1, "no door states in the reply")


@check("locker", "open a lock and see its door open")
def _locker_open(p: Probe) -> None:
    from drivers.locker import LockBoardBus

    board, lock = int(p.options.get("board", 1)), int(p.options.get("lock", 1))
    bus = LockBoardBus(p.port)
    expect(bus.open_lock(board, lock), f"board {board} did not confirm opening lock {lock}")
    expect(bus.query(board, lock), f"lock {lock} reports its door closed right after opening")


# ---------------------------------------------------------------------------------------------- printer
@check("printer", "DLE EOT 1, 2 and 4 answer valid status bytes")
def _printer_status(p: Probe) -> None:
    for n in (1, 2, 4):
        p.port.write(bytes([0x10, 0x04, n]))
        got = p.port.read(1)
        expect(len(got) == 1, f"no answer to DLE EOT {n}")
        expect(not got[0] & 0x81 and (got[0] & 0x12) == 0x12, f"DLE EOT {n} answered {got.hex()}, not a status byte")
