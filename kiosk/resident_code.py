"""Resident codes (居民码 / 电子证照 QR): checked by a verifier before they identify anybody.

A resident code is issued by a provincial platform and signed by it. The kiosk trusts a code only
when a configured :class:`ResidentCodeVerifier` accepts it; any other QR (a document's code, a web
address, an unsigned or altered code, an expired one, one from an issuer the hall does not trust) is
refused with a reason the citizen is told in one sentence (``ticket.resident_code.<reason>``).

:class:`SignedCodeVerifier` checks the format documented in ``docs/identity.md``: a JWS compact
serialisation (``header.payload.signature``, base64url) signed with ECDSA P-256 / SHA-256 (``ES256``);
the header names the issuer (``kid``), the payload carries the issuer (``iss``), the holder's ID
number (``sub``) and name, and the issue and expiry times (``iat``, ``exp``). A verified code yields
the same :class:`~kiosk.ports.Identity` the ID card gives for that person: the token is computed from
the ID number in the signed payload by the card's rule (``devices.identity.identity_token``), and
the number itself is dropped here, never stored or logged.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from devices import identity as _identity
from drivers.idcard import id_checksum_ok
from drivers.personal import mask_id, mask_name
from hall_bus.config import IdentityConfig
from kiosk.ports import Identity, age_on, parse_birth

CODE_TYPE = "resident-code"  # the header's "typ"
ALGORITHM = "ES256"
CLOCK_SKEW_S = 30.0  # a code issued this far in the future is still taken (the phone's clock)
ID_NUMBER = re.compile(r"\d{17}[\dX]")
_B64 = re.compile(r"[A-Za-z0-9_-]+")

# Why a code was refused; each is a sentence ``ticket.resident_code.<reason>`` in the kiosk's table.
REASONS = (
    "not_resident_code",  # not this format at all (a document's QR, a web address ...)
    "unsigned",  # the format, but without a signature (alg "none", or an empty signature)
    "unknown_issuer",  # signed by an issuer the hall does not trust
    "bad_signature",  # the signature does not match (altered, or signed with another key)
    "expired",  # past its expiry or older than the hall allows
    "not_yet_valid",  # issued in the future
    "bad_payload",  # signed, but without a valid ID number
    "unavailable",  # no verifier configured at this kiosk
)


class ResidentCodeRefused(Exception):
    """The code does not identify anybody; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class ResidentCodeVerifier(Protocol):
    """What the kiosk asks of a resident-code verifier (the signed-code one below, or a platform's
    online check): the identity a code stands for, or :class:`ResidentCodeRefused`."""

    def verify(self, code: str, salt: bytes | None, today: dt.date | None = None) -> Identity: ...


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuing platform and its ECDSA P-256 public key."""

    id: str
    name: str
    key: ec.EllipticCurvePublicKey


def _b64decode(part: str) -> bytes:
    if not _B64.fullmatch(part):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _json(part: str) -> dict[str, Any]:
    value = json.loads(_b64decode(part).decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def load_public_key(pem: str) -> ec.EllipticCurvePublicKey:
    """An ECDSA P-256 public key from PEM text (ValueError otherwise)."""
    key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not an ECDSA P-256 public key")
    return key


def birth_of(id_number: str) -> dt.date | None:
    """The birth date written in an 18-digit resident ID number (digits 7-14)."""
    return parse_birth(id_number[6:14]) if ID_NUMBER.fullmatch(id_number) else None


class SignedCodeVerifier:
    """Checks a signed resident code offline against the hall's trusted issuers (see the module docstring)."""

    def __init__(
        self, issuers: Iterable[TrustedIssuer], max_age_s: float = 300.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.issuers = {i.id: i for i in issuers}
        self.max_age_s = max_age_s
        self.clock = clock

    @classmethod
    def from_config(cls, config: IdentityConfig, clock: Callable[[], float] = time.time) -> SignedCodeVerifier:
        issuers = [TrustedIssuer(i.id, i.name, load_public_key(i.public_key)) for i in config.issuers]
        return cls(issuers, config.max_age_s, clock)

    def verify(self, code: str, salt: bytes | None, today: dt.date | None = None) -> Identity:
        claims = self.claims(code)
        number = str(claims["sub"]).strip().upper()
        birth = birth_of(number)
        if birth is None or not id_checksum_ok(number):
            raise ResidentCodeRefused("bad_payload", "no valid ID number")
        name = str(claims.get("name") or "")
        return Identity(
            token=_identity.identity_token(number, salt),
            masked_id=mask_id(number),
            masked_name=mask_name(name),
            age=age_on(birth, today or dt.date.today()),
            source="resident_code",
        )

    def claims(self, code: str) -> dict[str, Any]:
        """The signed payload of a valid code (its signature, issuer and times checked)."""
        parts = code.strip().split(".")
        if len(parts) != 3:
            raise ResidentCodeRefused("not_resident_code")
        try:
            header, payload = _json(parts[0]), _json(parts[1])
            signature = _b64decode(parts[2]) if parts[2] else b""
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise ResidentCodeRefused("not_resident_code") from None
        if header.get("typ") != CODE_TYPE:
            raise ResidentCodeRefused("not_resident_code")
        if header.get("alg") != ALGORITHM or not signature:
            raise ResidentCodeRefused("unsigned", f"alg {header.get('alg')!r}")
        issuer = self.issuers.get(str(header.get("kid", "")))
        if issuer is None or payload.get("iss") != issuer.id:
            raise ResidentCodeRefused("unknown_issuer", str(header.get("kid", "")))
        if len(signature) != 64:
            raise ResidentCodeRefused("bad_signature", "not an ES256 signature")
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            issuer.key.verify(der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise ResidentCodeRefused("bad_signature") from None
        self._check_times(payload)
        if not isinstance(payload.get("sub"), str):
            raise ResidentCodeRefused("bad_payload", "no sub")
        return payload

    def _check_times(self, payload: dict[str, Any]) -> None:
        iat, exp = payload.get("iat"), payload.get("exp")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float) or isinstance(iat, bool):
            raise ResidentCodeRefused("bad_payload", "no iat/exp")
        now = self.clock()
        if iat > now + CLOCK_SKEW_S:
            raise ResidentCodeRefused("not_yet_valid")
        if now >= exp or now - iat > self.max_age_s:
            raise ResidentCodeRefused("expired")


class NoVerifier:
    """A kiosk without a configured verifier: every code is refused (``unavailable``)."""

    def verify(self, code: str, salt: bytes | None, today: dt.date | None = None) -> Identity:
        raise ResidentCodeRefused("unavailable")


def verifier_for(config: IdentityConfig | None, clock: Callable[[], float] = time.time) -> ResidentCodeVerifier:
    """The hall's verifier from its ``[identity]`` section (:class:`NoVerifier` without trusted issuers)."""
    if config is None or not config.issuers:
        return NoVerifier()
    return SignedCodeVerifier.from_config(config, clock)
