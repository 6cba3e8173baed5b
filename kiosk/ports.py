"""What the kiosk flows need from the outside world, as small ports (typing.Protocol).

The flows never import a device class: they receive objects that have these methods. In the app
and the tests these are the real device objects of ``devices/`` (ID card reader, receipt printer,
document scanner) and a real :class:`hall_bus.client.BusClient`. Exceptions from the device layer
are recognised by name (``DeviceOffline``, ``DeviceTimeout``, ``PrinterNotReady`` ...) through
:func:`is_offline` and friends, so a flow works with any device that raises the documented tree.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol


class BusPort(Protocol):
    """The part of :class:`hall_bus.client.BusClient` the flows use."""

    @property
    def connected(self) -> bool: ...

    def request(self, op: str, data: dict, timeout: float = 5.0, retry_s: float = 1.0,
                topic: str | None = None) -> Any: ...


class IdCardPort(Protocol):
    """``devices.idcard.IdCardReader``: wait until a card lies on the reader, then read it."""

    def wait_for_card(self, timeout: float) -> bool: ...

    def read_card(self) -> Any: ...


class PrinterPort(Protocol):
    """``devices.printer.ReceiptPrinter``: print a queue ticket or raise PrinterNotReady."""

    def print_ticket(self, doc: Any) -> Any: ...


class ScannerPort(Protocol):
    """The document camera as the kiosk uses it (adapted from ``devices.scanner`` in kiosk.devices)."""

    def capture_page(self, timeout: float) -> "ScannedPage | None": ...

    def read_code(self, timeout: float) -> str | None: ...

    def save_pages(self, pages: list["ScannedPage"]) -> str: ...


@dataclass(frozen=True)
class ScannedPage:
    """One captured page: a preview image for the screen and an opaque handle for saving."""

    preview_png: bytes
    width: int
    height: int
    handle: Any = None


@dataclass(frozen=True)
class Identity:
    """What a kiosk keeps of an identified citizen: never the ID number itself.

    ``token`` is the salted HMAC-SHA256 that may travel on the bus; ``masked_id`` and
    ``masked_name`` are for the screen only; ``age`` drives the elderly green channel.
    """

    token: str
    masked_id: str
    masked_name: str
    age: int | None
    source: str  # "idcard" | "qr"


def exception_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def is_offline(exc: BaseException) -> bool:
    """The device is gone (unplugged, transport closed, never opened)."""
    return bool(exception_names(exc) & {"DeviceOffline", "TransportError", "SerialException", "ConnectionError",
                                        "BrokenPipeError", "FileNotFoundError"})


def is_timeout(exc: BaseException) -> bool:
    return bool(exception_names(exc) & {"DeviceTimeout", "ReplyTimeout", "TimeoutError"})


def is_bus_error(exc: BaseException) -> bool:
    """The hall bus did not answer (down, timed out): retry later, never a frozen screen."""
    names = exception_names(exc)
    return "BusError" in names and "RequestFailed" not in names


def age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def parse_birth(value: Any) -> dt.date | None:
    """A birth date from a card record: a date, 'YYYYMMDD' or 'YYYY-MM-DD'."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("-", "")
    if len(text) == 8 and text.isdigit():
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    return None
