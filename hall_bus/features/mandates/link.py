"""The signed link printed in the 回执's QR code: ``<public_url>m/<token>``, the citizen's way to
follow a mandate on the phone.

The token is ``<mandate_no>.<signature>``, ``signature`` the first 16 bytes of
``HMAC-SHA256(key, "hallkit-mandate:<hall>:<mandate_no>")`` in base64url (22 characters). The key is
the hall's ticket-link key (:func:`hall_bus.controller.ticket_link.link_secret`); the message's
prefix keeps a ticket's signature from ever passing as a mandate's. A guessed or altered token opens
nothing, exactly as a mandate that does not exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

SIGNATURE_BYTES = 16
_TOKEN = re.compile(r"(DB-\d{8}-\d{4})\.([A-Za-z0-9_-]{22})")


def _signature(secret: bytes, hall: str, mandate_no: str) -> str:
    digest = hmac.new(secret, f"hallkit-mandate:{hall}:{mandate_no}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).rstrip(b"=").decode("ascii")


def sign(secret: bytes, hall: str, mandate_no: str) -> str:
    return f"{mandate_no}.{_signature(secret, hall, mandate_no)}"


def verify(secret: bytes, hall: str, token: str) -> str | None:
    """The mandate number of a genuine token of this hall; ``None`` for anything else."""
    m = _TOKEN.fullmatch(token)
    if m is None or not hmac.compare_digest(m.group(2), _signature(secret, hall, m.group(1))):
        return None
    return m.group(1)


def follow_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/m/{token}"
