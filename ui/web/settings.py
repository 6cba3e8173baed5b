"""``[web]`` of hall.toml: where the staff web console listens and how its sessions behave."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from hall_bus.config import ConfigError, HallConfig, Section, checked, int_between
from hall_bus.controller.ticket_link import PublicUrl, public_url


class WebSection(Section):
    host: str = "127.0.0.1"
    port: Annotated[int, int_between(1, 65535)] = 8080
    idle_timeout_min: Annotated[int, int_between(1, 720)] = 15  # a session unused this long is over
    lockout_after: Annotated[int, int_between(1, 100)] = 5  # wrong passwords in a row that lock an account
    lockout_min: Annotated[int, int_between(1, 1440)] = 15  # how long a locked account stays locked
    pairing_code_min: Annotated[int, int_between(1, 120)] = 10  # a tablet's one-time pairing code lasts this long
    bookings_per_client_hour: Annotated[int, int_between(1, 10_000)] = 20  # /book: bookings one address may make
    secure_cookies: bool = False  # set on a hall that serves the console over HTTPS (a reverse proxy)
    public_url: PublicUrl | None = None  # the address phones reach: the base of the ticket's QR link


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    idle_timeout_min: int = 15
    lockout_after: int = 5
    lockout_min: int = 15
    pairing_code_min: int = 10
    bookings_per_client_hour: int = 20
    secure_cookies: bool = False
    public_url: str = ""  # (web_settings fills in the default http://<host>:<port>/)


def web_settings(config: HallConfig) -> WebSettings:
    section = config.extra.get("web", {})
    if not isinstance(section, dict):
        raise ConfigError(config.source, "web", "must be a table")
    values = checked(WebSection, section, config.source, "web").model_dump()
    return WebSettings(**{**values, "public_url": public_url(config)})
