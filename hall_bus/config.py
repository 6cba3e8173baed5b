"""The hall configuration: one TOML file (``hall.toml``) describing a hall.

Every value is checked when the file is loaded. A bad value raises :class:`ConfigError` whose
message names the file, the key (e.g. ``services[2].domain``) and what is wrong, so an operator
can fix the file without reading code. See ``docs/configuration.md`` and the annotated
``hall.toml`` at the project root.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from devices.config import DeviceConfig
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_PREFIX = re.compile(r"^[A-Z]{1,2}$")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(ValueError):
    """A hall configuration value is missing or wrong; the message names file and key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


@dataclass(frozen=True)
class Domain:
    """A business domain (业务领域), e.g. 社保 or 不动产."""

    id: str
    name: str
    name_en: str


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


@dataclass(frozen=True)
class Window:
    """A service window (窗口) staffed by a clerk."""

    number: int
    name: str
    domains: tuple[str, ...]
    skills: tuple[str, ...]  # domains the clerk may serve; tidal moves stay within these


@dataclass(frozen=True)
class Kiosk:
    id: str
    name: str


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


class _Reader:
    """Reads typed values out of a TOML table, raising ConfigError with the full key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, key, problem)

    def table(self, data: dict, key: str, path: str, required: bool = False) -> dict:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(_join(path, key), "missing table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(_join(path, key), f"must be a table, got {type(value).__name__}")
        return value

    def array_of_tables(self, data: dict, key: str, required: bool = False) -> list[dict]:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(key, f"missing: add at least one [[{key}]] table")
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, f"must be an array of tables ([[{key}]])")
        return value

    def get(self, data: dict, key: str, path: str, kind: type | tuple, default: Any = ..., check=None, hint: str = "") -> Any:
        full = _join(path, key)
        if key not in data:
            if default is ...:
                raise self.fail(full, "missing" + (f" ({hint})" if hint else ""))
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(full, f"must be {_kind_name(kinds)}, got a boolean")
        if not isinstance(value, kinds):
            raise self.fail(full, f"must be {_kind_name(kinds)}, got {type(value).__name__} {value!r}")
        if check is not None:
            problem = check(value)
            if problem:
                raise self.fail(full, problem)
        return value

    def unknown_keys(self, data: dict, allowed: Iterable[str], path: str) -> None:
        extra = sorted(set(data) - set(allowed))
        if extra:
            raise self.fail(_join(path, extra[0]), f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind_name(kinds: tuple) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "an array", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _check_id(value: str) -> str | None:
    if not _ID.match(value):
        return f"{value!r} is not a valid id (lowercase letters, digits, '-' or '_', at most 32)"
    return None


def _parse_spans(r: _Reader, value: Any, key: str) -> tuple[tuple[dt.time, dt.time], ...]:
    if isinstance(value, str):
        value = [value] if value else []
    if not isinstance(value, list):
        raise r.fail(key, "must be an array of \"HH:MM-HH:MM\" strings")
    spans = []
    for i, item in enumerate(value):
        m = _SPAN.match(item) if isinstance(item, str) else None
        if not m:
            raise r.fail(f"{key}[{i}]", f"{item!r} is not a span like \"09:00-12:00\"")
        h1, m1, h2, m2 = map(int, m.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise r.fail(f"{key}[{i}]", f"{item!r} is not a valid time span")
        start = dt.time(h1, m1)
        end = dt.time(23, 59, 59, 999999) if h2 == 24 else dt.time(h2, m2)
        if end <= start:
            raise r.fail(f"{key}[{i}]", f"{item!r} ends before it starts")
        spans.append((start, end))
    spans.sort()
    for (a1, b1), (a2, _b2) in zip(spans, spans[1:]):
        if a2 < b1:
            raise r.fail(key, "spans overlap")
    return tuple(spans)


def _parse_dates(r: _Reader, value: Any, key: str) -> frozenset[dt.date]:
    if not isinstance(value, list):
        raise r.fail(key, "must be an array of dates (2026-10-01)")
    out = set()
    for i, item in enumerate(value):
        if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
            out.add(item)
        elif isinstance(item, str):
            try:
                out.add(dt.date.fromisoformat(item))
            except ValueError:
                raise r.fail(f"{key}[{i}]", f"{item!r} is not a date like 2026-10-01") from None
        else:
            raise r.fail(f"{key}[{i}]", f"{item!r} is not a date")
    return frozenset(out)


def _parse_hours(r: _Reader, data: dict, timezone: str) -> OpeningHours:
    path = "hall.hours"
    allowed = {"weekdays", "always_open", "holidays", "workdays", *WEEKDAY_KEYS}
    r.unknown_keys(data, allowed, path)
    weekdays = _parse_spans(r, data.get("weekdays", ["09:00-12:00", "13:30-17:30"]), f"{path}.weekdays")
    week = []
    for i, name in enumerate(WEEKDAY_KEYS):
        default = weekdays if i < 5 else ()
        week.append(_parse_spans(r, data[name], f"{path}.{name}") if name in data else default)
    return OpeningHours(
        timezone=timezone,
        week=tuple(week),
        holidays=_parse_dates(r, data.get("holidays", []), f"{path}.holidays"),
        workdays=_parse_dates(r, data.get("workdays", []), f"{path}.workdays"),
        always_open=r.get(data, "always_open", path, bool, False),
    )


def parse(data: dict, source: str = "<hall config>", base_dir: Path | None = None) -> HallConfig:
    """Build a HallConfig from already-parsed TOML data."""
    r = _Reader(source)
    known_top = {"hall", "bus", "queue", "domains", "services", "windows", "devices", "kiosks", "features"}
    hall = r.table(data, "hall", "", required=True)
    hall_id = r.get(hall, "id", "hall", str, check=_check_id)
    timezone = r.get(hall, "timezone", "hall", str, "Asia/Shanghai")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail("hall.timezone", f"unknown time zone {timezone!r}") from None
    r.unknown_keys(hall, {"id", "name", "name_en", "timezone", "hours", "data_dir"}, "hall")
    hours = _parse_hours(r, r.table(hall, "hours", "hall"), timezone)
    data_dir = r.get(hall, "data_dir", "hall", str, "var")
    if base_dir is not None and not Path(data_dir).is_absolute():
        data_dir = str((base_dir / data_dir).resolve())

    bus_t = r.table(data, "bus", "")
    r.unknown_keys(bus_t, set(BusConfig.__dataclass_fields__), "bus")
    bus = BusConfig(
        host=r.get(bus_t, "host", "bus", str, "127.0.0.1"),
        port=r.get(bus_t, "port", "bus", int, 1883, check=lambda p: None if 0 < p < 65536 else f"{p} is not a TCP port"),
        broker=r.get(bus_t, "broker", "bus", str, "embedded",
                     check=lambda b: None if b in ("embedded", "mosquitto", "external") else f"{b!r}: use embedded, mosquitto or external"),
        username=r.get(bus_t, "username", "bus", str, ""),
        password_env=r.get(bus_t, "password_env", "bus", str, ""),
        credentials_dir=r.get(bus_t, "credentials_dir", "bus", str, ""),
        request_timeout_s=float(r.get(bus_t, "request_timeout_s", "bus", (int, float), 5.0,
                                      check=lambda v: None if v > 0 else "must be positive")),
        keepalive_s=r.get(bus_t, "keepalive_s", "bus", int, 15, check=lambda v: None if 5 <= v <= 600 else "must be 5..600"),
    )

    q = r.table(data, "queue", "")
    r.unknown_keys(q, set(QueueRules.__dataclass_fields__), "queue")
    queue = QueueRules(
        max_priority_in_row=r.get(q, "max_priority_in_row", "queue", int, 2, check=lambda v: None if v >= 1 else "must be at least 1"),
        max_recalls=r.get(q, "max_recalls", "queue", int, 2, check=lambda v: None if v >= 0 else "must not be negative"),
        appointment_early_minutes=r.get(q, "appointment_early_minutes", "queue", int, 15, check=lambda v: None if v >= 0 else "must not be negative"),
        default_expected_minutes=float(r.get(q, "default_expected_minutes", "queue", (int, float), 10.0,
                                             check=lambda v: None if v > 0 else "must be positive")),
    )

    domains: list[Domain] = []
    for i, d in enumerate(r.array_of_tables(data, "domains", required=True)):
        p = f"domains[{i}]"
        r.unknown_keys(d, {"id", "name", "name_en"}, p)
        dom = Domain(r.get(d, "id", p, str, check=_check_id), r.get(d, "name", p, str), r.get(d, "name_en", p, str, ""))
        if any(x.id == dom.id for x in domains):
            raise r.fail(f"{p}.id", f"duplicate domain id {dom.id!r}")
        domains.append(dom)
    domain_ids = [d.id for d in domains]

    def check_domain(v: str) -> str | None:
        return None if v in domain_ids else f"unknown domain {v!r} (known: {', '.join(domain_ids)})"

    services: list[Service] = []
    prefix_domain: dict[str, str] = {}
    for i, s in enumerate(r.array_of_tables(data, "services", required=True)):
        p = f"services[{i}]"
        r.unknown_keys(s, set(Service.__dataclass_fields__), p)
        svc = Service(
            id=r.get(s, "id", p, str, check=_check_id),
            name=r.get(s, "name", p, str),
            name_en=r.get(s, "name_en", p, str, ""),
            domain=r.get(s, "domain", p, str, check=check_domain),
            prefix=r.get(s, "prefix", p, str, check=lambda v: None if _PREFIX.match(v) else f"{v!r}: a ticket prefix is one or two capital letters"),
            expected_minutes=float(r.get(s, "expected_minutes", p, (int, float), queue.default_expected_minutes,
                                         check=lambda v: None if 0 < v <= 480 else "must be between 0 and 480 minutes")),
            self_service=r.get(s, "self_service", p, bool, False),
        )
        if any(x.id == svc.id for x in services):
            raise r.fail(f"{p}.id", f"duplicate service id {svc.id!r}")
        if prefix_domain.setdefault(svc.prefix, svc.domain) != svc.domain:
            raise r.fail(f"{p}.prefix", f"prefix {svc.prefix!r} is already used by domain {prefix_domain[svc.prefix]!r}; one prefix belongs to one domain")
        services.append(svc)

    windows: list[Window] = []
    for i, w in enumerate(r.array_of_tables(data, "windows", required=True)):
        p = f"windows[{i}]"
        r.unknown_keys(w, {"number", "name", "domains", "skills"}, p)
        number = r.get(w, "number", p, int, check=lambda v: None if 1 <= v <= 999 else "must be 1..999")
        doms = r.get(w, "domains", p, list, check=lambda v: None if v else "a window serves at least one domain")
        for j, dom in enumerate(doms):
            if not isinstance(dom, str) or check_domain(dom):
                raise r.fail(f"{p}.domains[{j}]", check_domain(str(dom)) or "must be a string")
        skills = r.get(w, "skills", p, list, list(doms))
        for j, dom in enumerate(skills):
            if not isinstance(dom, str) or check_domain(dom):
                raise r.fail(f"{p}.skills[{j}]", check_domain(str(dom)) or "must be a string")
        missing = [d for d in doms if d not in skills]
        if missing:
            raise r.fail(f"{p}.skills", f"the window serves {missing} but its clerk lacks that skill")
        win = Window(number, r.get(w, "name", p, str, f"{number}号窗口"), tuple(doms), tuple(skills))
        if any(x.number == number for x in windows):
            raise r.fail(f"{p}.number", f"duplicate window number {number}")
        windows.append(win)

    kiosks: list[Kiosk] = []
    for i, k in enumerate(r.array_of_tables(data, "kiosks")):
        p = f"kiosks[{i}]"
        r.unknown_keys(k, {"id", "name"}, p)
        kiosk = Kiosk(r.get(k, "id", p, str, check=_check_id), r.get(k, "name", p, str, ""))
        if any(x.id == kiosk.id for x in kiosks):
            raise r.fail(f"{p}.id", f"duplicate kiosk id {kiosk.id!r}")
        kiosks.append(kiosk)

    devices: list[DeviceConfig] = []
    hosts = {k.id for k in kiosks} | {f"window-{w.number}" for w in windows} | {"controller"}
    for i, d in enumerate(r.array_of_tables(data, "devices")):
        p = f"devices[{i}]"
        r.unknown_keys(d, set(DeviceConfig.__dataclass_fields__), p)
        dev = DeviceConfig(
            id=r.get(d, "id", p, str, check=_check_id),
            kind=r.get(d, "kind", p, str, check=lambda v: None if _ID.match(v) else f"{v!r} is not a device kind"),
            url=r.get(d, "url", p, str, check=lambda v: None if v.strip() else "must not be empty"),
            profile=r.get(d, "profile", p, str, ""),
            host=r.get(d, "host", p, str, "", check=lambda v: None if not v or v in hosts else f"unknown host {v!r} (known: {', '.join(sorted(hosts))})"),
            window=r.get(d, "window", p, int, None, check=lambda v: None if any(w.number == v for w in windows) else f"no window {v}"),
            options=r.get(d, "options", p, dict, {}),
        )
        if any(x.id == dev.id for x in devices):
            raise r.fail(f"{p}.id", f"duplicate device id {dev.id!r}")
        devices.append(dev)

    features_t = r.table(data, "features", "")
    r.unknown_keys(features_t, {"enabled"}, "features")
    features: tuple[str, ...] | None = None
    if "enabled" in features_t:
        enabled = r.get(features_t, "enabled", "features", list)
        for j, name in enumerate(enabled):
            if not isinstance(name, str) or _check_id(name):
                raise r.fail(f"features.enabled[{j}]", f"{name!r} is not a feature name")
        features = tuple(enabled)

    extra = {k: v for k, v in data.items() if k not in known_top}
    return HallConfig(
        source=source,
        hall_id=hall_id,
        name=r.get(hall, "name", "hall", str, hall_id),
        name_en=r.get(hall, "name_en", "hall", str, ""),
        hours=hours,
        bus=bus,
        queue=queue,
        data_dir=data_dir,
        domains=tuple(domains),
        services=tuple(services),
        windows=tuple(windows),
        devices=tuple(devices),
        kiosks=tuple(kiosks),
        features=features,
        extra=extra,
    )


def load(path: str | Path) -> HallConfig:
    """Load and validate a hall.toml; raise ConfigError naming the file and key on any problem."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(source, "(file)", "no such file") from None
    except OSError as exc:
        raise ConfigError(source, "(file)", f"cannot be read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(source, "(file)", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "(syntax)", str(exc)) from None
    return parse(data, source, base_dir=path.resolve().parent)


def default_path() -> Path:
    """The hall.toml next to the project, or $HALLKIT_CONFIG."""
    import os

    env = os.environ.get("HALLKIT_CONFIG")
    if env:
        return Path(env)
    here = Path.cwd() / "hall.toml"
    if here.exists():
        return here
    return Path(__file__).resolve().parent.parent / "hall.toml"
