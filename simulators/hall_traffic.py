"""Hall traffic simulator (大厅客流仿真): one hall day, discrete-event, in simulated time.

It drives the REAL queue engine (``hall_bus.queue_engine.QueueEngine``) in-process over an
in-memory store with an injected clock, and the real tidal manager (``hall_bus.tidal``) when a
policy is chosen: nothing of the queue rules is re-implemented here. The simulator only plays the
citizens and the clerks:

* arrivals per domain: non-stationary Poisson (thinning) following an intraday profile (morning
  peak, lunch dip, afternoon peak), only while the hall is open;
* each service has a log-normal handling time (mean and coefficient of variation);
* a share of citizens come with an appointment (预约) and check in around their slot;
* a share use the green channel (老年人, 残疾人, 孕妇, 军人);
* a share do not show up when called: the clerk recalls them ``max_recalls`` times, then records
  a no-show;
* windows have their clerks' skills and scheduled breaks (paused, never mid-service);
* the tidal policy is consulted every ``tick_min`` simulated minutes and whenever a window is freed.

Everything random is drawn up front from the seed (common random numbers), so two runs with
the same scenario and seed see the same citizens whatever the policy: the comparison between
policies is paired, and a run is reproducible bit for bit.

Scenario files (``simulators/scenarios/*.toml``) are self-contained: a hall layout in hall.toml
form plus ``[traffic]`` and ``[tidal]`` sections (see docs/tidal.md); :mod:`simulators.traffic_scenario`
reads and checks them.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hall_bus.config import HallConfig
from hall_bus.controller.store import Store
from hall_bus.features.tidal.config import parse
from hall_bus.features.tidal.policies import policy_names
from hall_bus.features.tidal.proposals import TidalManager
from hall_bus.queue.engine import QueueEngine
from hall_bus.queue.models import Change, QueueError
from simulators.traffic_scenario import (
    DomainTraffic,
    Scenario,
    load_scenario,
    pooled_config,
    skills_config,
)

GREEN_KINDS = (("elderly", 0.7), ("disabled", 0.15), ("pregnant", 0.1), ("military", 0.05))
STRATEGIES = ("static", "pooled", "skills")  # besides the tidal policy names


# ---------------------------------------------------------------------- citizens
@dataclass(frozen=True)
class Citizen:
    at: float  # arrival (epoch seconds)
    domain: str
    service: str
    priority: str
    age: int | None
    appointment: tuple[str, float, float] | None  # (code, slot_start, slot_end)
    service_min: float
    walk_min: float
    shows: bool


def _interp(profile: tuple[tuple[float, float], ...], hour: float) -> float:
    if hour <= profile[0][0]:
        return profile[0][1]
    for (h1, w1), (h2, w2) in zip(profile, profile[1:], strict=False):
        if hour <= h2:
            return w1 + (w2 - w1) * (hour - h1) / (h2 - h1)
    return profile[-1][1]


def open_spans(sc: Scenario) -> list[tuple[float, float]]:
    tz = sc.config.tz()
    out = []
    for a, b in sc.config.hours.spans_on(sc.date):
        start = dt.datetime.combine(sc.date, a, tz).timestamp()
        end = dt.datetime.combine(sc.date, b, tz).timestamp()
        out.append((start, end))
    return out


def _profile_hours(sc: Scenario, d: DomainTraffic) -> float:
    """Integral of the profile over the open hours (weight x hours), by minute steps."""
    total = 0.0
    for a, b in open_spans(sc):
        t = a
        while t < b:
            total += _interp(d.profile, _hour(sc, t + 30)) / 60.0
            t += 60
    return total


def arrival_rate_per_h(sc: Scenario, d: DomainTraffic, ts: float, total: float | None = None) -> float:
    """The Poisson intensity of a domain at ``ts`` (arrivals per hour), zero while closed."""
    if not any(a <= ts < b for a, b in open_spans(sc)):
        return 0.0
    total = _profile_hours(sc, d) if total is None else total
    return d.daily * _interp(d.profile, _hour(sc, ts)) / total if total else 0.0


def _hour(sc: Scenario, ts: float) -> float:
    local = dt.datetime.fromtimestamp(ts, sc.config.tz())
    return local.hour + local.minute / 60.0 + local.second / 3600.0


def lognormal(rng: random.Random, mean: float, cv: float) -> float:
    if cv <= 0:
        return mean
    sigma = math.sqrt(math.log(1 + cv * cv))
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def citizens(sc: Scenario, seed: int) -> list[Citizen]:
    """Every citizen of the day, drawn from the seed (the same list whatever the policy)."""
    out: list[Citizen] = []
    spans = open_spans(sc)
    appt_no = 0
    for d in sc.domains:
        rng = random.Random(f"{seed}:{d.domain}")
        step = 60.0  # piecewise-constant intensity per minute, then thinning inside the minute
        shares = [s.share for s in d.services]
        total = _profile_hours(sc, d)
        for a, b in spans:
            t = a
            steps = range(int((b - a) // step) + 1)
            lam_max = max(arrival_rate_per_h(sc, d, min(a + k * step, b - 1), total) for k in steps) / 3600.0
            if lam_max <= 0:
                continue
            while True:
                t += rng.expovariate(lam_max)
                if t >= b:
                    break
                if rng.random() * lam_max > arrival_rate_per_h(sc, d, t, total) / 3600.0:
                    continue
                svc = rng.choices(d.services, weights=shares)[0]
                priority, age = "normal", None
                if rng.random() < sc.green_share:
                    priority = rng.choices([k for k, _ in GREEN_KINDS], weights=[w for _, w in GREEN_KINDS])[0]
                    age = rng.randint(60, 88) if priority == "elderly" else None
                appointment = None
                if rng.random() < svc.appointment_share:
                    appt_no += 1
                    slot = min(t + rng.uniform(-5, 14) * 60, b - 60)
                    appointment = (f"YY{seed % 10000:04d}{appt_no:05d}", slot, min(slot + 1800, b))
                out.append(
                    Citizen(
                        at=t,
                        domain=d.domain,
                        service=svc.service,
                        priority=priority,
                        age=age,
                        appointment=appointment,
                        service_min=lognormal(rng, svc.mean_min, svc.cv),
                        walk_min=sc.walk_min * rng.uniform(0.5, 1.5),
                        shows=rng.random() >= sc.no_show_share,
                    )
                )
    out.sort(key=lambda c: (c.at, c.domain))
    return out


# ---------------------------------------------------------------------- the day
@dataclass
class DayResult:
    scenario: str
    strategy: str
    seed: int
    waits: dict[str, list[float]]  # minutes from ticket to call, per domain (citizens who showed)
    utilisation: dict[int, float]  # busy share of each window's staffed time
    moves: int
    window_hours: float
    issued: int
    served: int
    no_shows: int
    refused: int
    last_call_at: str

    @staticmethod
    def _stats(xs: list[float]) -> dict[str, float]:
        if not xs:
            return {"n": 0, "mean": 0.0, "p90": 0.0, "max": 0.0}
        s = sorted(xs)
        p90 = s[min(len(s) - 1, math.ceil(0.9 * len(s)) - 1)]
        return {"n": len(s), "mean": statistics.fmean(s), "p90": p90, "max": s[-1]}

    def domain_stats(self) -> dict[str, dict[str, float]]:
        return {d: self._stats(xs) for d, xs in self.waits.items()}

    def overall(self) -> dict[str, float]:
        return self._stats([x for xs in self.waits.values() for x in xs])

    @property
    def moves_per_window_hour(self) -> float:
        return self.moves / self.window_hours if self.window_hours else 0.0


class HallDay:
    """One simulated day of a scenario under a strategy: ``static``, ``pooled`` or a tidal policy name."""

    def __init__(
        self,
        scenario: Scenario,
        strategy: str = "threshold",
        seed: int = 1,
        tidal_overrides: dict[str, Any] | None = None,
        roster: Sequence[tuple[float, int, tuple[str, ...] | None]] = (),  # (at, window, domains | None: no clerk)
    ) -> None:
        if strategy not in STRATEGIES and strategy not in policy_names():
            raise ValueError(f"unknown strategy {strategy!r} ({', '.join(STRATEGIES + tuple(policy_names()))})")
        self.sc = scenario
        self.strategy = strategy
        self.seed = seed
        self.roster = list(roster)
        layouts = {"pooled": pooled_config, "skills": skills_config}
        self.config = layouts[strategy](scenario.config) if strategy in layouts else scenario.config
        self.now = open_spans(scenario)[0][0] - 60.0
        self.store = Store(":memory:", durable=False)
        self.engine = QueueEngine(self.config, self.store, clock=lambda: self.now)
        self.engine.listeners.append(self._on_change)
        self.manager = None
        if strategy not in STRATEGIES:
            raw = dict(scenario.tidal)
            raw.update(tidal_overrides or {})
            raw.update(mode="auto", policy=strategy)
            self.manager = TidalManager(self.config, self.engine, parse(raw, self.config), seed=False)
        self._events: list[tuple[float, int, str, tuple[Any, ...]]] = []
        self._seq = 0
        self.domains_of: dict[int, list[str]] = {w.number: list(w.domains) for w in self.config.windows}
        self.idle: set[int] = set(self.domains_of)
        self.paused: set[int] = set()
        self.break_due: set[int] = set()
        self.current: dict[int, Citizen] = {}
        self.busy_since: dict[int, float] = {}
        self.busy_s: dict[int, float] = {n: 0.0 for n in self.domains_of}
        self.last_free: dict[int, float] = {}
        self.paused_since: dict[int, float] = {}
        self.paused_s: dict[int, float] = {n: 0.0 for n in self.domains_of}
        self.waits: dict[str, list[float]] = {d.id: [] for d in self.config.domains}
        self.moves = 0
        self.issued = self.served = self.no_shows = self.refused = 0
        self.by_ticket: dict[int, Citizen] = {}
        self.last_call = self.now

    # ------------------------------------------------------------------ plumbing
    def _at(self, t: float, kind: str, *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._events, (t, self._seq, kind, args))

    def _on_change(self, change: Change) -> None:
        for type_, data in change.events:
            if type_ == "audit" and data.get("action") == "window.assign.applied":
                self.domains_of[int(data["window"])] = list(data["to"])
                self.moves += 1

    # ------------------------------------------------------------------ run
    def run(self) -> DayResult:
        people = citizens(self.sc, self.seed)
        for c in people:
            if c.appointment:
                code, start, end = c.appointment
                self.engine.add_appointment(code, c.service, start, end)
            self._at(c.at, "arrive", c)
        tz = self.sc.config.tz()
        for b in self.sc.breaks:
            start = dt.datetime.combine(self.sc.date, b.start, tz).timestamp()
            self._at(start, "break", b.window)
            self._at(start + b.minutes * 60, "back", b.window)
        for at, n, domains in self.roster:
            self._at(at, "roster", n, domains)
        spans = open_spans(self.sc)
        if self.manager is not None:
            t = spans[0][0]
            while t < spans[-1][1] + 4 * 3600:
                self._at(t, "tick")
                t += self.sc.tick_min * 60
        while self._events:
            t, _, kind, args = heapq.heappop(self._events)
            if kind == "tick" and not self.engine.waiting() and t > spans[-1][1]:
                continue  # the day is over and the queue is empty: no need to keep consulting the policy
            self.now = max(self.now, t)
            getattr(self, f"_on_{kind}")(*args)
        staffed = sum(b - a for a, b in spans)
        util = {}
        for n in self.domains_of:  # busy share of the staffed time, overtime after closing included
            break_s = self.paused_s[n]
            overtime = max(0.0, self.last_free.get(n, 0.0) - spans[-1][1])
            util[n] = self.busy_s[n] / max(1.0, staffed + overtime - break_s)
        window_hours = len(self.domains_of) * staffed / 3600.0
        return DayResult(
            scenario=self.sc.name,
            strategy=self.strategy,
            seed=self.seed,
            waits=self.waits,
            utilisation=util,
            moves=self.moves,
            window_hours=window_hours,
            issued=self.issued,
            served=self.served,
            no_shows=self.no_shows,
            refused=self.refused,
            last_call_at=dt.datetime.fromtimestamp(self.last_call, tz).strftime("%H:%M"),
        )

    # ------------------------------------------------------------------ events
    def _on_arrive(self, c: Citizen) -> None:
        try:
            ticket, _ = self.engine.issue(
                c.service,
                priority=c.priority,
                age_years=c.age,
                appointment=c.appointment[0] if c.appointment else None,
                channel="simulator",
            )
        except QueueError:
            self.refused += 1
            return
        self.issued += 1
        self.by_ticket[ticket.id] = c
        for n in sorted(self.idle):
            if ticket.domain in self.domains_of[n] and self._call(n):
                break

    def _call(self, n: int) -> bool:
        """Call the next ticket to a free window; returns whether someone was called."""
        ticket, _ = self.engine.call_next(n, actor="sim")
        if ticket is None:
            self.idle.add(n)
            return False
        self.idle.discard(n)
        c = self.by_ticket[ticket.id]
        self.current[n] = c
        self.busy_since[n] = self.now
        self.last_call = self.now
        if c.shows:
            called_at = ticket.called_at if ticket.called_at is not None else self.now  # just called
            self.waits[ticket.domain].append((called_at - ticket.issued_at) / 60.0)
            self._at(self.now + c.walk_min * 60, "start", n)
        else:
            self._at(self.now + self.sc.recall_min * 60, "recall", n, 1)
        return True

    def _on_start(self, n: int) -> None:
        self.engine.start(n, actor="sim")
        self._at(self.now + self.current[n].service_min * 60, "finish", n)

    def _on_recall(self, n: int, k: int) -> None:
        if k <= self.config.queue.max_recalls:
            self.engine.recall(n, actor="sim")
            self._at(self.now + self.sc.recall_min * 60, "recall", n, k + 1)
        else:
            self.engine.no_show(n, actor="sim")
            self.no_shows += 1
            self._freed(n)

    def _on_finish(self, n: int) -> None:
        self.engine.finish(n, actor="sim")
        self.served += 1
        self._freed(n)

    def _freed(self, n: int) -> None:
        self.current.pop(n, None)
        self.busy_s[n] += self.now - self.busy_since.pop(n, self.now)
        self.last_free[n] = self.now
        if n in self.break_due:
            self.break_due.discard(n)
            self._pause(n)
            return
        if n in self.paused:
            return
        if self.manager is not None:
            self.manager.window_freed(n)
        self._call(n)

    def _pause(self, n: int) -> None:
        self.engine.pause(n, "break", actor="sim")
        self.paused.add(n)
        self.paused_since[n] = self.now

    def _on_break(self, n: int) -> None:
        if n in self.current:
            self.break_due.add(n)  # never mid-service: the break starts when the ticket ends
        else:
            self._pause(n)
            self.idle.discard(n)

    def _on_back(self, n: int) -> None:
        self.break_due.discard(n)
        if n in self.paused:
            self.paused.discard(n)
            self.paused_s[n] += self.now - self.paused_since.pop(n, self.now)
            self.engine.resume(n, actor="sim")
            if n not in self.current:
                self._call(n)

    def _on_roster(self, n: int, domains: tuple[str, ...] | None) -> None:
        if domains is None:
            self._on_break(n)  # no clerk this hour: the window closes when its ticket ends
            return
        if list(domains) != self.domains_of[n]:
            self.engine.assign(n, list(domains), actor="roster")
        self._on_back(n)
        if n in self.idle and n not in self.paused:
            self._call(n)

    def _on_tick(self) -> None:
        if self.manager is not None and self.manager.evaluate():
            for n in sorted(self.idle - self.paused):
                self._call(n)


def simulate(
    scenario: Scenario | str | Path,
    strategy: str = "threshold",
    seed: int = 1,
    tidal_overrides: dict[str, Any] | None = None,
) -> DayResult:
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return HallDay(sc, strategy, seed, tidal_overrides).run()


def report(result: DayResult, config: HallConfig) -> list[str]:
    """The lines ``hallkit tidal simulate`` prints (the last one is the machine-readable summary)."""
    lines = [
        f"{result.scenario}: strategy {result.strategy}, seed {result.seed}; {result.issued} tickets issued, "
        f"{result.served} served, {result.no_shows} no-shows, {result.refused} refused; "
        f"last call {result.last_call_at}"
    ]
    lines.append(f"{'domain':<16}{'served':>7}{'mean':>8}{'p90':>8}{'max':>8}  (wait in minutes)")
    for d, st in result.domain_stats().items():
        name = config.domain(d).name
        lines.append(f"{name + ' ' + d:<16}{st['n']:>7}{st['mean']:>8.1f}{st['p90']:>8.1f}{st['max']:>8.1f}")
    o = result.overall()
    lines.append(f"{'overall':<16}{o['n']:>7}{o['mean']:>8.1f}{o['p90']:>8.1f}{o['max']:>8.1f}")
    util = " ".join(f"{n}:{u:.0%}" for n, u in sorted(result.utilisation.items()))
    mean_util = statistics.fmean(result.utilisation.values()) if result.utilisation else 0.0
    lines.append(f"window utilisation (mean {mean_util:.0%}): {util}")
    lines.append(f"moves: {result.moves} ({result.moves_per_window_hour:.2f} per window-hour)")
    lines.append(f"mean_wait_min={o['mean']:.2f} p90_wait_min={o['p90']:.2f} moves={result.moves}")
    return lines
