"""The hall configuration: one TOML file (``hall.toml``) describing a hall.

Every value is checked when the file is loaded, by the pydantic models of
:mod:`hall_bus.config.schema`. A bad value raises :class:`ConfigError` whose message names the file,
the key (e.g. ``services[2].domain``) and what is wrong, so an operator can fix the file without
reading code. See ``docs/configuration.md`` and the annotated ``hall.toml`` at the project root.
The rest of HallKit uses the frozen dataclasses of :mod:`hall_bus.config.model` built from them.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Any

from devices.config import DeviceConfig
from hall_bus.config.checks import (
    ConfigError,
    Problem,
    Section,
    between,
    checked,
    int_between,
    is_id,
    rule,
)
from hall_bus.config.model import (
    WEEKDAY_KEYS,
    BusConfig,
    Domain,
    HallConfig,
    IdentityConfig,
    Issuer,
    Kiosk,
    OpeningHours,
    QueueRules,
    Service,
    Window,
)
from hall_bus.config.schema import ARRAYS, TABLES, HallFile, HoursModel, WeekModel

__all__ = [
    "BusConfig",
    "ConfigError",
    "DeviceConfig",
    "Domain",
    "HallConfig",
    "IdentityConfig",
    "Issuer",
    "Kiosk",
    "OpeningHours",
    "Problem",
    "QueueRules",
    "Section",
    "Service",
    "WEEKDAY_KEYS",
    "Window",
    "between",
    "checked",
    "default_path",
    "int_between",
    "is_id",
    "load",
    "parse",
    "rule",
]


def _hours(h: HoursModel, timezone: str) -> OpeningHours:
    week = []
    for i, name in enumerate(WEEKDAY_KEYS):
        spans = getattr(h, name)
        if spans is None:
            spans = h.weekdays if i < 5 else []
        week.append(tuple(spans))
    return OpeningHours(
        timezone=timezone,
        week=tuple(week),
        holidays=frozenset(h.holidays),
        workdays=frozenset(h.workdays),
        always_open=h.always_open,
    )


_WHOLE_DAY = ((dt.time(0, 0), dt.time(23, 59, 59, 999999)),)


def _own(own: WeekModel | None, hall: OpeningHours, fill: str) -> OpeningHours | None:
    """A window's or domain's own hours: the days ``own`` names (``weekdays`` for Monday to Friday), the
    others ``fill``: ``hall`` ([hall.hours]), ``open`` (no limit of its own) or ``none`` (no hours).
    Holidays and 调休 workdays are the hall's. A hall ``always_open`` (a 24-hour hall, a test hall)
    keeps every window and domain open: their own hours are not used."""
    if own is None or hall.always_open:
        return None
    week = []
    for i, name in enumerate(WEEKDAY_KEYS):
        spans = getattr(own, name)
        if spans is None and i < 5:
            spans = own.weekdays
        if spans is None:
            if fill == "hall":
                spans = hall.week[i]
            else:
                spans = _WHOLE_DAY if fill == "open" else ()
        week.append(tuple(spans))
    return OpeningHours(hall.timezone, tuple(week), hall.holidays, hall.workdays)


def parse(data: dict[str, Any], source: str = "<hall config>", base_dir: Path | None = None) -> HallConfig:
    """Build a HallConfig from already-parsed TOML data."""
    f = checked(HallFile, data, source)
    hall = f.hall
    data_dir = hall.data_dir
    if base_dir is not None and not Path(data_dir).is_absolute():
        data_dir = str((base_dir / data_dir).resolve())
    queue = QueueRules(**f.queue.model_dump())
    hours = _hours(hall.hours, hall.timezone)
    return HallConfig(
        source=source,
        hall_id=hall.id,
        name=hall.name if hall.name is not None else hall.id,
        name_en=hall.name_en,
        hours=hours,
        bus=BusConfig(**{**f.bus.model_dump(), "broker_names": tuple(f.bus.broker_names)}),
        queue=queue,
        data_dir=data_dir,
        domains=tuple(Domain(d.id, d.name, d.name_en, _own(d.hours, hours, "open")) for d in f.domains),
        services=tuple(
            Service(
                id=s.id,
                name=s.name,
                name_en=s.name_en,
                domain=s.domain,
                prefix=s.prefix,
                self_service=s.self_service,
                daily_cap=s.daily_cap,
                expected_minutes=s.expected_minutes
                if s.expected_minutes is not None
                else queue.default_expected_minutes,
            )
            for s in f.services
        ),
        windows=tuple(
            Window(
                w.number,
                w.name if w.name is not None else f"{w.number}号窗口",
                tuple(w.domains),
                tuple(w.skills if w.skills is not None else w.domains),
                _own(w.hours, hours, "hall"),
                _own(w.appointment_hours, hours, "none"),
            )
            for w in f.windows
        ),
        devices=tuple(DeviceConfig(**d.model_dump()) for d in f.devices),
        kiosks=tuple(Kiosk(k.id, k.name) for k in f.kiosks),
        features=tuple(f.features.enabled) if f.features.enabled is not None else None,
        extra={k: v for k, v in data.items() if k not in (*TABLES, *ARRAYS)},
        identity=IdentityConfig(
            issuers=tuple(Issuer(i.id, i.name, i.public_key) for i in f.identity.issuers),
            max_age_s=f.identity.max_age_s,
        ),
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
    env = os.environ.get("HALLKIT_CONFIG")
    if env:
        return Path(env)
    here = Path.cwd() / "hall.toml"
    if here.exists():
        return here
    return Path(__file__).resolve().parents[2] / "hall.toml"
