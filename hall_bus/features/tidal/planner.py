"""Staffing planner (排班建议): how many windows each domain needs, hour by hour, for a wait target.

``hallkit tidal plan`` reads a recorded day from the hall's store (every ticket: its domain, service,
issue time and minutes at the window) and replays it through a queue simulation under alternative
rosters. It recommends, per hour, the fewest windows per domain for which the 90th percentile wait
of the citizens arriving in that hour stays within the target (default 15 minutes), and tells how
the recorded day would have gone under the recommendation.

The replay (:func:`replay_hall`): per hour each staffed window serves its domains and, when free,
calls the longest-waiting citizen among them; a clerk who leaves at the top of an hour finishes the
citizen at the counter first; at closing every window serves its home domains until the queue is
served. Handling times are the recorded minutes at the window, from the call to the finish (walking
to the counter included; a no-show: its calls).

Robustness: a day like the recorded one is not the recorded day. Besides it the planner replays
``resamples`` days drawn from it (each citizen kept none, once or twice, Binomial(2, 1/2), a copy
moved by up to five minutes: a bootstrap of the arrivals; handling times redrawn from the
domain's recorded ones) and requires the target on the waits of all replays pooled.

The search (:func:`plan`): dedicated windows per domain and hour start at none (a quiet domain
rides on a shared window whose clerk has the skill, so every domain is served in every open hour);
replay; the first hour where some domain misses the target gives its worst domain one more window;
repeat until every hour meets it or no clerk skilled for it is left that hour (reported as
``unmet``). Filling the first failing hour first keeps the window-hours low: a queue that builds
up in one hour spills into the next. Each hour's windows are matched to clerks by skill
(:func:`assignment`, augmenting paths).
"""

from __future__ import annotations

import collections
import datetime as dt
import heapq
import math
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from hall_bus.config import HallConfig
from hall_bus.config import schedule as hours_of


@dataclass(frozen=True)
class Arrival:
    domain: str
    service: str
    at: float  # epoch seconds of the ticket
    minutes: float  # handling (recorded)
    waited: float | None = None  # recorded wait (minutes to the call), when it was called


@dataclass(frozen=True)
class RecordedDay:
    day: str
    opens: float  # epoch seconds of the first open hour's start
    hours: int  # open hours planned (from the opening hour to the closing hour)
    arrivals: tuple[Arrival, ...]


def _staffed_spans(config: HallConfig, date: dt.date) -> tuple[tuple[dt.time, dt.time], ...]:
    """When some window serves on ``date`` (walk-ins or appointments: hall_bus.config.schedule)."""
    walk, appt = hours_of.hall_spans(config, date)
    return tuple(sorted((*walk, *appt)))


def open_hours_of(config: HallConfig, day: RecordedDay) -> list[bool]:
    """Whether the hall is open at some moment of each planned hour."""
    date = dt.date.fromisoformat(day.day)
    spans = [
        (dt.datetime.combine(date, a, config.tz()).timestamp(), dt.datetime.combine(date, b, config.tz()).timestamp())
        for a, b in _staffed_spans(config, date)
    ]
    starts = [day.opens + h * 3600 for h in range(day.hours)]
    return [any(a < s + 3600 and s < b for a, b in spans) or not spans for s in starts]


def hour_of(day: RecordedDay, ts: float) -> int:
    return max(0, min(day.hours - 1, int((ts - day.opens) // 3600)))


def record_from_store(db: sqlite3.Connection, config: HallConfig, day: str) -> RecordedDay:
    """The recorded day ``day`` (YYYY-MM-DD) of the hall from its store (read only)."""
    rows = db.execute(
        "SELECT domain, service, issued_at, called_at, finished_at, state, recalls "
        "FROM tickets WHERE hall=? AND day=? ORDER BY issued_at, id",
        (config.hall_id, day),
    ).fetchall()
    date = dt.date.fromisoformat(day)
    tz = config.tz()
    spans = _staffed_spans(config, date)
    if spans:
        first = dt.datetime.combine(date, spans[0][0], tz).replace(minute=0)
        last = dt.datetime.combine(date, spans[-1][1], tz)
    elif rows:
        first = dt.datetime.fromtimestamp(rows[0][2], tz).replace(minute=0, second=0, microsecond=0)
        last = dt.datetime.fromtimestamp(rows[-1][2], tz)
    else:
        raise ValueError(f"no tickets on {day} and the hall is closed that day")
    opens = first.timestamp()
    hours = max(1, math.ceil((last.timestamp() - opens) / 3600))
    staffed = {s.id for s in config.services if not s.self_service}
    default = {s.id: s.expected_minutes for s in config.services}
    out = []
    for domain, service, issued, called, finished, state, recalls in rows:
        if service not in staffed:
            continue
        if finished is not None and called is not None and finished >= called:
            # the window is taken from the call to the finish (walking to it included); a no-show's
            # call is renewed by each recall, so its last stretch counts once per call
            minutes = (finished - called) / 60.0 * (1 + (recalls or 0) if state == "no_show" else 1)
        else:
            minutes = default.get(service, config.queue.default_expected_minutes)
        waited = (called - issued) / 60.0 if called is not None and state == "finished" else None
        out.append(Arrival(domain, service, issued, min(minutes, 8 * 60.0), waited))
    if not out:
        raise ValueError(f"no staffed tickets on {day}")
    return RecordedDay(day, opens, hours, tuple(out))


def resample(day: RecordedDay, seed: int) -> RecordedDay:
    """A day like the recorded one: a Poisson bootstrap of its arrivals, handling times redrawn."""
    rng = random.Random(seed)
    by_domain: dict[str, list[float]] = {}
    for a in day.arrivals:
        by_domain.setdefault(a.domain, []).append(a.minutes)
    out = []
    for a in day.arrivals:
        copies = sum(1 for _ in range(2) if rng.random() < 0.5)  # Binomial(2, 1/2): mean 1, like Poisson(1)
        for k in range(copies):
            jitter = rng.uniform(-300, 300) if k else rng.uniform(-60, 60)
            out.append(Arrival(a.domain, a.service, a.at + jitter, rng.choice(by_domain[a.domain])))
    out.sort(key=lambda a: a.at)
    return RecordedDay(day.day, day.opens, day.hours, tuple(out))


Staffing = dict[int, tuple[str, ...]]  # window -> the domains its clerk serves (absent: no clerk)


def replay_hall(config: HallConfig, day: RecordedDay, staffing: Sequence[Staffing]) -> list[float]:
    """Waits (minutes) of ``day.arrivals`` (in their order) under ``staffing[h]`` for each hour:
    a free window calls the longest-waiting citizen of its domains; a window whose clerk leaves at
    the top of an hour finishes its citizen first; at closing every window serves its home domains
    until the queue is served (the hall's overtime)."""
    overtime = {w.number: tuple(w.domains) for w in config.windows}
    queues: dict[str, collections.deque[int]] = collections.defaultdict(collections.deque)
    busy: set[int] = set()
    waits = [0.0] * len(day.arrivals)
    events: list[tuple[float, int, int]] = []  # (time, kind 0 hour / 1 free / 2 arrival, index)
    for h in range(1, len(staffing) + 1):
        heapq.heappush(events, (day.opens + h * 3600, 0, h))
    for i, a in enumerate(day.arrivals):
        heapq.heappush(events, (a.at, 2, i))
    now_staff: Staffing = dict(staffing[0]) if staffing else dict(overtime)

    def take(w: int, t: float) -> None:
        doms = [d for d in now_staff.get(w, ()) if queues[d]]
        if not doms:
            return
        d = min(doms, key=lambda d: day.arrivals[queues[d][0]].at)
        i = queues[d].popleft()
        waits[i] = (t - day.arrivals[i].at) / 60.0
        busy.add(w)
        heapq.heappush(events, (t + day.arrivals[i].minutes * 60.0, 1, w))

    while events:
        t, kind, x = heapq.heappop(events)
        if kind == 0:
            now_staff = dict(staffing[x]) if x < len(staffing) else overtime
            for w in sorted(now_staff):
                if w not in busy:
                    take(w, t)
        elif kind == 1:
            busy.discard(x)
            take(x, t)
        else:
            a = day.arrivals[x]
            queues[a.domain].append(x)
            for w in sorted(now_staff):
                if w not in busy and a.domain in now_staff[w]:
                    take(w, t)
                    break
    return waits


def p90(xs: Sequence[float]) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, math.ceil(0.9 * len(s)) - 1)]


@dataclass
class Plan:
    day: RecordedDay
    target_p90_min: float
    roster: dict[str, list[int]]  # domain -> windows per hour
    staffing: list[Staffing]  # per hour: window -> domains (the roster matched to clerks by skill)
    hour_p90: dict[str, list[float]]  # domain -> p90 wait per hour over all replays
    unmet: dict[str, list[int]] = field(default_factory=dict)  # domain -> hours the target is out of reach

    @property
    def window_hours(self) -> int:
        return sum(len(s) for s in self.staffing)


def staffing_for(config: HallConfig, need: dict[str, int], cover: Sequence[str] = ()) -> Staffing:
    """Windows matched to the domains' needs by skill (home domains first). A need no free clerk
    can fill, and every domain of ``cover`` no window serves yet (a quiet domain), is shared onto a
    staffed window whose clerk has the skill (the fewest domains first), or else opens a window."""
    given = assignment(config, need)
    out: Staffing = {w: (d,) for w, d in given.items()}
    extra = [(d, n - sum(1 for x in given.values() if x == d)) for d, n in need.items()]
    extra += [(d, 1) for d in cover if not any(d in doms for doms in out.values())]
    for d, missing in extra:
        if missing <= 0:
            continue
        staffed = sorted(
            (w for w in config.windows if d in w.skills and w.number in out), key=lambda w: len(out[w.number])
        )
        free = sorted(
            (w for w in config.windows if d in w.skills and w.number not in out), key=lambda w: d not in w.domains
        )
        for w in (staffed + free)[:missing]:
            out[w.number] = (*out.get(w.number, ()), d) if d not in out.get(w.number, ()) else out[w.number]
    return out


def _hour_p90(
    day: RecordedDay, days: Sequence[RecordedDay], waits: Sequence[Sequence[float]]
) -> dict[tuple[str, int], float]:
    pooled: dict[tuple[str, int], list[float]] = collections.defaultdict(list)
    for x, ws in zip(days, waits, strict=True):
        for a, w in zip(x.arrivals, ws, strict=True):
            pooled[(a.domain, hour_of(day, a.at))].append(w)
    return {k: p90(v) for k, v in pooled.items()}


def plan(
    config: HallConfig,
    day: RecordedDay,
    target_p90_min: float = 15.0,
    resamples: int = 8,
    seed: int = 1,
) -> Plan:
    """The recommended roster for ``day`` (see the module docstring)."""
    days = [day, *(resample(day, seed * 1000 + k) for k in range(resamples))]
    open_hours = open_hours_of(config, day)
    domains = sorted({a.domain for a in day.arrivals})
    skilled = {d: sum(1 for w in config.windows if d in w.skills) for d in domains}
    roster = {d: [0] * day.hours for d in domains}  # dedicated windows; a quiet domain rides on a shared one
    stuck: set[tuple[str, int]] = set()
    while True:
        staffing = [
            staffing_for(config, {d: v[h] for d, v in roster.items() if v[h]}, domains if open_hours[h] else ())
            for h in range(day.hours)
        ]
        scores = _hour_p90(day, days, [replay_hall(config, x, staffing) for x in days])
        failing = sorted((h, -s, d) for (d, h), s in scores.items() if s > target_p90_min and (d, h) not in stuck)
        if not failing:
            break
        h, _, d = failing[0]
        roster[d][h] += 1
        cover = domains if open_hours[h] else ()
        if (
            roster[d][h] > skilled[d]
            or staffing_for(config, {x: v[h] for x, v in roster.items() if v[h]}, cover) == staffing[h]
        ):  # no clerk left to add for it this hour
            roster[d][h] -= 1
            stuck.add((d, h))
    hour_p90 = {d: [scores.get((d, h), 0.0) for h in range(day.hours)] for d in domains}
    unmet = {d: [h for h, s in enumerate(v) if s > target_p90_min] for d, v in hour_p90.items()}
    return Plan(day, target_p90_min, roster, staffing, hour_p90, {d: v for d, v in unmet.items() if v})


def assignment(config: HallConfig, need: dict[str, int]) -> dict[int, str]:
    """A window -> domain matching filling as much of ``need`` as the clerks' skills allow (an
    augmenting-path matching; the scarcest skills first, a window's home domain preferred)."""
    slots = sorted(
        (d for d, n in need.items() for _ in range(n)), key=lambda d: sum(d in w.skills for w in config.windows)
    )
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for w in sorted(config.windows, key=lambda w: (slots[i] not in w.domains, len(w.skills))):
            if slots[i] in w.skills and w.number not in seen:
                seen.add(w.number)
                if w.number not in owner or augment(owner[w.number], seen):
                    owner[w.number] = i
                    return True
        return False

    for i in range(len(slots)):
        augment(i, set())
    return {w: slots[i] for w, i in owner.items()}


@dataclass
class Outcome:
    """The recorded day's waits (minutes) by hour of arrival: as recorded, and replayed under a plan."""

    recorded: list[list[float]]
    replayed: list[list[float]]

    @staticmethod
    def flat(by_hour: list[list[float]]) -> list[float]:
        return [x for ws in by_hour for x in ws]


def outcome(config: HallConfig, result: Plan) -> Outcome:
    """How the recorded day would have gone under the plan (next to how it went)."""
    day = result.day
    replayed: list[list[float]] = [[] for _ in range(day.hours)]
    recorded: list[list[float]] = [[] for _ in range(day.hours)]
    for a, w in zip(day.arrivals, replay_hall(config, day, result.staffing), strict=True):
        replayed[hour_of(day, a.at)].append(w)
        if a.waited is not None:
            recorded[hour_of(day, a.at)].append(a.waited)
    return Outcome(recorded, replayed)


def schedule(config: HallConfig, result: Plan) -> list[tuple[float, int, tuple[str, ...] | None]]:
    """The plan as window changes at the top of each hour: (epoch seconds, window, its domains, or
    None when the hour needs no clerk there); at closing every window back to its home domains."""
    closing = result.day.opens + len(result.staffing) * 3600
    return [
        (result.day.opens + h * 3600, w.number, staff.get(w.number))
        for h, staff in enumerate(result.staffing)
        for w in config.windows
    ] + [(closing, w.number, tuple(w.domains)) for w in config.windows]
