"""Open a byte transport from a URL, the pyserial way.

* a tty path: ``/dev/ttyUSB0``, ``/dev/pts/5`` (a simulator's pty);
* anything ``serial.serial_for_url`` takes: ``socket://host:port`` (serial servers, simulators on
  TCP), ``loop://``, ``spy:///dev/ttyUSB0`` (hexdump of a real port);
* ``sim://<kind>?<query>``: the bundled simulator of that kind, started in-process behind a
  loopback socket with line-rate emulation (``simulators/schemes/protocol_sim.py``). The driver sees
  an ordinary serial port; nothing anywhere branches on "simulated".
"""

from __future__ import annotations

from typing import Protocol, cast

import serial

from drivers.errors import TransportError

_SCHEMES_PACKAGE = "simulators.schemes"
if _SCHEMES_PACKAGE not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append(_SCHEMES_PACKAGE)


class SerialPort(Protocol):
    """What the drivers use of an open port: every pyserial port class (tty, ``socket://``, ``loop://``,
    ``sim://``) has it, although pyserial's common base class declares only part of it."""

    @property
    def timeout(self) -> float | None: ...

    @timeout.setter
    def timeout(self, value: float | None) -> None: ...

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1, /) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


def open_transport(
    url: str, baudrate: int = 9600, timeout: float = 0.5, write_timeout: float | None = 2.0
) -> SerialPort:
    """Open ``url`` as a serial port; raise TransportError with the reason if it cannot be opened."""
    if not url or not url.strip():
        raise TransportError(url, "no URL given")
    try:
        return cast(
            SerialPort, serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, write_timeout=write_timeout)
        )
    except (serial.SerialException, OSError, ValueError) as exc:
        raise TransportError(url, str(exc) or type(exc).__name__) from None


def read_exactly(port: SerialPort, n: int) -> bytes:
    """Read up to ``n`` bytes within the port's timeout (fewer if the line went quiet)."""
    return port.read(n)
