"""Identifying a citizen at the kiosk: ID card on the reader, or a 居民码 / e-licence QR on the scanner.

What leaves this module is an :class:`~kiosk.ports.Identity`: the salted identity token (the only
form that may go on the bus), the masked ID number and name for the screen, and the age for the
elderly green channel. The card record itself (ID number, full name, photo) is dropped here.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

from devices import identity as _identity
from drivers.personal import mask_id, mask_name
from kiosk.ports import Identity, age_on, error_detail, is_offline, is_timeout, parse_birth
from kiosk.resident_code import ResidentCodeVerifier

APPOINTMENT_QR = re.compile(r"^(?:APPT:|hallkit://appointment/)([A-Za-z0-9-]{4,32})$")


class ReaderUnavailable(Exception):
    """The reader is unplugged, offline or not configured: offer another way."""


class NoCard(Exception):
    """Nobody put a card on the reader in time."""


class CardReadFailed(Exception):
    """A card was there but could not be read (bad read, unknown card)."""


def _first(obj: Any, *names: str) -> Any:
    for n in names:
        value = obj.get(n) if isinstance(obj, dict) else getattr(obj, n, None)
        if value:
            return value
    return None


def identity_token(text: str, salt: bytes | None = None) -> str:
    """The salted HMAC-SHA256 token standing for an identity on the bus (``devices.identity``'s rule and salt)."""
    return _identity.identity_token(text, salt)


def identity_from_card(card: Any, salt: bytes | None, today: dt.date | None = None) -> Identity:
    number = _first(card, "id_number", "number", "id_no", "residence_number", "pass_number")
    if not number:
        raise CardReadFailed("card without an ID number")
    number = str(number)
    name = str(_first(card, "name", "name_zh", "name_en") or "")
    birth = parse_birth(_first(card, "birth", "birth_date", "birthday"))
    today = today or dt.date.today()
    age = age_on(birth, today) if birth else None
    return Identity(
        token=identity_token(number, salt),
        masked_id=mask_id(number),
        masked_name=mask_name(name),
        age=age,
        source="idcard",
    )


def identity_from_resident_code(
    code: str, verifier: ResidentCodeVerifier, salt: bytes | None, today: dt.date | None = None
) -> Identity:
    """A 居民码 / e-licence QR, checked by the hall's verifier (kiosk.resident_code): the same Identity the
    ID card gives for that person, or :class:`~kiosk.resident_code.ResidentCodeRefused` with its reason.
    Any QR that is not a valid signed code (a document's code, a web address) identifies nobody."""
    return verifier.verify(code, salt, today)


def appointment_in_qr(payload: str) -> str | None:
    m = APPOINTMENT_QR.match(payload.strip())
    return m.group(1) if m else None


def reader_ready(reader: Any) -> bool:
    """The kiosk has an ID card reader that is not known to be unplugged (offline)."""
    if reader is None:
        return False
    return str(getattr(getattr(reader, "state", None), "value", getattr(reader, "state", ""))) != "offline"


def read_card_identity(
    reader: Any,
    wait_s: float,
    cancelled: Callable[[], bool],
    salt: bytes | None,
    clock: Callable[[], float] = time.monotonic,
    today: dt.date | None = None,
) -> Identity:
    """Wait for a card (in short slices so a cancel is honoured), read it, return its Identity."""
    if not reader_ready(reader):
        raise ReaderUnavailable("no ID card reader")
    deadline = clock() + wait_s
    try:
        while True:
            if cancelled():
                raise NoCard("cancelled")
            try:
                present = reader.wait_for_card(min(0.5, max(0.05, deadline - clock())))
            except Exception as exc:
                if is_timeout(exc):
                    present = False
                else:
                    raise
            if present:
                break
            if clock() >= deadline:
                raise NoCard("no card")
        card = reader.read_card()
    except (NoCard, ReaderUnavailable, CardReadFailed):
        raise
    except Exception as exc:
        if is_offline(exc):
            raise ReaderUnavailable(str(exc)) from None
        raise CardReadFailed(error_detail(exc)) from None
    try:
        return identity_from_card(card, salt, today)
    finally:
        del card
