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
    """No reply, or only part of one, within the time the device is allowed."""

    def __init__(self, message: str, sent: bytes = b"", received: bytes = b"") -> None:
        self.sent, self.received = bytes(sent), bytes(received)
        super().__init__(f"{message} (sent {sent.hex(' ') or '-'}; received {received.hex(' ') or 'nothing'})")


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
