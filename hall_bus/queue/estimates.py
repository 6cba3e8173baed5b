"""The one wait estimate of the hall (等候时间预估): positions, queue snapshots and the tidal load.

Every figure a citizen or a manager sees (the kiosk's ticket, the phone page, the hall display,
the manager console, the tidal load and the tidal proposals) comes from :func:`forecast`:

1. **Handling times** are learned per service from finished tickets (:class:`LearnedHandlingTimes`:
   a trimmed mean shrunk towards hall.toml's ``expected_minutes``); the engine's ``estimator``.
2. **The windows open now** (not paused) with the domains they call from now on (a pending
   assignment counts as done, since it applies when the current ticket ends) and the expected
   minutes until each is free: a window with a ticket is free when the ticket's expected handling
   time since its call has passed (at once if it has already run over).
3. **The calling rule**: when a window is free it calls the first waiting ticket of its domains in
   the calling order (appointments, then the green channel, then by issue time; tickets sent to a
   window by number only there). The forecast replays exactly that, ticket by ticket, with every
   ticket taking its service's expected minutes: the minute a waiting ticket is reached is its
   estimated wait; a ticket taken now waits as long as it takes until a window of its domain has
   nothing older to call.

Not modelled (the figure is an expectation, not a promise): arrivals after now that overtake (green
channel, appointments), the streak rule, no-shows and walking time. A domain no open window serves
has no estimate (``inf``; ``null`` on the bus).

Hand-computed example (tests/hall_bus/queue/test_estimates.py): windows 1 and 2 serve 社保; window 1
has 4 minutes of its ticket left, window 2 is free; three 10-minute tickets wait. The first is
called now (wait 0) by window 2, the second at minute 4 by window 1, the third at minute 10 by
window 2; a ticket taken now would be called at minute 14.
"""

from __future__ import annotations

import collections
import math
import sqlite3
from dataclasses import dataclass
from typing import Any

from hall_bus.config import HallConfig
from hall_bus.queue.base import EngineBase, locked
from hall_bus.queue.forecast import (
    Forecast,
    Line,
    _appended,
    _line,
    desks_of,
    finite,
    forecast,
)
from hall_bus.queue.models import _RANK_SQL, Change, Ticket, WindowState, _rank_key

MAX_SERVICE_MIN = 8 * 60.0  # a "service" longer than a working day is a forgotten finish key


class LearnedHandlingTimes:
    """Handling minutes per service, learned from finished tickets and robust to outliers.

    Each service keeps its last ``keep`` observed durations. The estimate is a 10 % trimmed mean
    (at least one value cut at each end once there are five), shrunk towards the configured
    ``expected_minutes`` as if the configuration were ``prior_weight`` observations:

        estimate = (k * prior + n * trimmed_mean) / (k + n)

    A clerk who forgets to press finish (a 3-hour "service") or double-presses call (a 2-second
    one) is cut off by the trimming. Implements the engine's ``HandlingTimeEstimator`` protocol;
    :meth:`learn` is an engine listener and :meth:`seed` reads the store after a restart.
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
            value = (self.prior_weight * prior + n * sum(kept) / len(kept)) / (self.prior_weight + n)
        self._cache[service] = value
        return value

    def learn(self, change: Change) -> None:
        """Engine listener: every finished ticket is an observation (from its start, or its call)."""
        for type_, data in change.events:
            if type_ == "ticket" and data.get("action") == "finished":
                t = data.get("ticket") or {}
                start, end = t.get("started_at") or t.get("called_at"), t.get("finished_at")
                if start is not None and end is not None:
                    self.observe(t["service"], (end - start) / 60.0)

    def seed(self, db: sqlite3.Connection, hall: str) -> None:
        """After a restart: the recent durations from the store."""
        rows = db.execute(
            "SELECT service, COALESCE(started_at, called_at) AS s, finished_at FROM tickets WHERE hall=? "
            "AND state='finished' AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 2000",
            (hall,),
        ).fetchall()
        for r in reversed(rows):
            if r["s"] is not None:
                self.observe(r["service"], (r["finished_at"] - r["s"]) / 60.0)


# ---------------------------------------------------------------------- the engine's part
@dataclass(frozen=True)
class _Waiting:
    """The waiting tickets as last read: their fingerprint, rows, services, handling times and lines."""

    stamp: tuple[int, int, int]
    rows: list[tuple[Any, ...]]
    services: frozenset[str]
    minutes: dict[str, float]
    lines: list[Line]


class Estimates(EngineBase):
    _waiting: _Waiting | None = None
    _lines_extended = False

    def waiting_lines(self) -> list[Line]:
        """Every waiting ticket of the hall as the forecast sees it (the caller holds the store lock).

        This runs after every change, so the waiting tickets are kept between calls. The store's
        triggers count waiting tickets appended and waiting tickets changed otherwise
        (``waiting_changes``); with the store's count of rolled back transactions that is the
        fingerprint: if only new tickets joined, only those are read and added, if anything else
        changed all are read again."""
        row = self.store.db.execute(
            "SELECT appended, changed FROM waiting_changes WHERE hall=?", (self.hall,)
        ).fetchone()
        appended, changed = (row[0], row[1]) if row is not None else (0, 0)
        stamp = (self.store.rollbacks, changed, appended)
        old = self._waiting
        rows: list[tuple[Any, ...]] | None = None
        new: list[tuple[Any, ...]] = []
        if old is not None and old.stamp == stamp:
            rows = old.rows
        elif old is not None and old.stamp[:2] == stamp[:2] and appended > old.stamp[2]:
            new = self._waiting_rows_after(old.rows[-1][0] if old.rows else 0)
            if len(new) == appended - old.stamp[2]:
                rows = old.rows + new
        self._lines_extended = rows is not None  # the tickets read before are still the first ones, in order
        if rows is None:
            rows = self._waiting_rows_after(0)
            services = frozenset(r[1] for r in rows)
        else:
            services = old.services | {r[1] for r in new} if old is not None else frozenset()
        minutes = {service: self.estimator.expected_minutes(service) for service in services}
        if old is not None and self._lines_extended and all(old.minutes.get(k) == v for k, v in minutes.items()):
            lines = old.lines + [_line(r, minutes) for r in rows[len(old.lines) :]]
        else:
            lines = [_line(r, minutes) for r in rows]
        self._waiting = _Waiting(stamp, rows, services, minutes, lines)
        return lines

    def _waiting_rows_after(self, after_id: int) -> list[tuple[Any, ...]]:
        """The waiting tickets after ``after_id``, in id order: all of them through the waiting index,
        the newest few by id (``NOT INDEXED``: a range of row ids, not a walk of every waiting one)."""
        cur = self.store.db.cursor()
        cur.row_factory = None
        columns = "id, service, domain, priority, appointment_due, issued_at, target_window"
        if after_id <= 0:
            sql = f"SELECT {columns} FROM tickets WHERE hall=? AND state='waiting' AND id > ? ORDER BY id"
        else:
            sql = f"SELECT {columns} FROM tickets NOT INDEXED WHERE hall=? AND state='waiting' AND id > ? ORDER BY id"
        return cur.execute(sql, (self.hall, after_id)).fetchall()

    def forecast(self, windows: list[WindowState] | None = None) -> Forecast:
        """The hall's forecast now (see the module docstring). Computed once per state of the store,
        second and windows: the snapshots of every domain and the positions after one change share it.

        A long queue's newest normal tickets are added without a replay: a ticket appended to a line
        that already runs past the horizon starts when that line's fluid tail ends (exactly what a
        replay would give), so a busy hall does not pay for its whole queue on every ticket."""
        with self.store.lock:
            windows = windows if windows is not None else self.windows()
            now = self.now()
            base = (
                int(now),
                id(self.estimator),
                tuple(
                    (
                        w.number,
                        tuple(w.domains),
                        tuple(w.pending_domains or ()),
                        w.paused,
                        w.hours,
                        w.current and (w.current.id, w.current.called_at, w.current.started_at),
                    )
                    for w in windows
                ),
            )
            changes = self.store.db.total_changes
            cached: tuple[Any, int, int, Forecast] | None = getattr(self, "_forecast_cache", None)
            if cached is not None and cached[0] == base and cached[1] == changes:
                return cached[3]
            lines = self.waiting_lines()
            if cached is not None and cached[0] == base and self._lines_extended:
                fc = _appended(cached[3], lines, cached[2])
                if fc is not None:
                    self._forecast_cache = (base, changes, len(lines), fc)
                    return fc
            fc = forecast(lines, desks_of(windows, now, self.estimator))
            self._forecast_cache = (base, changes, len(lines), fc)
            return fc

    def expected_wait_minutes(self, domain: str, windows: list[WindowState] | None = None) -> float:
        """Minutes a ticket of ``domain`` taken now would wait (``inf``: no open window serves it)."""
        return self.forecast(windows).wait(domain)

    @locked
    def position(self, ticket: Ticket) -> tuple[int, float]:
        """(people waiting ahead in its domain, estimated minutes until it is called) for a waiting ticket."""
        if ticket.state != "waiting":
            return 0, 0.0
        ahead = self._ahead_normal(ticket) if _rank_key(ticket)[0] == 2 else self._ahead_by_rank(ticket)
        minutes = self.forecast().ticket_wait(ticket.id)
        return int(ahead), minutes if math.isinf(minutes) else round(minutes, 1)

    def _ahead_normal(self, ticket: Ticket) -> int:
        """Ahead of a normal ticket: everyone waiting in its domain but the normal tickets taken after it
        (two counts on the waiting index, however long the queue)."""
        after = self.store.db.execute(
            "SELECT COUNT(*) FROM tickets WHERE hall=? AND state='waiting' AND domain=? AND issued_at >= ? "
            "AND (issued_at > ? OR id > ?) AND appointment_due IS NULL AND priority = 'normal'",
            (self.hall, ticket.domain, ticket.issued_at, ticket.issued_at, ticket.id),
        ).fetchone()[0]
        return self.waiting_count(ticket.domain) - 1 - int(after)

    def _ahead_by_rank(self, ticket: Ticket) -> int:
        """Ahead of any ticket, by the calling order (appointments, green channel, issue time)."""
        rank = _rank_key(ticket)[0]
        return int(
            self.store.db.execute(
                f"SELECT COUNT(*) FROM tickets WHERE hall=? AND state='waiting' AND domain=? AND id != ? AND "
                f"({_RANK_SQL} < ? OR ({_RANK_SQL} = ? AND (issued_at < ? OR (issued_at = ? AND id < ?))))",
                (self.hall, ticket.domain, ticket.id, rank, rank, ticket.issued_at, ticket.issued_at, ticket.id),
            ).fetchone()[0]
        )

    @locked
    def waiting_count(self, domain: str) -> int:
        """Tickets waiting in ``domain`` (what a window's state shows beside its own ticket)."""
        row = self.store.db.execute(
            "SELECT COUNT(*) FROM tickets WHERE hall=? AND state='waiting' AND domain=?", (self.hall, domain)
        ).fetchone()
        return int(row[0])

    @locked
    def snapshot(self, domain: str, windows: list[WindowState] | None = None) -> dict[str, Any]:
        """The ``queue.snapshot`` state of one domain (hall_bus.contracts.queue)."""
        db = self.store.db
        windows = windows if windows is not None else self.windows()
        rows = db.execute(
            "SELECT COUNT(*), SUM(priority != 'normal'), MIN(issued_at) FROM tickets "
            "WHERE hall=? AND state='waiting' AND domain=?",
            (self.hall, domain),
        ).fetchone()
        serving = self.serving_windows(domain, windows)
        oldest = rows[2]
        nxt = [
            r[0]
            for r in db.execute(
                "SELECT code FROM tickets WHERE hall=? AND state='waiting' AND domain=? ORDER BY issued_at, id LIMIT 5",
                (self.hall, domain),
            )
        ]
        d = self.config.domain(domain)
        return {
            "domain": domain,
            "name": d.name,
            "name_en": d.name_en,
            "waiting": int(rows[0] or 0),
            "waiting_priority": int(rows[1] or 0),
            "windows_open": [w.number for w in serving],
            "estimated_wait_min": finite(self.forecast(windows).wait(domain)),
            "longest_wait_min": round((self.now() - oldest) / 60, 1) if oldest is not None else 0.0,
            "next": nxt,
        }
