"""Waits, positions and queue snapshots: how long the work ahead takes the windows serving a domain.

The work ahead is the waiting tickets' expected handling minutes (from the engine's
``HandlingTimeEstimator``), divided by the open windows serving the domain: a simple fluid estimate.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from hall_bus.queue.base import EngineBase, locked
from hall_bus.queue.models import _RANK_SQL, Ticket, WindowState, _rank_key


class Estimates(EngineBase):
    def _work_minutes(self, rows: Sequence[sqlite3.Row]) -> tuple[int, float]:
        """(tickets, expected minutes of work) of ``(service, count, ...)`` rows."""
        count = sum(int(r[1]) for r in rows)
        return count, sum(r[1] * self.estimator.expected_minutes(r[0]) for r in rows)

    def _fluid_wait(self, work: float, count: int, windows: int) -> float:
        """Work ahead divided by the windows serving the domain (a simple fluid estimate)."""
        if windows == 0:
            return float("inf") if count else 0.0
        return work / windows

    @locked
    def expected_wait_minutes(self, domain: str, windows: list[WindowState] | None = None) -> float:
        rows = self.store.db.execute(
            "SELECT service, COUNT(*) FROM tickets WHERE hall=? AND state='waiting' AND domain=? GROUP BY service",
            (self.hall, domain),
        ).fetchall()
        count, work = self._work_minutes(rows)
        return self._fluid_wait(work, count, len(self.serving_windows(domain, windows)))

    @locked
    def position(self, ticket: Ticket) -> tuple[int, float]:
        """(people waiting ahead, estimated minutes) for a waiting ticket in its domain.

        An estimate by class (due appointments, then green channel, then normal) and issue time;
        the streak rule lets normal tickets in a little sooner than this says.
        """
        if ticket.state != "waiting":
            return 0, 0.0
        rank = _rank_key(ticket)[0]
        rows = self.store.db.execute(
            f"SELECT service, COUNT(*) FROM tickets WHERE hall=? AND state='waiting' AND domain=? AND id != ? AND "
            f"({_RANK_SQL} < ? OR ({_RANK_SQL} = ? AND (issued_at < ? OR (issued_at = ? AND id < ?)))) GROUP BY service",
            (self.hall, ticket.domain, ticket.id, rank, rank, ticket.issued_at, ticket.issued_at, ticket.id),
        ).fetchall()
        count, work = self._work_minutes(rows)
        minutes = self._fluid_wait(work, count, len(self.serving_windows(ticket.domain)))
        return count, round(minutes, 1)

    @locked
    def snapshot(self, domain: str, windows: list[WindowState] | None = None) -> dict[str, Any]:
        """The ``queue.snapshot`` state of one domain (hall_bus.contracts.queue)."""
        db = self.store.db
        rows = db.execute(
            "SELECT service, COUNT(*), SUM(priority != 'normal'), MIN(issued_at) FROM tickets "
            "WHERE hall=? AND state='waiting' AND domain=? GROUP BY service",
            (self.hall, domain),
        ).fetchall()
        count, work = self._work_minutes(rows)
        serving = self.serving_windows(domain, windows)
        est = self._fluid_wait(work, count, len(serving))
        oldest = min((r[3] for r in rows), default=None)
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
            "waiting": count,
            "waiting_priority": int(sum(r[2] for r in rows)),
            "windows_open": [w.number for w in serving],
            "estimated_wait_min": None if est == float("inf") else round(est, 1),
            "longest_wait_min": round((self.now() - oldest) / 60, 1) if oldest is not None else 0.0,
            "next": nxt,
        }
