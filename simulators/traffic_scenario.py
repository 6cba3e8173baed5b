"""Scenario files of the hall traffic simulator (``simulators/scenarios/*.toml``): a hall layout in
hall.toml form, read by :func:`hall_bus.config.load`, plus ``[traffic]`` (and optionally ``[tidal]``),
checked here by pydantic models of the same validation layer, so that a bad scenario fails as
``file: traffic.domains[2].daily: problem`` (see docs/tidal.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo, model_validator

from hall_bus import config as hallconfig
from hall_bus.config import ConfigError, HallConfig, Problem, Section, between, checked
from hall_bus.features.tidal.config import parse as parse_tidal

DEFAULT_PROFILE = [
    [9.0, 0.9],
    [10.0, 1.3],
    [11.0, 1.2],
    [12.0, 0.55],
    [13.0, 0.6],
    [14.0, 1.1],
    [15.0, 1.25],
    [16.0, 1.0],
    [17.0, 0.7],
]
Points = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class ServiceTraffic:
    service: str
    share: float  # of its domain's arrivals
    mean_min: float
    cv: float
    appointment_share: float = 0.0


@dataclass(frozen=True)
class DomainTraffic:
    domain: str
    daily: float  # expected arrivals per day
    profile: Points
    services: tuple[ServiceTraffic, ...]


@dataclass(frozen=True)
class Break:
    window: int
    start: dt.time
    minutes: float


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    config: HallConfig
    date: dt.date
    domains: tuple[DomainTraffic, ...]
    breaks: tuple[Break, ...]
    green_share: float
    no_show_share: float
    walk_min: float
    recall_min: float
    tick_min: float
    tidal: dict[str, Any]


def _points(value: Any) -> Points:
    """An intraday profile: at least two ``[hour 0..24, weight >= 0]`` points, hours increasing."""
    if not isinstance(value, list) or len(value) < 2:
        raise ValueError("must be a list of at least two [hour, weight] points")
    pts = []
    for i, p in enumerate(value):
        if (
            not isinstance(p, list)
            or len(p) != 2
            or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in p)
            or not 0 <= p[0] <= 24
            or p[1] < 0
        ):
            raise Problem((i,), f"{p!r} is not an [hour 0..24, weight >= 0] point")
        pts.append((float(p[0]), float(p[1])))
    if any(b[0] <= a[0] for a, b in zip(pts, pts[1:], strict=False)):
        raise ValueError("hours must increase")
    return tuple(pts)


Profile = Annotated[Points, BeforeValidator(_points)]
DEFAULT_POINTS = _points(DEFAULT_PROFILE)


class ServiceTrafficModel(Section):
    service: str
    share: Annotated[float, between(0, 1e6)] = 1.0
    mean_min: Annotated[float, between(0.1, 480)] | None = None  # default: the service's expected_minutes
    cv: Annotated[float, between(0, 5)] = 0.6
    appointment_share: Annotated[float, between(0, 1)] = 0.0


class DomainTrafficModel(Section):
    domain: str
    daily: Annotated[float, between(0, 1e5)]
    profile: Any = "default"  # a name in [traffic.profiles] or the points themselves


class BreakModel(Section):
    window: Any = None
    start: Any = None
    minutes: Annotated[float, between(1, 480)] = 30.0


class TrafficModel(Section):
    """``[traffic]``; the services, domains and windows it names are checked against the scenario's hall."""

    name: str | None = None
    date: Any = dt.date(2026, 3, 10)
    green_share: Annotated[float, between(0, 1)] = 0.08
    no_show_share: Annotated[float, between(0, 1)] = 0.04
    walk_min: Annotated[float, between(0, 30)] = 0.5
    recall_min: Annotated[float, between(0.05, 30)] = 1.0
    tick_min: Annotated[float, between(0.1, 60)] = 1.0
    profiles: dict[str, Profile] = {}
    domains: list[DomainTrafficModel] = []
    services: list[ServiceTrafficModel] = []
    breaks: list[BreakModel] = []

    @model_validator(mode="after")
    def _in_the_hall(self, info: ValidationInfo) -> TrafficModel:
        config: HallConfig = (info.context or {})["config"]
        if not isinstance(_date(self.date), dt.date) or not config.hours.spans_on(_date(self.date)):
            raise Problem(("date",), f"{self.date!r} must be a date on which the hall is open")
        for i, s in enumerate(self.services):
            if s.service not in {x.id for x in config.services}:
                raise Problem(("services", i, "service"), f"unknown service {s.service!r}")
        known = {"default", *self.profiles}
        for i, d in enumerate(self.domains):
            if d.domain not in {x.id for x in config.domains}:
                raise Problem(("domains", i, "domain"), f"unknown domain {d.domain!r}")
            if isinstance(d.profile, str) and d.profile not in known:
                raise Problem(
                    ("domains", i, "profile"), f"unknown profile {d.profile!r} (known: {', '.join(sorted(known))})"
                )
            if not isinstance(d.profile, str):
                try:
                    _points(d.profile)
                except Problem as exc:
                    raise Problem(("domains", i, "profile", *exc.loc), str(exc)) from None
                except ValueError as exc:
                    raise Problem(("domains", i, "profile"), str(exc)) from None
        if not self.domains:
            raise Problem(("domains",), "add at least one [[traffic.domains]] table")
        for i, b in enumerate(self.breaks):
            try:
                config.window(b.window)
                dt.time.fromisoformat(str(b.start))
            except (KeyError, ValueError):
                raise Problem(("breaks", i), 'needs window = <a window number> and start = "HH:MM"') from None
        return self


def _date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _domain(
    config: HallConfig,
    i: int,
    d: DomainTrafficModel,
    profiles: dict[str, Points],
    services: dict[str, list[ServiceTraffic]],
) -> DomainTraffic:
    prof = profiles[d.profile] if isinstance(d.profile, str) else _points(d.profile)
    svcs = services.get(d.domain) or [
        ServiceTraffic(s.id, 1.0, s.expected_minutes, 0.6) for s in config.services_of(d.domain) if not s.self_service
    ]
    if not svcs:
        raise ConfigError(
            config.source, f"traffic.domains[{i}]", f"domain {d.domain!r} has no staffed service to arrive for"
        )
    return DomainTraffic(d.domain, d.daily, prof, tuple(svcs))


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file: a hall layout plus [traffic] (and optionally [tidal])."""
    path = Path(path)
    config = hallconfig.load(path)
    src = config.source
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data.get("traffic"), dict):
        raise ConfigError(src, "traffic", "missing table [traffic]")
    t = checked(TrafficModel, data["traffic"], src, "traffic", {"config": config})
    profiles = {"default": DEFAULT_POINTS, **t.profiles}
    services: dict[str, list[ServiceTraffic]] = {}
    for s in t.services:
        svc = config.service(s.service)
        mean = s.mean_min if s.mean_min is not None else svc.expected_minutes
        services.setdefault(svc.domain, []).append(ServiceTraffic(s.service, s.share, mean, s.cv, s.appointment_share))
    domains = tuple(_domain(config, i, d, profiles, services) for i, d in enumerate(t.domains))
    breaks = tuple(Break(b.window, dt.time.fromisoformat(str(b.start)), b.minutes) for b in t.breaks)
    parse_tidal(config.extra.get("tidal"), config)  # the scenario's [tidal] is checked as in a hall.toml
    return Scenario(
        name=str(t.name if t.name is not None else config.name),
        path=str(path),
        config=config,
        date=_date(t.date),
        domains=domains,
        breaks=breaks,
        green_share=t.green_share,
        no_show_share=t.no_show_share,
        walk_min=t.walk_min,
        recall_min=t.recall_min,
        tick_min=t.tick_min,
        tidal=dict(config.extra.get("tidal") or {}),
    )


def pooled_config(config: HallConfig) -> HallConfig:
    """Every window serves every domain (the fully flexible hall, a lower bound for waits)."""
    everything = tuple(d.id for d in config.domains)
    windows = tuple(dataclasses.replace(w, domains=everything, skills=everything) for w in config.windows)
    return dataclasses.replace(config, windows=windows)


def skills_config(config: HallConfig) -> HallConfig:
    """Every window serves every domain its clerk is skilled for, all day (home domains first): what
    sharing alone can do within the skills, without a single move."""
    windows = tuple(
        dataclasses.replace(w, domains=(*w.domains, *(d for d in w.skills if d not in w.domains)))
        for w in config.windows
    )
    return dataclasses.replace(config, windows=windows)
