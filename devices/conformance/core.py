"""What every conformance check uses: the recording port (:class:`SpyPort`), the :class:`Probe`
handed to a check, :func:`expect`, and :class:`CheckSet`, the list of checks of one module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drivers.transport import open_transport


class SpyPort:
    """A serial port that records the exchange (direction, bytes)."""

    def __init__(self, port: Any) -> None:
        self._port = port
        self.log: list[tuple[str, bytes]] = []

    def write(self, data: bytes) -> int:
        self.log.append(("->", bytes(data)))
        written: int = self._port.write(data)
        return written

    def read(self, n: int = 1) -> bytes:
        data: bytes = self._port.read(n)
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
    ran: bool = True  # False: not run, the device did not answer as this kind at all
    error: Exception | None = field(default=None, repr=False)


Check = Callable[[Probe], None]


class CheckSet:
    """The checks one module defines, per device kind, in the order they are written."""

    def __init__(self) -> None:
        self.by_kind: dict[str, list[tuple[str, Check]]] = {}

    def check(self, kind: str, name: str) -> Callable[[Check], Check]:
        def deco(fn: Check) -> Check:
            self.by_kind.setdefault(kind, []).append((name, fn))
            return fn

        return deco
