"""The exceptions drivers raise. Drivers know bytes only; devices/base.py maps these onto the
device exception tree (DeviceError > DeviceTimeout | ProtocolError | ...)."""

from __future__ import annotations

from typing import Any


class DriverError(Exception):
    """Base of every driver-level failure."""


class FrameError(DriverError, ValueError):
    """Bytes that break the protocol: bad frame, checksum mismatch, unexpected reply.
    ``raw`` holds the offending bytes for the technician; a stream codec puts the good frames it
    decoded before the broken one in ``frames``, so none is lost."""

    def __init__(self, message: str, raw: bytes = b"") -> None:
        self.raw = bytes(raw)
        self.frames: list[Any] = []
        shown = f" [{self.raw.hex(' ')}]" if self.raw else ""
        super().__init__(message + shown)


class ReplyTimeout(DriverError, TimeoutError):
    """No reply, or only part of one, within the time the device is allowed. ``hint`` is the likely
    cause in a technician's words (what to check), appended to the message."""

    def __init__(self, message: str, sent: bytes = b"", received: bytes = b"", hint: str = "") -> None:
        self.sent, self.received, self.hint = bytes(sent), bytes(received), hint
        shown = f"{message} (sent {sent.hex(' ') or '-'}; received {received.hex(' ') or 'nothing'})"
        super().__init__(f"{shown}: {hint}" if hint else shown)


def rs485_hint(received: bytes, address: str = "the RS485 address (--address)") -> str:
    """What to check when a device on an RS485 line does not answer: nothing at all points at the
    address, the baud rate or the wiring; bytes that make no frame point at the baud rate or
    swapped A/B wires (which invert every bit)."""
    if received:
        return "bytes came back but no valid frame: check the baud rate (--baud) and that A and B are not swapped"
    return f"check {address}, the baud rate (--baud) and the A/B wiring"


def serial_hint(received: bytes, device: str) -> str:
    """What to check when a device on a plain serial or USB-serial port does not answer."""
    if received:
        return f"bytes came back but no valid reply: check the baud rate (--baud) of the {device}"
    return f"check that the {device} is powered and on this port (--url), and the baud rate (--baud)"


class DeviceReported(DriverError):
    """The device answered with an error status (no card, read failure, door jammed ...)."""

    def __init__(self, code: int | str, text: str) -> None:
        self.code, self.text = code, text
        super().__init__(f"device reported {code if isinstance(code, str) else f'0x{code:02X}'}: {text}")


class TransportError(DriverError, OSError):
    """The transport behind a URL cannot be opened or went away (unplugged, refused, closed)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(f"{url}: {reason}")
