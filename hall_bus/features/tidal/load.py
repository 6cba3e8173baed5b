"""The live load model of a hall (潮汐窗口的负荷模型).

Per domain: waiting count, the handling minutes of the waiting tickets, arrival rate over a sliding
window, a handling-time estimate per service learned from finished tickets, the window capacity
serving it, the expected wait of a new arrival, the projected wait a little ahead and the offered
utilisation. Per window: its domains (and pending ones), its clerk's skills, its home domains from
hall.toml, its state (serving / idle / paused) and when it last moved.

The model listens to queue-engine changes (``on_change``) and reads the engine's store; it never
writes to the store. See docs/tidal.md for the formulas.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from hall_bus.config import HallConfig
from hall_bus.features.tidal.settings import TidalSettings
from hall_bus.queue.engine import QueueEngine
from hall_bus.queue.estimates import LearnedHandlingTimes
from hall_bus.queue.forecast import INF, Desk, Forecast, Line, desks_of, finite, forecast
from hall_bus.queue.models import Change, WindowState

HandlingEstimator = LearnedHandlingTimes  # the name the load model used before the estimator was one


class ArrivalMeter:
    """Arrivals per domain over a sliding window (tickets per hour)."""

    def __init__(self, window_min: float = 30.0, min_span_min: float = 5.0) -> None:
        self.window_s = window_min * 60.0
        self.min_span_s = min_span_min * 60.0
        self.events: dict[str, collections.deque[tuple[float, str]]] = collections.defaultdict(collections.deque)
        self.first_at: float | None = None

    def observe(self, domain: str, service: str, at: float) -> None:
        if self.first_at is None or at < self.first_at:
            self.first_at = at
        self.events[domain].append((at, service))

    def _prune(self, now: float) -> None:
        horizon = now - self.window_s
        for q in self.events.values():
            while q and q[0][0] < horizon:
                q.popleft()

    def rate_per_h(self, domain: str, now: float) -> float:
        self._prune(now)
        q = self.events.get(domain)
        if not q:
            return 0.0
        span = self.window_s
        if self.first_at is not None:
            span = min(span, max(self.min_span_s, now - self.first_at))
        return len(q) * 3600.0 / span

    def mix(self, domain: str, now: float) -> dict[str, int]:
        self._prune(now)
        return dict(collections.Counter(s for _, s in self.events.get(domain, ())))


@dataclass
class WindowLoad:
    number: int
    name: str
    domains: list[str]  # what it calls from now
    pending_domains: list[str] | None
    skills: list[str]
    home_domains: list[str]  # from hall.toml
    state: str  # serving | idle | paused | closed (outside its hours, nothing of the day left to call)
    engine_state: str  # idle | calling | serving | paused
    current_domain: str | None
    last_move_at: float | None

    @property
    def effective(self) -> list[str]:
        """The domains the window serves once its pending assignment (if any) applies."""
        return self.pending_domains if self.pending_domains is not None else self.domains

    @property
    def available(self) -> bool:
        return self.state not in ("paused", "closed")

    def public(self, now: float) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "domains": self.domains,
            "pending_domains": self.pending_domains,
            "skills": self.skills,
            "home_domains": self.home_domains,
            "state": self.state,
            "engine_state": self.engine_state,
            "current_domain": self.current_domain,
            "away_from_home": sorted(self.effective) != sorted(self.home_domains),
            "minutes_since_move": None if self.last_move_at is None else round((now - self.last_move_at) / 60.0, 1),
        }


@dataclass
class DomainLoad:
    domain: str
    name: str
    name_en: str
    waiting: int
    work_min: float  # handling minutes of the waiting tickets
    oldest_wait_min: float  # head-of-line wait
    arrival_rate_per_h: float
    handling_min: float  # mean handling minutes of this domain's ticket mix
    windows: list[int] = field(default_factory=list)
    capacity: float = 0.0  # window-equivalents (a window shared by k domains counts 1/k)
    busy: int = 0  # windows calling/serving a ticket of this domain now
    expected_wait_min: float = 0.0  # the hall's one estimate (hall_bus.queue.forecast.forecast)

    @property
    def offered_load(self) -> float:
        """Busy windows needed on average (erlangs): arrival rate x handling time."""
        return self.arrival_rate_per_h * self.handling_min / 60.0

    @property
    def load_ratio(self) -> float | None:
        """Offered load per window-equivalent serving the domain (a policy signal; may exceed 1)."""
        return None if self.capacity <= 0 else self.offered_load / self.capacity

    def projected_wait_min(self, horizon_min: float) -> float:
        """The estimate ``horizon_min`` ahead if arrivals continue at the current rate: the wait now
        plus the work the arrivals add beyond what the capacity serving the domain clears."""
        if self.capacity <= 0:
            return INF if (self.waiting or self.arrival_rate_per_h > 0) else 0.0
        growth = (self.offered_load - self.capacity) * horizon_min / self.capacity
        return max(0.0, self.expected_wait_min + growth)

    def pressure(self, horizon_min: float) -> float:
        """What the policies compare: the larger of the wait now and the projected wait."""
        return max(self.expected_wait_min, self.projected_wait_min(horizon_min))

    def public(self, horizon_min: float, utilisation: float | None = None) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "name": self.name,
            "name_en": self.name_en,
            "waiting": self.waiting,
            "work_min": round(self.work_min, 1),
            "oldest_wait_min": round(self.oldest_wait_min, 1),
            "arrival_rate_per_h": round(self.arrival_rate_per_h, 1),
            "handling_min": round(self.handling_min, 2),
            "windows": self.windows,
            "capacity": round(self.capacity, 2),
            "busy_windows": self.busy,
            "expected_wait_min": finite(self.expected_wait_min),
            "projected_wait_min": finite(self.projected_wait_min(horizon_min)),
            "utilisation": utilisation,
            "offered_load_erlangs": round(self.offered_load, 2),
        }


@dataclass
class HallLoad:
    at: float
    domains: dict[str, DomainLoad]
    windows: dict[int, WindowLoad]
    horizon_min: float
    lines: tuple[Line, ...] = ()  # the waiting tickets, for the forecast of a what-if
    remaining: dict[int, float] = field(default_factory=dict)  # window -> minutes its ticket has left

    def desks(self) -> list[Desk]:
        return [
            Desk(w.number, tuple(w.effective), self.remaining.get(w.number, 0.0))
            for w in self.windows.values()
            if w.available
        ]

    def with_domains(self, number: int, to: list[str]) -> HallLoad:
        """The load as it would be if window ``number`` served ``to`` (a what-if for the policies):
        capacities and the forecast recomputed."""
        windows = dict(self.windows)
        w = windows[number]
        windows[number] = replace(w, pending_domains=list(to) if list(to) != w.domains else None)
        domains = {d: replace(dl, windows=[], capacity=0.0) for d, dl in self.domains.items()}
        _fill_capacity(domains, windows.values())
        out = HallLoad(self.at, domains, windows, self.horizon_min, self.lines, self.remaining)
        out.apply(forecast(self.lines, out.desks()))
        return out

    def apply(self, fc: Forecast) -> None:
        for d, dl in self.domains.items():
            dl.expected_wait_min = fc.wait(d) if dl.windows else (INF if dl.waiting else 0.0)

    def pressure(self, domain: str) -> float:
        return self.domains[domain].pressure(self.horizon_min)

    def wait(self, domain: str) -> float:
        """The hall's one estimate for ``domain`` (what a ticket taken now would wait)."""
        return self.domains[domain].expected_wait_min

    def windows_serving(self, domain: str) -> list[WindowLoad]:
        return [w for w in self.windows.values() if w.available and domain in w.effective]

    def public(self, utilisation: dict[str, float | None] | None = None) -> dict[str, Any]:
        util = utilisation or {}
        return {
            "at": self.at,
            "horizon_min": self.horizon_min,
            "domains": [d.public(self.horizon_min, util.get(d.domain)) for d in self.domains.values()],
            "windows": [w.public(self.at) for w in self.windows.values()],
        }


def _fill_capacity(domains: dict[str, DomainLoad], windows: Iterable[WindowLoad]) -> None:
    for w in windows:
        if not w.available:
            continue
        eff = [d for d in w.effective if d in domains]
        for d in eff:
            domains[d].windows.append(w.number)
            domains[d].capacity += 1.0 / len(eff)


class LoadModel:
    """Keeps the learned parts of the load (arrivals, window moves) and computes a :class:`HallLoad`
    from the engine on demand. The handling times are the engine's learned ones (one estimator for
    the ticket, the snapshot and the load): the model installs them on the engine if it has none."""

    def __init__(self, config: HallConfig, engine: QueueEngine, settings: TidalSettings) -> None:
        self.config = config
        self.engine = engine
        self.settings = settings
        if not isinstance(engine.estimator, LearnedHandlingTimes):
            engine.estimator = LearnedHandlingTimes(config, prior_weight=settings.prior_weight)
        self.estimator: LearnedHandlingTimes = engine.estimator
        self.arrivals = ArrivalMeter(settings.arrival_window_min)
        self.last_move: dict[int, float] = {}
        self.moves_applied = 0

    # ------------------------------------------------------------------ learning
    def seed_from_store(self) -> None:
        """After a restart: recent durations, the last arrivals and the last moves from the store."""
        db, hall, now = self.engine.store.db, self.engine.hall, self.engine.now()
        if not any(self.estimator.count(s.id) for s in self.config.services):
            self.estimator.seed(db, hall)
        since = now - self.settings.arrival_window_min * 60.0
        for r in db.execute(
            "SELECT domain, service, issued_at FROM tickets WHERE hall=? AND issued_at >= ? ORDER BY issued_at",
            (hall, since),
        ):
            self.arrivals.observe(r["domain"], r["service"], r["issued_at"])
        for r in db.execute(
            "SELECT target, MAX(at) FROM audit WHERE hall=? AND action IN ('window.assign', 'window.assign.applied') "
            "GROUP BY target",
            (hall,),
        ):
            try:
                self.last_move[int(str(r[0]).split()[-1])] = r[1]
            except ValueError:
                continue

    def on_change(self, change: Change) -> None:
        """Engine listener: learn from issued and finished tickets and from window moves.

        Runs on whichever thread changed the queue; takes ``store.lock`` (the lock the feature's
        background thread holds while it computes) so the learned state is never read half-updated."""
        with self.engine.store.lock:
            self._learn(change)

    def _learn(self, change: Change) -> None:
        now = self.engine.now()
        self.estimator.learn(change)
        for type_, data in change.events:
            if type_ == "ticket" and data.get("action") == "issued":
                t = data.get("ticket") or {}
                self.arrivals.observe(t["domain"], t["service"], t.get("issued_at") or now)
            elif type_ == "audit" and data.get("action") in ("window.assign", "window.assign.applied"):
                self.last_move[int(data["window"])] = now
                if data.get("action") == "window.assign.applied":
                    self.moves_applied += 1

    # ------------------------------------------------------------------ computing
    def handling_min(self, domain: str, now: float) -> float:
        """Mean handling minutes of the domain's recent arrival mix (all its services if none yet)."""
        mix = self.arrivals.mix(domain, now)
        if not mix:
            mix = {s.id: 1 for s in self.config.services_of(domain) if not s.self_service} or {
                s.id: 1 for s in self.config.services_of(domain)
            }
        total = sum(mix.values())
        if not total:
            return self.config.queue.default_expected_minutes
        return sum(n * self.estimator.expected_minutes(s) for s, n in mix.items()) / total

    def compute(self, windows: list[WindowState] | None = None) -> HallLoad:
        engine = self.engine
        now = engine.now()
        windows = windows if windows is not None else engine.windows()
        lines = tuple(engine.waiting_lines())
        domains: dict[str, DomainLoad] = {}
        for d in self.config.domains:
            domains[d.id] = DomainLoad(
                d.id, d.name, d.name_en, 0, 0.0, 0.0, self.arrivals.rate_per_h(d.id, now), self.handling_min(d.id, now)
            )
        for ln in lines:
            dl = domains.get(ln.domain)
            if dl is None:
                continue
            dl.waiting += 1
            dl.work_min += ln.minutes
            dl.oldest_wait_min = max(dl.oldest_wait_min, (now - ln.order[1]) / 60.0)
        wloads: dict[int, WindowLoad] = {}
        for w in windows:
            cfg = self.config.window(w.number)
            state = "paused" if w.paused else ("serving" if w.current is not None else "idle" if w.works else "closed")
            current = w.current.domain if w.current is not None else None
            if current in domains:
                domains[current].busy += 1
            wloads[w.number] = WindowLoad(
                w.number,
                w.name,
                list(w.domains),
                list(w.pending_domains) if w.pending_domains is not None else None,
                list(w.skills),
                list(cfg.domains),
                state,
                w.state,
                current,
                self.last_move.get(w.number),
            )
        _fill_capacity(domains, wloads.values())
        remaining = {d.number: d.free_in_min for d in desks_of(windows, now, self.estimator)}
        load = HallLoad(now, domains, wloads, self.settings.horizon_min, lines, remaining)
        load.apply(forecast(lines, load.desks()))
        return load

    def services_public(self) -> list[dict[str, Any]]:
        return [
            {
                "service": s.id,
                "domain": s.domain,
                "configured_min": s.expected_minutes,
                "handling_min": round(self.estimator.expected_minutes(s.id), 2),
                "samples": self.estimator.count(s.id),
            }
            for s in self.config.services
        ]


def _paused_seconds(events: list[tuple[float, str]], start: float, end: float) -> float:
    """Seconds of [start, end] a window spent paused, from its ordered pause/resume audit records."""
    paused_since: float | None = None
    total = 0.0
    for at, action in events:
        if action == "window.pause" and paused_since is None:
            paused_since = at
        elif action == "window.resume" and paused_since is not None:
            total += max(0.0, min(at, end) - max(paused_since, start))
            paused_since = None
    if paused_since is not None:
        total += max(0.0, end - max(paused_since, start))
    return total


def window_busy_share(engine: QueueEngine, now: float, span_s: float = 3600.0) -> dict[int, float | None]:
    """Utilisation of each window over the last ``span_s``: the time it had a ticket at the window
    (called or serving) divided by the time it was open (not paused); ``None`` when it was paused
    throughout. Always within [0, 1]."""
    start = now - span_s
    db = engine.store.db
    busy = {
        int(r[0]): r[1] or 0.0
        for r in db.execute(
            "SELECT window, SUM(MIN(COALESCE(finished_at, ?), ?) - MAX(called_at, ?)) FROM tickets WHERE hall=? "
            "AND window IS NOT NULL AND called_at IS NOT NULL AND called_at < ? AND (finished_at IS NULL OR finished_at > ?) "
            "GROUP BY window",
            (now, now, start, engine.hall, now, start),
        )
    }
    events: dict[int, list[tuple[float, str]]] = collections.defaultdict(list)
    for r in db.execute(
        "SELECT target, at, action FROM audit WHERE hall=? AND action IN ('window.pause', 'window.resume') "
        "AND at <= ? AND at >= ? ORDER BY id",  # a pause began at most half a day before the span
        (engine.hall, now, start - 12 * 3600.0),
    ):
        try:
            events[int(str(r[0]).split()[-1])].append((r[1], r[2]))
        except ValueError:
            continue
    out: dict[int, float | None] = {}
    for w in engine.config.windows:
        open_s = span_s - _paused_seconds(events.get(w.number, []), start, now)
        out[w.number] = None if open_s < 60.0 else round(min(1.0, max(0.0, busy.get(w.number, 0.0) / open_s)), 3)
    return out


def domain_utilisation(load: HallLoad, busy: dict[int, float | None]) -> dict[str, float | None]:
    """A domain's utilisation: the mean utilisation of the open windows serving it now (within [0, 1])."""
    out: dict[str, float | None] = {}
    for d, dl in load.domains.items():
        shares = [u for n in dl.windows if (u := busy.get(n)) is not None]
        out[d] = round(sum(shares) / len(shares), 3) if shares else None
    return out
