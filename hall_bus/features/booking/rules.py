"""The slot rules of appointments (预约), the ``[booking]`` section of hall.toml, and the slots they make.

A bookable service lists its periods: the days of the week, the time spans (each a whole number of
``slot_min`` slots) and how many citizens a slot takes (``capacity``). A period's ``kind`` says what
it is: ``regular`` hours, a ``saturday`` morning, or ``extended`` hours (延时服务, e.g. an evening
slot for appointments only). Per service (or for all, at the top) ``days_ahead`` says how far ahead
one may book and ``cutoff_min`` how long before a slot booking closes::

    [booking]
    days_ahead = 14          # today .. today + 14
    cutoff_min = 60          # booking a slot closes an hour before it starts
    max_per_phone = 2        # bookings one phone number may hold at a time

    [[booking.services]]
    service = "budongchan-register"
    slot_min = 30
    capacity = 3
    periods = [
      { days = ["monday", "tuesday", "wednesday", "thursday", "friday"], times = ["09:00-12:00"] },
      { days = ["saturday"], times = ["09:00-12:00"], kind = "saturday" },
      { days = ["thursday"], times = ["17:30-19:30"], kind = "extended", capacity = 2 },
    ]

A hall holiday has no slots; a weekend day worked in exchange (调休, ``[hall.hours] workdays``)
has Monday's. Everything here is pure: the store counts the bookings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from hall_bus.config import (
    WEEKDAY_KEYS,
    ConfigError,
    HallConfig,
    Problem,
    Section,
    checked,
    int_between,
    rule,
    schedule,
)
from hall_bus.config.schema import Spans

Kind = Literal["regular", "saturday", "extended"]
KINDS: tuple[Kind, ...] = ("regular", "saturday", "extended")


def _minutes(t: dt.time) -> int:
    """Minutes after midnight; a span ending at 24:00 is stored as 23:59:59.999999 and counts as 1440."""
    return 1440 if t >= dt.time(23, 59, 59) else t.hour * 60 + t.minute


class PeriodModel(Section):
    days: Annotated[list[str], Field(min_length=1)]
    times: Spans
    kind: Annotated[str, rule(lambda v: v in KINDS, lambda v: f"{v!r}: must be regular|saturday|extended")] = "regular"
    capacity: Annotated[int, int_between(1, 500)] | None = None

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: list[str]) -> list[str]:
        for i, d in enumerate(days):
            if d not in WEEKDAY_KEYS:
                raise Problem((i,), f"{d!r} is not a day of the week ({', '.join(WEEKDAY_KEYS)})")
        if len(set(days)) != len(days):
            raise ValueError("names a day twice")
        return days

    @model_validator(mode="after")
    def _saturday_is_saturday(self) -> PeriodModel:
        if self.kind == "saturday" and self.days != ["saturday"]:
            raise Problem(("days",), 'a period of kind "saturday" must have days = ["saturday"]')
        if not self.times:
            raise Problem(("times",), "must list at least one span")
        return self


class ServiceRulesModel(Section):
    service: str
    slot_min: Annotated[int, int_between(5, 240)] = 30
    capacity: Annotated[int, int_between(1, 500)] = 1
    days_ahead: Annotated[int, int_between(0, 90)] | None = None
    cutoff_min: Annotated[int, int_between(0, 10080)] | None = None
    periods: Annotated[list[PeriodModel], Field(min_length=1)]

    @field_validator("service")
    @classmethod
    def _known_service(cls, service: str, info: ValidationInfo) -> str:
        config: HallConfig | None = (info.context or {}).get("config")
        if config is None:
            return service
        known = {s.id: s for s in config.services}
        if service not in known:
            raise ValueError(f"unknown service {service!r} (known: {', '.join(known)})")
        if known[service].self_service:
            raise ValueError(f"{service!r} is self-service around the clock; it takes no appointments")
        return service

    @model_validator(mode="after")
    def _whole_slots_no_overlap(self) -> ServiceRulesModel:
        for p, period in enumerate(self.periods):
            for s, (a, b) in enumerate(period.times):
                if (_minutes(b) - _minutes(a)) % self.slot_min:
                    raise Problem(
                        ("periods", p, "times", s),
                        f"{a:%H:%M}-{b:%H:%M} is not a whole number of {self.slot_min}-minute slots",
                    )
        for day in WEEKDAY_KEYS:
            spans = sorted(
                (_minutes(a), _minutes(b), p)
                for p, per in enumerate(self.periods)
                if day in per.days
                for a, b in per.times
            )
            for (_a1, b1, _p1), (a2, _b2, p2) in zip(spans, spans[1:], strict=False):
                if a2 < b1:
                    raise Problem(("periods", p2, "times"), f"overlaps another period on {day}")
        return self


class BookingSection(Section):
    days_ahead: Annotated[int, int_between(0, 90)] = 14
    cutoff_min: Annotated[int, int_between(0, 10080)] = 60
    max_per_phone: Annotated[int, int_between(1, 20)] = 2
    services: list[ServiceRulesModel] = []

    @field_validator("services")
    @classmethod
    def _once_each(cls, services: list[ServiceRulesModel]) -> list[ServiceRulesModel]:
        seen: set[str] = set()
        for i, s in enumerate(services):
            if s.service in seen:
                raise Problem((i, "service"), f"{s.service!r} has rules twice")
            seen.add(s.service)
        return services


@dataclass(frozen=True)
class Period:
    days: frozenset[str]
    spans: tuple[tuple[int, int], ...]  # minutes after midnight
    kind: Kind
    capacity: int


@dataclass(frozen=True)
class ServiceRules:
    service: str
    slot_min: int
    days_ahead: int
    cutoff_min: int
    periods: tuple[Period, ...]


@dataclass(frozen=True)
class Slot:
    service: str
    start: float  # epoch seconds
    end: float
    kind: Kind
    capacity: int
    label: str  # local "09:00-09:30"


@dataclass(frozen=True)
class BookingSettings:
    max_per_phone: int = 2
    services: tuple[ServiceRules, ...] = ()

    def rules(self, service: str) -> ServiceRules | None:
        return next((r for r in self.services if r.service == service), None)


def parse(section: Any, config: HallConfig, path: str = "booking") -> BookingSettings:
    """Validate a raw ``[booking]`` table; ConfigError naming file and key on any problem."""
    if section is None:
        return BookingSettings()
    if not isinstance(section, dict):
        raise ConfigError(config.source, path, "must be a table ([booking])")
    m = checked(BookingSection, section, config.source, path, {"config": config})
    services = []
    for s in m.services:
        periods = tuple(
            Period(
                frozenset(p.days),
                tuple((_minutes(a), _minutes(b)) for a, b in p.times),
                p.kind,  # type: ignore[arg-type]  # checked against KINDS
                p.capacity if p.capacity is not None else s.capacity,
            )
            for p in s.periods
        )
        services.append(
            ServiceRules(
                s.service,
                s.slot_min,
                s.days_ahead if s.days_ahead is not None else m.days_ahead,
                s.cutoff_min if s.cutoff_min is not None else m.cutoff_min,
                periods,
            )
        )
    for i, rules in enumerate(services):
        _served_then(config, rules, f"{path}.services[{i}]")
    return BookingSettings(m.max_per_phone, tuple(services))


_A_MONDAY = dt.date(2001, 1, 1)


def _served_then(config: HallConfig, rules: ServiceRules, path: str) -> None:
    """Every slot lies in hours when a window serving the service's domain works (walk-ins or
    appointments only: ``[[windows]] hours`` and ``appointment_hours``), or the booked citizen would
    find the windows closed."""
    domain = config.service(rules.service).domain
    for p, period in enumerate(rules.periods):
        for day in sorted(period.days, key=WEEKDAY_KEYS.index):
            date = _A_MONDAY + dt.timedelta(days=WEEKDAY_KEYS.index(day))
            walk, appt = schedule.domain_spans(config, domain, date)
            served = [(_minutes(a), _minutes(b)) for a, b in (*walk, *appt)]
            for t, (a, b) in enumerate(period.spans):
                if not _covered(a, b, served):
                    raise ConfigError(
                        config.source,
                        f"{path}.periods[{p}].times[{t}]",
                        f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d} on {day}: no window serving "
                        f"{domain!r} works then (on {day}: {schedule.describe(walk)}"
                        + (f", appointments only {schedule.describe(appt)}" if appt else "")
                        + "); give a window appointment_hours or hours ([[windows]]) or change the period",
                    )


def _covered(a: int, b: int, spans: list[tuple[int, int]]) -> bool:
    """Is [a, b) inside the union of ``spans`` (minutes; sorted, touching spans join)?"""
    for c, d in sorted(spans):
        if c <= a < d:
            a = d
        if a >= b:
            return True
    return a >= b


def from_config(config: HallConfig) -> BookingSettings:
    return parse(config.extra.get("booking"), config)


def _weekday(config: HallConfig, day: dt.date) -> str:
    if day in config.hours.workdays:
        return WEEKDAY_KEYS[0]
    return WEEKDAY_KEYS[day.weekday()]


def slots_on(config: HallConfig, rules: ServiceRules, day: dt.date) -> list[Slot]:
    """Every slot of ``rules`` on the local date ``day`` (none on a hall holiday), in time order."""
    if day in config.hours.holidays:
        return []
    tz = config.tz()
    name = _weekday(config, day)
    midnight = dt.datetime.combine(day, dt.time(0, 0), tz)
    out: list[Slot] = []
    for period in rules.periods:
        if name not in period.days:
            continue
        for a, b in period.spans:
            for m in range(a, b, rules.slot_min):
                start = midnight + dt.timedelta(minutes=m)
                end = start + dt.timedelta(minutes=rules.slot_min)
                label = f"{start:%H:%M}-{end:%H:%M}" if m + rules.slot_min < 1440 else f"{start:%H:%M}-24:00"
                out.append(Slot(rules.service, start.timestamp(), end.timestamp(), period.kind, period.capacity, label))
    return sorted(out, key=lambda s: s.start)


def bookable_until(rules: ServiceRules, today: dt.date) -> dt.date:
    return today + dt.timedelta(days=rules.days_ahead)


def is_open_for_booking(rules: ServiceRules, slot: Slot, now: float, today: dt.date, day: dt.date) -> bool:
    """A slot may be booked until ``cutoff_min`` before it starts, and at most ``days_ahead`` ahead."""
    return today <= day <= bookable_until(rules, today) and now <= slot.start - rules.cutoff_min * 60


def bookable_days(config: HallConfig, rules: ServiceRules, today: dt.date) -> list[dt.date]:
    """The dates from today to ``days_ahead`` that have any slot at all (open or not)."""
    days = (today + dt.timedelta(days=i) for i in range(rules.days_ahead + 1))
    return [d for d in days if slots_on(config, rules, d)]
