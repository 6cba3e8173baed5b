"""The kiosk's ID card reader as a hall device.

``wait_for_card(timeout_s)`` polls "find card" every ``poll_interval_s`` (profile setting, 0.25 s by
default) instead of hammering the line; ``read_card()`` runs find/select/read (with the driver's
retries) and returns the :class:`~drivers.idcard.Card`. The bus only ever sees the device event
``card`` with the salted identity token, the masked number, the age band and the sex; logs see the
masked number at most.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from devices import identity
from devices.base import Device, DeviceError, DeviceFault, DriverSlot
from devices.config import DeviceConfig
from devices.factory import register_kind
from drivers import idcard as sam
from drivers.errors import DeviceReported
from drivers.transport import open_transport

log = logging.getLogger(__name__)

FAULT_CODES = {
    sam.NO_CARD: "no_card",
    sam.SELECT_FAILED: "select_failed",
    sam.READ_FAILED: "read_failed",
    0x40: "wrong_card_type",
    0x31: "auth_failed",
    0x32: "auth_failed",
    0x33: "verify_failed",
    0x60: "sam_fault",
    0x66: "sam_not_authorised",
}


class NoCard(DeviceFault):
    """No card on the reader."""


class IdCardReader(Device):
    kind = "idcard"

    def __init__(self, config: DeviceConfig, salt: bytes | None = None) -> None:
        super().__init__(config)
        self.link: DriverSlot[sam.IdCardDriver] = DriverSlot(config.id)
        self.salt = salt
        self.poll_interval_s = float(config.options.get("poll_interval_s", self.profile.get("poll_interval_s", 0.25)))
        self.baudrate = int(config.options.get("baudrate", self.profile.get("baudrate", 115200)))
        self.retries = int(self.profile.get("read_retries", 2))
        self.reply_timeout_s = float(self.profile.get("reply_timeout_s", 1.0))
        self._stop = threading.Event()

    # ------------------------------------------------------------------ Device
    def _open_driver(self) -> None:
        port = open_transport(self.config.url, baudrate=self.baudrate, timeout=0.1)
        self.link.value = sam.IdCardDriver(port, reply_timeout_s=self.reply_timeout_s, retries=self.retries)

    @property
    def driver(self) -> sam.IdCardDriver:
        """The open driver (DeviceOffline before the reader was opened)."""
        return self.link.get()

    def _close_driver(self) -> None:
        self.link.close()

    def _probe(self) -> None:
        self.driver.sam_status()

    def _translate(self, exc: Exception) -> DeviceError:
        if isinstance(exc, DeviceReported) and isinstance(exc.code, int):
            code = FAULT_CODES.get(exc.code, f"sam_{exc.code:02x}")
            cls = NoCard if exc.code == sam.NO_CARD else DeviceFault
            return cls(self.id, code, exc.text)
        return super()._translate(exc)

    # ------------------------------------------------------------------ card operations
    def card_present(self) -> bool:
        return self.guard(lambda: self.driver.find())

    def wait_for_card(self, timeout_s: float) -> bool:
        """True as soon as a card lies on the reader, False after ``timeout_s`` without one."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            if self.card_present():
                return True
            left = deadline - time.monotonic()
            if left <= 0 or self._stop.wait(min(self.poll_interval_s, left)):
                return False

    def cancel_wait(self) -> None:
        """Make a wait_for_card running on another thread return False now."""
        self._stop.set()
        self._stop = threading.Event()

    def read_card(self, today: dt.date | None = None) -> sam.Card:
        card: sam.Card = self.guard(lambda: self.driver.read_card())
        log.info("%s: read %s card %s", self.id, card.card_type, card.masked_id)
        self.publish_event("card", "idcard.card", card_event(card, self.salt, today))
        return card


def card_event(card: sam.Card, salt: bytes | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """What a card read may tell the bus: token, masked number, age band, sex. Nothing else."""
    return {
        "token": identity.identity_token(card.id_number, salt),
        "id_masked": card.masked_id,
        "age_band": identity.age_band(identity.age_years(card.birth, today)),
        "sex": card.sex,
        "card_type": card.card_type,
    }


register_kind("idcard", IdCardReader)
