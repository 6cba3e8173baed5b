"""Secrets of the pickup feature: the per-hall key, pickup codes, signed QR tokens and locker commands.

* The hall's pickup key comes from ``HALLKIT_PICKUP_SECRET`` or a 0600 file ``pickup.secret`` in the
  hall's data_dir (32 random bytes, created on first use). The controller and the locker hosts of a
  hall read the same key.
* A pickup code (6-8 digits, from ``secrets``) is stored as ``HMAC-SHA256(key, "code:" + code)``.
* The notification QR is ``HKP1.<payload>.<signature>`` (base64url); the payload names the hall, the
  item, a per-item nonce and an expiry; the signature is HMAC-SHA256 under the key. A collected or
  returned item no longer matches, so a QR works once.
* ``locker.open`` carries ``auth`` = HMAC over hall, device, board, lock, pickup id and its own
  expiry, so a locker host opens only what the controller asked for, and only before that expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets

from devices.secret_file import hall_key

SECRET_ENV = "HALLKIT_PICKUP_SECRET"
SECRET_FILE = "pickup.secret"
QR_PREFIX = "HKP1"


class QrInvalid(ValueError):
    """The QR text is not a pickup QR of this hall, or its signature is wrong."""


class QrExpired(ValueError):
    """A genuine pickup QR past its expiry."""


def hall_secret(data_dir: str | os.PathLike[str]) -> bytes:
    return hall_key(data_dir, SECRET_FILE, SECRET_ENV, "pickup secret")


def new_code(digits: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(digits))


def code_hash(secret: bytes, code: str) -> str:
    return hmac.new(secret, b"code:" + code.strip().encode("ascii", "replace"), hashlib.sha256).hexdigest()


def mask_code(code: str) -> str:
    return "*" * len(code)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_qr(secret: bytes, hall: str, item_id: int, nonce: str, expires_at: float) -> str:
    payload = _b64(
        json.dumps({"h": hall, "i": item_id, "n": nonce, "e": int(expires_at)}, separators=(",", ":")).encode()
    )
    sig = _b64(hmac.new(secret, f"{QR_PREFIX}.{payload}".encode(), hashlib.sha256).digest())
    return f"{QR_PREFIX}.{payload}.{sig}"


def verify_qr(secret: bytes, hall: str, text: str, now: float) -> tuple[int, str]:
    """(item_id, nonce) of a genuine, unexpired QR of this hall; QrInvalid / QrExpired otherwise."""
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[0] != QR_PREFIX:
        raise QrInvalid("not a pickup QR code")
    want = hmac.new(secret, f"{QR_PREFIX}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        got = _unb64(parts[2])
        body = json.loads(_unb64(parts[1]))
    except (ValueError, TypeError):
        raise QrInvalid("damaged pickup QR code") from None
    if not hmac.compare_digest(want, got):
        raise QrInvalid("pickup QR signature does not match")
    if (
        not isinstance(body, dict)
        or body.get("h") != hall
        or not isinstance(body.get("i"), int)
        or not isinstance(body.get("n"), str)
        or not isinstance(body.get("e"), int)
    ):
        raise QrInvalid("pickup QR of another hall or an unknown format")
    if now > body["e"]:
        raise QrExpired("pickup QR has expired")
    return body["i"], body["n"]


def locker_auth(secret: bytes, hall: str, device: str, board: int, lock: int, pickup_id: str, expires_at: float) -> str:
    msg = f"locker.open|{hall}|{device}|{board}|{lock}|{pickup_id}|{expires_at:.3f}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()
