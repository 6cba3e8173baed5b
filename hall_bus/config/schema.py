"""hall.toml as pydantic v2 models, one per section: ``[hall]`` with ``[hall.hours]``, ``[bus]``,
``[queue]``, ``[[domains]]``, ``[[services]]``, ``[[windows]]``, ``[[kiosks]]``, ``[[devices]]`` and
``[features]`` and ``[identity]``. Field checks speak their own sentences (:func:`~hall_bus.config.checks.rule`); the
checks across sections (an unknown domain, a duplicate id, a prefix of two domains, a window serving a
domain its clerk lacks) are the model validator of :class:`HallFile`. Tables owned by features
(``[tidal]``, ``[pickup]`` ...) are kept raw here and checked by the feature's own model.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator

from hall_bus.config.checks import ID_RULE, Problem, Section, is_id, rule

_PREFIX = re.compile(r"[A-Z]{1,2}")
_SPAN = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
TABLES = ("hall", "bus", "queue", "features", "identity")
ARRAYS = ("domains", "services", "windows", "kiosks", "devices")
REQUIRED_ARRAYS = ("domains", "services", "windows")

Id = Annotated[str, ID_RULE]
Span = tuple[dt.time, dt.time]


def _span(item: Any) -> Span:
    m = _SPAN.fullmatch(item) if isinstance(item, str) else None
    if not m:
        raise ValueError(f'{item!r} is not a span like "09:00-12:00"')
    h1, m1, h2, m2 = map(int, m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{item!r} is not a valid time span")
    start = dt.time(h1, m1)
    end = dt.time(23, 59, 59, 999999) if h2 == 24 else dt.time(h2, m2)
    if end <= start:
        raise ValueError(f"{item!r} ends before it starts")
    return start, end


def _span_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value] if value else []
    if not isinstance(value, list):
        raise ValueError('must be an array of "HH:MM-HH:MM" strings')
    return value


def _no_overlap(spans: list[Span]) -> list[Span]:
    spans = sorted(spans)
    if any(a2 < b1 for (_a1, b1), (a2, _b2) in zip(spans, spans[1:], strict=False)):
        raise ValueError("spans overlap")
    return spans


def _date(item: Any) -> Any:
    if isinstance(item, str):
        try:
            return dt.date.fromisoformat(item)
        except ValueError:
            raise ValueError(f"{item!r} is not a date like 2026-10-01") from None
    if not isinstance(item, dt.date) or isinstance(item, dt.datetime):
        raise ValueError(f"{item!r} is not a date")
    return item


def _date_list(value: Any) -> Any:
    if not isinstance(value, list):
        raise ValueError("must be an array of dates (2026-10-01)")
    return value


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


Spans = Annotated[
    list[Annotated[Span, BeforeValidator(_span)]], BeforeValidator(_span_list), AfterValidator(_no_overlap)
]
Dates = Annotated[list[Annotated[dt.date, BeforeValidator(_date)]], BeforeValidator(_date_list)]
Number = float  # strict: an int is taken, a bool or a string is not


class WeekModel(Section):
    """A window's or a domain's own hours (延时/错时): the days it names; the rest follow the hall (see
    :mod:`hall_bus.config.schedule`). ``weekdays`` sets Monday to Friday unless a day is named."""

    weekdays: Spans | None = None
    monday: Spans | None = None
    tuesday: Spans | None = None
    wednesday: Spans | None = None
    thursday: Spans | None = None
    friday: Spans | None = None
    saturday: Spans | None = None
    sunday: Spans | None = None


class HoursModel(WeekModel):
    """``[hall.hours]``: the days of a week (every window's unless it has its own) and the calendar."""

    weekdays: Spans = [(dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30))]
    holidays: Dates = []
    workdays: Dates = []
    always_open: bool = False


class HallModel(Section):
    id: Id
    name: str | None = None
    name_en: str = ""
    timezone: Annotated[str, AfterValidator(_timezone)] = "Asia/Shanghai"
    hours: HoursModel = HoursModel()
    data_dir: str = "var"


class BusModel(Section):
    host: str = "127.0.0.1"
    port: Annotated[int, rule(lambda p: 0 < p < 65536, lambda p: f"{p} is not a TCP port")] = 1883
    broker: Annotated[
        str,
        rule(
            lambda b: b in ("embedded", "mosquitto", "external"),
            lambda b: f"{b!r}: use embedded, mosquitto or external",
        ),
    ] = "embedded"
    username: str = ""
    password_env: str = ""
    credentials_dir: str = ""
    request_timeout_s: Annotated[Number, rule(lambda v: v > 0, "must be positive")] = 5.0
    keepalive_s: Annotated[int, rule(lambda v: 5 <= v <= 600, "must be 5..600")] = 15
    tls: bool = False
    ca_file: str = ""
    server_name: str = ""
    broker_names: list[str] = []
    client_certs: bool = False
    plain_loopback_port: Annotated[int, rule(lambda p: 0 <= p < 65536, lambda p: f"{p} is not a TCP port")] = 0
    max_clock_skew_s: Annotated[Number, rule(lambda v: 1 <= v <= 3600, "must be 1..3600 seconds")] = 60.0


class QueueModel(Section):
    max_priority_in_row: Annotated[int, rule(lambda v: v >= 1, "must be at least 1")] = 2
    max_recalls: Annotated[int, rule(lambda v: v >= 0, "must not be negative")] = 2
    appointment_early_minutes: Annotated[int, rule(lambda v: v >= 0, "must not be negative")] = 15
    default_expected_minutes: Annotated[Number, rule(lambda v: v > 0, "must be positive")] = 10.0


class DomainModel(Section):
    id: Id
    name: str
    name_en: str = ""
    hours: WeekModel | None = None  # when walk-in tickets of this domain are taken (within its windows' hours)


class ServiceModel(Section):
    id: Id
    name: str
    name_en: str = ""
    domain: str
    prefix: Annotated[
        str,
        rule(
            lambda v: _PREFIX.fullmatch(v) is not None,
            lambda v: f"{v!r}: a ticket prefix is one or two capital letters",
        ),
    ]
    expected_minutes: Annotated[Number, rule(lambda v: 0 < v <= 480, "must be between 0 and 480 minutes")] | None = None
    self_service: bool = False
    daily_cap: Annotated[int, rule(lambda v: 1 <= v <= 99_999, "must be 1..99999 tickets a day")] | None = None


class WindowModel(Section):
    number: Annotated[int, rule(lambda v: 1 <= v <= 999, "must be 1..999")]
    name: str | None = None
    domains: Annotated[list[str], rule(bool, "a window serves at least one domain")]
    skills: list[str] | None = None
    hours: WeekModel | None = None  # its own hours (a Saturday-morning or lunch-time window)
    appointment_hours: WeekModel | None = None  # hours it serves appointments only (an evening window)


class KioskModel(Section):
    id: Id
    name: str = ""


class DeviceModel(Section):
    id: Id
    kind: Annotated[str, rule(is_id, lambda v: f"{v!r} is not a device kind")]
    url: Annotated[str, rule(lambda v: bool(v.strip()), "must not be empty")]
    profile: str = ""
    host: str = ""
    window: int | None = None
    options: dict[str, Any] = {}


def _unique(ids: list[str], key: str, what: str) -> None:
    for i, one in enumerate(ids):
        if one in ids[:i]:
            raise Problem((key, i, "id"), f"duplicate {what} id {one!r}")


def _ec_p256_key(pem: str) -> str:
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValueError("is not a PEM public key (-----BEGIN PUBLIC KEY----- ...)") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("must be an ECDSA P-256 public key")
    return pem


class IssuerModel(Section):
    id: Id
    name: str = ""
    public_key: Annotated[str, AfterValidator(_ec_p256_key)]


class IdentityModel(Section):
    issuers: list[IssuerModel] = []
    max_age_s: Annotated[Number, rule(lambda v: 10 <= v <= 86_400, "must be 10..86400 seconds")] = 300.0

    @model_validator(mode="after")
    def _unique_issuers(self) -> IdentityModel:
        _unique([i.id for i in self.issuers], "issuers", "issuer")
        return self


def _feature_name(name: Any) -> Any:
    if not isinstance(name, str) or not is_id(name):
        raise ValueError(f"{name!r} is not a feature name")
    return name


class FeaturesModel(Section):
    enabled: list[Annotated[str, BeforeValidator(_feature_name)]] | None = None


def _known_domain(value: str, known: list[str], loc: tuple[int | str, ...]) -> None:
    if value not in known:
        raise Problem(loc, f"unknown domain {value!r} (known: {', '.join(known)})")


class HallFile(BaseModel):
    """The whole file; sections it does not know are the features' (kept raw, see ``parse``)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    hall: HallModel
    bus: BusModel = BusModel()
    queue: QueueModel = QueueModel()
    domains: list[DomainModel]
    services: list[ServiceModel]
    windows: list[WindowModel]
    kiosks: list[KioskModel] = []
    devices: list[DeviceModel] = []
    features: FeaturesModel = FeaturesModel()
    identity: IdentityModel = IdentityModel()

    @model_validator(mode="before")
    @classmethod
    def _shapes(cls, data: Any) -> Any:
        """The file's tables and arrays of tables, told in TOML's words."""
        if not isinstance(data, dict):
            return data
        if data.get("hall") is None:
            raise Problem(("hall",), "missing table")
        for key in TABLES:
            if data.get(key) is not None and not isinstance(data[key], dict):
                raise Problem((key,), f"must be a table, got {type(data[key]).__name__}")
        for key in ARRAYS:
            value = data.get(key)
            if value is None and key in REQUIRED_ARRAYS:
                raise Problem((key,), f"missing: add at least one [[{key}]] table")
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
                raise Problem((key,), f"must be an array of tables ([[{key}]])")
        return data

    @model_validator(mode="after")
    def _references(self) -> HallFile:
        """Ids unique, every domain named exists, one prefix per domain, clerks skilled for their windows."""
        domain_ids: list[str] = []
        for i, d in enumerate(self.domains):
            if d.id in domain_ids:
                raise Problem(("domains", i, "id"), f"duplicate domain id {d.id!r}")
            domain_ids.append(d.id)
        service_ids: set[str] = set()
        prefix_domain: dict[str, str] = {}
        for i, s in enumerate(self.services):
            _known_domain(s.domain, domain_ids, ("services", i, "domain"))
            if s.id in service_ids:
                raise Problem(("services", i, "id"), f"duplicate service id {s.id!r}")
            service_ids.add(s.id)
            if prefix_domain.setdefault(s.prefix, s.domain) != s.domain:
                raise Problem(
                    ("services", i, "prefix"),
                    f"prefix {s.prefix!r} is already used by domain "
                    f"{prefix_domain[s.prefix]!r}; one prefix belongs to one domain",
                )
        numbers: set[int] = set()
        for i, w in enumerate(self.windows):
            for key in ("domains", "skills"):
                for j, dom in enumerate(getattr(w, key) or []):
                    _known_domain(dom, domain_ids, ("windows", i, key, j))
            missing = [d for d in w.domains if d not in (w.skills if w.skills is not None else w.domains)]
            if missing:
                raise Problem(("windows", i, "skills"), f"the window serves {missing} but its clerk lacks that skill")
            if w.number in numbers:
                raise Problem(("windows", i, "number"), f"duplicate window number {w.number}")
            numbers.add(w.number)
        _unique([k.id for k in self.kiosks], "kiosks", "kiosk")
        hosts = {k.id for k in self.kiosks} | {f"window-{n}" for n in numbers} | {"controller", "web"}
        for i, dev in enumerate(self.devices):
            if dev.host and dev.host not in hosts:
                raise Problem(("devices", i, "host"), f"unknown host {dev.host!r} (known: {', '.join(sorted(hosts))})")
            if dev.window is not None and dev.window not in numbers:
                raise Problem(("devices", i, "window"), f"no window {dev.window}")
        _unique([d.id for d in self.devices], "devices", "device")
        return self
