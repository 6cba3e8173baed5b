"""Schedules per window and domain (延时/错时服务): who serves when, as pure functions of hall.toml.

``[hall.hours]`` are every window's hours unless the window has its own. In hall.toml::

    [[windows]]                      # a lunch-time (午间不间断) and Saturday-morning window
    number = 5
    domains = ["shebao", "zonghe"]
    hours = { weekdays = ["09:00-17:30"], saturday = ["09:00-12:00"] }
    appointment_hours = { tuesday = ["17:30-19:30"], thursday = ["17:30-19:30"] }   # evenings: appointments only

    [[domains]]                      # a domain that takes walk-in tickets until 16:30 only
    id = "gongan"
    hours = { weekdays = ["09:00-12:00", "13:30-16:30"] }

A table names the days it changes (``weekdays`` for Monday to Friday, unless a day is named itself);
the others are the hall's for ``hours``, none for ``appointment_hours``, and no limit of its own for
a domain. Holidays and 调休 workdays are the hall's. Where a window's ``hours`` and
``appointment_hours`` overlap, the walk-in hours win.

At a moment a window is ``open`` (walk-in hours), ``appointments`` (appointment hours only) or
``closed``. A domain is ``open`` for walk-in tickets when its own hours allow and a window serving
it (by its current domains, so a tidal move counts) is open; ``appointments`` when only windows in
appointment hours serve it (the kiosk then checks in appointments but issues no walk-in ticket);
else ``closed``. The hall is open while any domain is. Self-service items ignore all of this.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Literal

from hall_bus.config.model import HallConfig, OpeningHours, Window

Mode = Literal["open", "appointments", "closed"]
MODES: tuple[Mode, ...] = ("open", "appointments", "closed")
Span = tuple[dt.time, dt.time]


def walk_in_hours(config: HallConfig, window: Window) -> OpeningHours:
    """The window's own hours, or the hall's; a hall ``always_open`` keeps every window open."""
    return config.hours if config.hours.always_open or window.hours is None else window.hours


def window_mode(config: HallConfig, window: Window, when: dt.datetime) -> Mode:
    if walk_in_hours(config, window).is_open(when):
        return "open"
    if window.appointment_hours is not None and window.appointment_hours.is_open(when):
        return "appointments"
    return "closed"


def serving(config: HallConfig, current: Mapping[int, Sequence[str]] | None = None) -> dict[int, tuple[str, ...]]:
    """Window number -> the domains it serves: ``current`` (window states) where given, else hall.toml's."""
    current = current or {}
    return {w.number: tuple(current.get(w.number, w.domains)) for w in config.windows}


def domain_mode(
    config: HallConfig, domain: str, when: dt.datetime, current: Mapping[int, Sequence[str]] | None = None
) -> Mode:
    served = serving(config, current)
    modes = {window_mode(config, w, when) for w in config.windows if domain in served[w.number]}
    own = None if config.hours.always_open else config.domain(domain).hours
    if "open" in modes and (own is None or own.is_open(when)):
        return "open"
    if modes & {"open", "appointments"}:
        return "appointments"
    return "closed"


def hall_open(config: HallConfig, when: dt.datetime, current: Mapping[int, Sequence[str]] | None = None) -> bool:
    """Does any domain take walk-in tickets or appointments now?"""
    return any(domain_mode(config, d.id, when, current) != "closed" for d in config.domains)


def window_spans(config: HallConfig, window: Window, day: dt.date) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """(walk-in spans, appointment-only spans) of ``window`` on ``day``; appointment spans are cut
    where walk-in hours cover them."""
    walk = walk_in_hours(config, window).spans_on(day)
    appt = window.appointment_hours.spans_on(day) if window.appointment_hours is not None else ()
    return walk, _minus(appt, walk)


def domain_spans(
    config: HallConfig, domain: str, day: dt.date, current: Mapping[int, Sequence[str]] | None = None
) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """(walk-in spans, appointment-only spans) of ``domain`` on ``day`` (its windows' hours, within its own)."""
    served = serving(config, current)
    walk: list[Span] = []
    appt: list[Span] = []
    for w in config.windows:
        if domain in served[w.number]:
            a, b = window_spans(config, w, day)
            walk += a
            appt += b
    own = None if config.hours.always_open else config.domain(domain).hours
    merged = _merge(walk)
    if own is not None:
        limited = _intersect(merged, own.spans_on(day))
        appt += _minus(merged, limited)  # a window open past the domain's own hours still serves appointments
        merged = limited
    return merged, _minus(_merge(appt), merged)


def hall_spans(config: HallConfig, day: dt.date) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """(walk-in spans, appointment-only spans) of the whole hall on ``day`` (the union over its domains)."""
    walk: list[Span] = []
    appt: list[Span] = []
    for d in config.domains:
        a, b = domain_spans(config, d.id, day)
        walk += a
        appt += b
    merged = _merge(walk)
    return merged, _minus(_merge(appt), merged)


def describe(spans: Sequence[Span]) -> str:
    """``09:00-12:00, 13:30-17:30``; ``closed`` for none (the words a UI turns into a sentence)."""
    if not spans:
        return "closed"
    return ", ".join(f"{a:%H:%M}-{'24:00' if b >= dt.time(23, 59, 59) else f'{b:%H:%M}'}" for a, b in spans)


def last_closing(config: HallConfig, window: Window, when: dt.datetime) -> dt.datetime | None:
    """When ``window`` last stopped serving today before ``when`` (None: it has not served yet today)."""
    local = when.astimezone(config.tz())
    walk, appt = window_spans(config, window, local.date())
    ends = [b for _a, b in (*walk, *appt) if b <= local.time()]
    if not ends:
        return None
    return dt.datetime.combine(local.date(), max(ends), local.tzinfo)


# ---------------------------------------------------------------------- spans as sets of minutes
def _merge(spans: Sequence[Span]) -> tuple[Span, ...]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def _intersect(xs: Sequence[Span], ys: Sequence[Span]) -> tuple[Span, ...]:
    out = [(max(a, c), min(b, d)) for a, b in xs for c, d in ys if max(a, c) < min(b, d)]
    return _merge(out)


def _minus(xs: Sequence[Span], ys: Sequence[Span]) -> tuple[Span, ...]:
    out: list[Span] = []
    for a, b in xs:
        pieces = [(a, b)]
        for c, d in ys:
            pieces = [p for x, y in pieces for p in ((x, min(y, c)), (max(x, d), y)) if p[0] < p[1]]
        out += pieces
    return _merge(out)
