"""What the kiosk flows need from the outside world, as small ports (typing.Protocol).

The flows never import a device class: they receive objects that have these methods. In the app
and the tests these are the real device objects of ``devices/`` (ID card reader, receipt printer,
document scanner) and a real :class:`hall_bus.client.BusClient`. Exceptions are recognised by their
class (``DeviceOffline``, ``DeviceTimeout``, the bus's ``BusError``) through :func:`is_offline` and
friends, and a refused bus request by its :attr:`RequestFailed.code`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import serial
from pydantic import BaseModel

from devices.base import DeviceOffline, DeviceTimeout
from drivers.errors import ReplyTimeout, TransportError
from hall_bus.bus.client import BusError, RequestFailed
from hall_bus.bus.envelope import M


class BusPort(Protocol):
    """The part of :class:`hall_bus.client.BusClient` the flows use: the typed ``call`` (the op's request
    model in, its response model back, see ``hall_bus.contracts``)."""

    @property
    def connected(self) -> bool: ...

    def call(
        self,
        op: str,
        request: BaseModel,
        reply: type[M],
        timeout: float = 5.0,
        retry_s: float = 1.0,
        topic: str | None = None,
    ) -> M: ...


class IdCardPort(Protocol):
    """``devices.idcard.IdCardReader``: wait until a card lies on the reader, then read it."""

    def wait_for_card(self, timeout: float) -> bool: ...

    def read_card(self) -> Any: ...


class PrinterPort(Protocol):
    """``devices.printer.ReceiptPrinter``: print a queue ticket or raise PrinterNotReady."""

    def print_ticket(self, doc: Any) -> Any: ...


class ScannerPort(Protocol):
    """The document camera as the kiosk uses it (adapted from ``devices.scanner`` in kiosk.devices)."""

    def capture_page(self, timeout: float) -> ScannedPage | None: ...

    def read_code(self, timeout: float) -> str | None: ...

    def save_pages(self, pages: list[ScannedPage]) -> str: ...


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


OFFLINE_ERRORS = (
    DeviceOffline,
    TransportError,
    serial.SerialException,
    ConnectionError,
    BrokenPipeError,
    FileNotFoundError,
)
TIMEOUT_ERRORS = (DeviceTimeout, ReplyTimeout, TimeoutError)


def is_offline(exc: BaseException) -> bool:
    """The device is gone (unplugged, transport closed, never opened)."""
    return isinstance(exc, OFFLINE_ERRORS)


def is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TIMEOUT_ERRORS)


def is_bus_error(exc: BaseException) -> bool:
    """The hall bus did not answer (down, timed out): retry later, never a frozen screen."""
    return isinstance(exc, BusError) and not isinstance(exc, RequestFailed)


def error_detail(exc: BaseException) -> str:
    """The human part of an error: a RequestFailed's message without its ``op: code:`` prefix."""
    text = str(exc)
    if isinstance(exc, RequestFailed):
        return text.removeprefix(f"{exc.op}: {exc.code}: ")
    return text or exc.__class__.__qualname__


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
