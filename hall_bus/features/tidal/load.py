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
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from hall_bus.config import HallConfig
from hall_bus.features.tidal.settings import TidalSettings
from hall_bus.queue.engine import QueueEngine
from hall_bus.queue.models import Change, WindowState

INF = float("inf")
MAX_SERVICE_MIN = 8 * 60.0  # a "service" longer than a working day is a forgotten finish key


class HandlingEstimator:
    """Handling minutes per service, learned from finished tickets and robust to outliers.

    Each service keeps its last ``keep`` observed durations. The estimate is a 10 % trimmed mean
    (at least one value cut at each end once there are five), shrunk towards the configured
    ``expected_minutes`` as if the configuration were ``prior_weight`` observations:

        estimate = (k * prior + n * trimmed_mean) / (k + n)

    A clerk who forgets to press finish (a 3-hour "service") or double-presses call (a 2-second
    one) is cut off by the trimming; a handful of such outliers cannot move the estimate.
    Implements the queue engine's ``HandlingTimeEstimator`` protocol.
    """

    def __init__(self, config: HallConfig, prior_weight: float = 5.0, keep: int = 60, trim: float = 0.1) -> None:
        self.prior = {s.id: s.expected_minutes for s in config.services}
        self.default = config.queue.default_expected_minutes
        self.prior_weight = prior_weight
        self.trim = trim
        self.samples: dict[str, collections.deque[float]] = collections.defaultdict(
            lambda: collections.deque(maxlen=keep)
        )
        self._cache: dict[str, float] = {}

    def observe(self, service: str, minutes: float) -> None:
        if not (minutes >= 0) or minutes > MAX_SERVICE_MIN:
            return
        self.samples[service].append(float(minutes))
        self._cache.pop(service, None)

    def count(self, service: str) -> int:
        return len(self.samples.get(service, ()))

    def expected_minutes(self, service: str) -> float:
        cached = self._cache.get(service)
        if cached is not None:
            return cached
        prior = self.prior.get(service, self.default)
        xs = sorted(self.samples.get(service, ()))
        n = len(xs)
        if n == 0:
            value = prior
        else:
            cut = int(n * self.trim)
            if n >= 5:
                cut = max(cut, 1)
            kept = xs[cut : n - cut] if n - 2 * cut > 0 else xs
            tmean = sum(kept) / len(kept)
            value = (self.prior_weight * prior + n * tmean) / (self.prior_weight + n)
        self._cache[service] = value
        return value


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
    state: str  # serving | idle | paused
    engine_state: str  # idle | calling | serving | paused
    current_domain: str | None
    last_move_at: float | None

    @property
    def effective(self) -> list[str]:
        """The domains the window serves once its pending assignment (if any) applies."""
        return self.pending_domains if self.pending_domains is not None else self.domains

    @property
    def available(self) -> bool:
        return self.state != "paused"

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

    @property
    def offered_load(self) -> float:
        """Busy windows needed on average (erlangs): arrival rate x handling time."""
        return self.arrival_rate_per_h * self.handling_min / 60.0

    @property
    def expected_wait_min(self) -> float:
        """Work ahead of a new arrival divided by the capacity serving the domain."""
        if self.capacity <= 0:
            return INF if self.waiting else 0.0
        return self.work_min / self.capacity

    def projected_wait_min(self, horizon_min: float) -> float:
        """The expected wait ``horizon_min`` ahead if arrivals continue at the current rate."""
        if self.capacity <= 0:
            return INF if (self.waiting or self.arrival_rate_per_h > 0) else 0.0
        work = max(0.0, self.work_min + (self.offered_load - self.capacity) * horizon_min)
        return work / self.capacity

    def pressure(self, horizon_min: float) -> float:
        """What the policies compare: the larger of the wait now and the projected wait."""
        return max(self.expected_wait_min, self.projected_wait_min(horizon_min))

    @property
    def utilisation(self) -> float | None:
        if self.capacity <= 0:
            return None
        return self.offered_load / self.capacity

    def public(self, horizon_min: float) -> dict[str, Any]:
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
            "expected_wait_min": _finite(self.expected_wait_min),
            "projected_wait_min": _finite(self.projected_wait_min(horizon_min)),
            "utilisation": None if self.utilisation is None else round(self.utilisation, 3),
        }


def _finite(x: float) -> float | None:
    return None if math.isinf(x) or math.isnan(x) else round(x, 1)


@dataclass
class HallLoad:
    at: float
    domains: dict[str, DomainLoad]
    windows: dict[int, WindowLoad]
    horizon_min: float

    def with_domains(self, number: int, to: list[str]) -> HallLoad:
        """The load as it would be if window ``number`` served ``to`` (a what-if for the policies)."""
        windows = dict(self.windows)
        w = windows[number]
        windows[number] = replace(w, pending_domains=list(to) if list(to) != w.domains else None)
        domains = {d: replace(dl, windows=[], capacity=0.0) for d, dl in self.domains.items()}
        _fill_capacity(domains, windows.values())
        return HallLoad(self.at, domains, windows, self.horizon_min)

    def pressure(self, domain: str) -> float:
        return self.domains[domain].pressure(self.horizon_min)

    def windows_serving(self, domain: str) -> list[WindowLoad]:
        return [w for w in self.windows.values() if w.available and domain in w.effective]

    def public(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "horizon_min": self.horizon_min,
            "domains": [d.public(self.horizon_min) for d in self.domains.values()],
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
    """Keeps the learned parts of the load (handling times, arrivals, window moves) and computes a
    :class:`HallLoad` from the engine on demand."""

    def __init__(self, config: HallConfig, engine: QueueEngine, settings: TidalSettings) -> None:
        self.config = config
        self.engine = engine
        self.settings = settings
        self.estimator = HandlingEstimator(config, prior_weight=settings.prior_weight)
        self.arrivals = ArrivalMeter(settings.arrival_window_min)
        self.last_move: dict[int, float] = {}
        self.moves_applied = 0

    # ------------------------------------------------------------------ learning
    def seed_from_store(self) -> None:
        """After a restart: recent durations, the last arrivals and the last moves from the store."""
        db, hall, now = self.engine.store.db, self.engine.hall, self.engine.now()
        rows = db.execute(
            "SELECT service, COALESCE(started_at, called_at) AS s, finished_at FROM tickets WHERE hall=? "
            "AND state='finished' AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 2000",
            (hall,),
        ).fetchall()
        for r in reversed(rows):
            if r["s"] is not None:
                self.estimator.observe(r["service"], (r["finished_at"] - r["s"]) / 60.0)
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
        for type_, data in change.events:
            if type_ == "ticket":
                action, t = data.get("action"), data.get("ticket") or {}
                if action == "issued":
                    self.arrivals.observe(t["domain"], t["service"], t.get("issued_at") or now)
                elif action == "finished":
                    start = t.get("started_at") or t.get("called_at")
                    end = t.get("finished_at") or now
                    if start is not None:
                        self.estimator.observe(t["service"], (end - start) / 60.0)
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
        rows = engine.store.db.execute(
            "SELECT domain, service, COUNT(*), MIN(issued_at) FROM tickets WHERE hall=? "
            "AND state='waiting' GROUP BY domain, service",
            (engine.hall,),
        ).fetchall()
        domains: dict[str, DomainLoad] = {}
        for d in self.config.domains:
            domains[d.id] = DomainLoad(
                d.id, d.name, d.name_en, 0, 0.0, 0.0, self.arrivals.rate_per_h(d.id, now), self.handling_min(d.id, now)
            )
        for domain, service, count, oldest in rows:
            dl = domains.get(domain)
            if dl is None:
                continue
            dl.waiting += count
            dl.work_min += count * self.estimator.expected_minutes(service)
            dl.oldest_wait_min = max(dl.oldest_wait_min, (now - oldest) / 60.0)
        wloads: dict[int, WindowLoad] = {}
        for w in windows:
            cfg = self.config.window(w.number)
            engine_state = w.state
            state = "paused" if w.paused else ("serving" if w.current is not None else "idle")
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
                engine_state,
                current,
                self.last_move.get(w.number),
            )
        _fill_capacity(domains, wloads.values())
        return HallLoad(now, domains, wloads, self.settings.horizon_min)

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


def window_busy_share(engine: QueueEngine, now: float, span_s: float = 3600.0) -> dict[int, float]:
    """Share of the last ``span_s`` each window spent with a ticket at the window (called or serving)."""
    start = now - span_s
    rows = engine.store.db.execute(
        "SELECT window, SUM(MIN(COALESCE(finished_at, ?), ?) - MAX(called_at, ?)) FROM tickets WHERE hall=? AND window IS NOT NULL "
        "AND called_at IS NOT NULL AND called_at < ? AND (finished_at IS NULL OR finished_at > ?) GROUP BY window",
        (now, now, start, engine.hall, now, start),
    ).fetchall()
    return {int(r[0]): round(max(0.0, min(1.0, (r[1] or 0.0) / span_s)), 3) for r in rows}
