"""The ticket on the phone: the signed link printed in the ticket's QR code (扫码查看排队进度).

A ticket's link is ``<public_url>t/<token>``. The token is ``<yyyymmdd>.<code>.<id>.<signature>``:
the day, the ticket code and the ticket's row id in the clear (none of them personal; the code is
printed on the paper anyway) and ``signature`` = the first 16 bytes of
``HMAC-SHA256(key, "hallkit-ticket:<hall>:<day>:<id>:<code>")``, base64url (22 characters, 128 bits).
Without the key nobody can make the token of another ticket, so a guessed or altered link opens
nothing, and the page answers it exactly as it answers a ticket that does not exist.

The key is made once per hall: ``HALLKIT_TICKET_LINK_SECRET`` or a 0600 file ``ticket-link.secret``
in the hall's data_dir (like the pickup key). The controller mints the token when it issues a
ticket and answers ``ticket.issue`` with the link (``phone_url``), so the kiosk, which holds no
secret, prints what it is given; the web console, on the hall server beside the controller, reads
the same key to check a link before it asks the bus anything.

``public_url`` comes from ``[web] public_url`` of hall.toml (the address phones reach the web
console at, e.g. ``https://hall.example.gov.cn/``), by default ``http://<[web] host>:<[web] port>/``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import Annotated, Any

from devices.secret_file import hall_key
from hall_bus.config import ConfigError, HallConfig, Section, checked, int_between, rule
from hall_bus.vocabulary import TICKET_CODE_PATTERN

SECRET_ENV = "HALLKIT_TICKET_LINK_SECRET"
SECRET_FILE = "ticket-link.secret"
SIGNATURE_BYTES = 16
_TOKEN = re.compile(rf"(\d{{8}})\.({TICKET_CODE_PATTERN})\.(\d{{1,12}})\.([A-Za-z0-9_-]{{22}})")


def _is_base_url(value: str) -> bool:
    return re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value) is not None


PublicUrl = Annotated[
    str, rule(_is_base_url, "must be an http:// or https:// address, e.g. https://hall.example.gov.cn/")
]


class WebAddress(Section):
    """The keys of ``[web]`` that make the phone link (the web console checks the whole table)."""

    host: str = "127.0.0.1"
    port: Annotated[int, int_between(1, 65535)] = 8080
    public_url: PublicUrl | None = None


def public_url(config: HallConfig) -> str:
    """The base URL printed in the QR codes, ending in ``/``."""
    section = config.extra.get("web", {})
    if not isinstance(section, dict):
        raise ConfigError(config.source, "web", "must be a table")
    wanted = {k: v for k, v in section.items() if k in WebAddress.model_fields}
    address = checked(WebAddress, wanted, config.source, "web")
    base = address.public_url or f"http://{address.host}:{address.port}/"
    return base if base.endswith("/") else base + "/"


def link_secret(data_dir: str | os.PathLike[str]) -> bytes:
    return hall_key(data_dir, SECRET_FILE, SECRET_ENV, "ticket link secret")


@dataclass(frozen=True)
class TicketRef:
    """The ticket a genuine token names."""

    day: str  # YYYY-MM-DD
    code: str
    id: int


def _signature(secret: bytes, hall: str, ref: TicketRef) -> str:
    message = f"hallkit-ticket:{hall}:{ref.day}:{ref.id}:{ref.code}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(secret: bytes, hall: str, ticket: dict[str, Any]) -> str:
    """The token of ``ticket`` (its ``day``, ``code`` and ``id``)."""
    ref = TicketRef(str(ticket["day"]), str(ticket["code"]), int(ticket["id"]))
    return f"{ref.day.replace('-', '')}.{ref.code}.{ref.id}.{_signature(secret, hall, ref)}"


def verify(secret: bytes, hall: str, token: str) -> TicketRef | None:
    """The ticket of a genuine token of this hall; ``None`` for anything else (malformed, altered,
    another hall's), with no difference between the reasons."""
    m = _TOKEN.fullmatch(token)
    if m is None:
        return None
    day8, code, ticket_id, sig = m.groups()
    ref = TicketRef(f"{day8[:4]}-{day8[4:6]}-{day8[6:]}", code, int(ticket_id))
    if not hmac.compare_digest(sig, _signature(secret, hall, ref)):
        return None
    return ref


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/t/{token}"


class TicketLinks:
    """What the controller holds: the key and the base URL of the hall (read once)."""

    def __init__(self, config: HallConfig) -> None:
        self.hall = config.hall_id
        self.base_url = public_url(config)
        self.secret = link_secret(config.data_dir)

    def url_of(self, ticket: dict[str, Any]) -> str:
        return link(self.base_url, sign(self.secret, self.hall, ticket))
