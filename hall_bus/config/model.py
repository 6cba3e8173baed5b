"""The hall model the rest of HallKit uses: frozen dataclasses built from the validated hall.toml
(:mod:`hall_bus.config.schema` checks the file; :func:`hall_bus.config.parse` builds these).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from devices.config import DeviceConfig

WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class OpeningHours:
    """Hours when staffed windows serve; self-service runs around the clock."""

    timezone: str
    week: tuple[tuple[tuple[dt.time, dt.time], ...], ...]  # index 0 = Monday
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()  # weekend days worked (调休)
    always_open: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def spans_on(self, day: dt.date) -> tuple[tuple[dt.time, dt.time], ...]:
        if self.always_open:
            return ((dt.time(0, 0), dt.time(23, 59, 59)),)
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.week[0]
        return self.week[day.weekday()]

    def is_open(self, when: dt.datetime) -> bool:
        local = when.astimezone(self.tz)
        t = local.time()
        return any(start <= t < end for start, end in self.spans_on(local.date()))

    def describe(self, day: dt.date) -> str:
        spans = self.spans_on(day)
        if not spans:
            return "closed"
        return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans)


@dataclass(frozen=True)
class Domain:
    """A business domain (业务领域), e.g. 社保 or 不动产."""

    id: str
    name: str
    name_en: str
    hours: OpeningHours | None = None  # its own walk-in hours; None: as its windows (hall_bus.config.schedule)


@dataclass(frozen=True)
class Service:
    """A service (事项) a citizen takes a ticket for."""

    id: str
    name: str
    name_en: str
    domain: str
    prefix: str
    expected_minutes: float
    self_service: bool = False  # served by a machine, open around the clock (24小时自助)
    daily_cap: int | None = None  # 限号: tickets a day at most; None = up to the numbering limit (99999)


@dataclass(frozen=True)
class Window:
    """A service window (窗口) staffed by a clerk."""

    number: int
    name: str
    domains: tuple[str, ...]
    skills: tuple[str, ...]  # domains the clerk may serve; tidal moves stay within these
    hours: OpeningHours | None = None  # its own hours; None: [hall.hours] (hall_bus.config.schedule)
    appointment_hours: OpeningHours | None = None  # when it serves appointments only (延时服务 by appointment)


@dataclass(frozen=True)
class Kiosk:
    id: str
    name: str


@dataclass(frozen=True)
class QueueRules:
    max_priority_in_row: int = 2  # green-channel calls in a row at one window before a normal ticket
    max_recalls: int = 2
    appointment_early_minutes: int = 15  # an appointment ticket counts as due this long before its slot
    default_expected_minutes: float = 10.0


@dataclass(frozen=True)
class BusConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    broker: str = "embedded"  # embedded | mosquitto | external
    username: str = ""
    password_env: str = ""  # name of the environment variable holding the password
    credentials_dir: str = ""  # where `hallkit bus credentials` wrote per-client passwords
    request_timeout_s: float = 5.0
    keepalive_s: int = 15
    tls: bool = False  # clients verify the broker against the hall CA (see docs/security.md)
    ca_file: str = ""  # the hall CA; default <credentials_dir>/ca.crt
    server_name: str = ""  # the name the broker's certificate must carry; default ``host``
    broker_names: tuple[str, ...] = ()  # names and addresses put in the broker certificate; default host
    client_certs: bool = False  # clients also present a certificate signed by the hall CA
    plain_loopback_port: int = 0  # a plain-TCP listener on 127.0.0.1 for local tools (0 = none)
    max_clock_skew_s: float = 60.0  # a request's sent_at may differ this much from the controller's clock


@dataclass(frozen=True)
class Issuer:
    """A platform trusted to sign resident codes (居民码): its id (the codes' ``kid``/``iss``) and PEM public key."""

    id: str
    name: str
    public_key: str


@dataclass(frozen=True)
class IdentityConfig:
    """``[identity]``: who may sign the resident codes a kiosk accepts, and how old a code may be."""

    issuers: tuple[Issuer, ...] = ()
    max_age_s: float = 300.0


@dataclass(frozen=True)
class HallConfig:
    source: str
    hall_id: str
    name: str
    name_en: str
    hours: OpeningHours
    bus: BusConfig
    queue: QueueRules
    data_dir: str
    domains: tuple[Domain, ...]
    services: tuple[Service, ...]
    windows: tuple[Window, ...]
    devices: tuple[DeviceConfig, ...]
    kiosks: tuple[Kiosk, ...]
    features: tuple[str, ...] | None = None  # [features] enabled; None: every feature
    extra: dict[str, Any] = field(default_factory=dict)  # sections owned by the features (tidal, pickup, ...)
    identity: IdentityConfig = IdentityConfig()  # [identity]: trusted resident-code issuers

    def domain(self, domain_id: str) -> Domain:
        for d in self.domains:
            if d.id == domain_id:
                return d
        raise KeyError(domain_id)

    def service(self, service_id: str) -> Service:
        for s in self.services:
            if s.id == service_id:
                return s
        raise KeyError(service_id)

    def window(self, number: int) -> Window:
        for w in self.windows:
            if w.number == number:
                return w
        raise KeyError(number)

    def services_of(self, domain_id: str) -> list[Service]:
        return [s for s in self.services if s.domain == domain_id]

    def devices_of(self, kind: str) -> list[DeviceConfig]:
        return [d for d in self.devices if d.kind == kind]

    def tz(self) -> ZoneInfo:
        return self.hours.tz
