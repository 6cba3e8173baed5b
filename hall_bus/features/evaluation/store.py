"""Evaluations and follow-ups in the controller's SQLite store.

One evaluation per ticket (一次一评): ``evaluations.ticket_id`` is the primary key. A row is created
``pending`` when the pad is asked, becomes ``rated`` on the first press (pad, kiosk or QR) or
``not_evaluated`` when the pad times out; a rated row never changes again, so a second press or a
duplicate bus delivery is ignored (and counted in the log).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from hall_bus.controller.store import Store
from hall_bus.errors import CodedError
from hall_bus.features.evaluation import followup
from hall_bus.features.evaluation.workdays import WorkCalendar

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE evaluations (
        ticket_id    INTEGER PRIMARY KEY,
        hall         TEXT NOT NULL,
        day          TEXT NOT NULL,
        code         TEXT NOT NULL,
        window       INTEGER,
        staff_no     TEXT,
        service      TEXT NOT NULL,
        domain       TEXT NOT NULL,
        status       TEXT NOT NULL,          -- pending | rated | not_evaluated
        channel      TEXT,                   -- pad | kiosk | qr
        level        INTEGER,                -- 1 非常满意 .. 5 非常不满意; NULL unless rated
        reason       TEXT,
        requested_at REAL,
        at           REAL
    );
    CREATE INDEX evaluations_day ON evaluations (hall, day);
    CREATE TABLE followups (
        id           INTEGER PRIMARY KEY,
        hall         TEXT NOT NULL,
        ticket_id    INTEGER NOT NULL UNIQUE REFERENCES evaluations(ticket_id),
        opened_at    REAL NOT NULL,
        visit_due    TEXT NOT NULL,          -- YYYY-MM-DD, end of that working day
        rectify_due  TEXT NOT NULL,
        state        TEXT NOT NULL,          -- open | visited | rectified | closed | appealed
        notes        TEXT NOT NULL DEFAULT '[]',
        updated_at   REAL NOT NULL
    );
    """,
]

TRANSITIONS = followup.TRANSITIONS


class EvaluationError(CodedError):
    """An evaluation or follow-up refused; ``code`` is the bus error code."""


@dataclass(frozen=True)
class Recorded:
    created: bool  # False: ignored (already rated, or not pending)
    row: dict[str, Any]


class EvaluationStore:
    def __init__(
        self,
        store: Store,
        hall: str,
        calendar: WorkCalendar,
        tz: dt.tzinfo | None,
        visit_days: int = 1,
        rectify_days: int = 15,
    ) -> None:
        self.store = store
        self.hall = hall
        self.calendar = calendar
        self.tz = tz
        self.visit_days, self.rectify_days = visit_days, rectify_days
        store.migrate_feature("evaluation", MIGRATIONS)
        self.ignored = 0

    def get(self, ticket_id: int) -> dict[str, Any] | None:
        with self.store.lock:
            row = self.store.db.execute("SELECT * FROM evaluations WHERE ticket_id=?", (ticket_id,)).fetchone()
        return dict(row) if row else None

    def request(self, ticket: dict[str, Any], window: int, staff_no: str | None, now: float) -> bool:
        """A pending row when the pad is asked; False if the ticket has a row already."""
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO evaluations (ticket_id, hall, day, code, window, staff_no, service, domain, status, "
                "requested_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    ticket["id"],
                    self.hall,
                    ticket["day"],
                    ticket["code"],
                    window,
                    staff_no,
                    ticket["service"],
                    ticket["domain"],
                    "pending",
                    now,
                ),
            )
            return cur.rowcount == 1

    def rate(
        self,
        ticket: dict[str, Any],
        window: int | None,
        staff_no: str | None,
        level: int,
        reason: str | None,
        channel: str,
        now: float,
    ) -> Recorded:
        if level in (4, 5) and not reason:
            raise EvaluationError("reason_required", "a 不满意 or 非常不满意 rating needs a reason")
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM evaluations WHERE ticket_id=?", (ticket["id"],)).fetchone()
            if row is not None and row["status"] == "rated":
                self.ignored += 1
                log.info("evaluation of %s by %s ignored: already rated by %s", ticket["code"], channel, row["channel"])
                return Recorded(False, dict(row))
            if row is None:
                db.execute(
                    "INSERT INTO evaluations (ticket_id, hall, day, code, window, staff_no, service, domain, status, channel, "
                    "level, reason, at) VALUES (?,?,?,?,?,?,?,?,'rated',?,?,?,?)",
                    (
                        ticket["id"],
                        self.hall,
                        ticket["day"],
                        ticket["code"],
                        window,
                        staff_no,
                        ticket["service"],
                        ticket["domain"],
                        channel,
                        level,
                        reason,
                        now,
                    ),
                )
            else:
                db.execute(
                    "UPDATE evaluations SET status='rated', channel=?, level=?, reason=?, at=? WHERE ticket_id=?",
                    (channel, level, reason, now, ticket["id"]),
                )
            if level in (4, 5):
                self._open_followup(db, ticket["id"], now)
            return Recorded(
                True, dict(db.execute("SELECT * FROM evaluations WHERE ticket_id=?", (ticket["id"],)).fetchone())
            )

    def stale_pending(self, asked_before: float) -> list[dict[str, Any]]:
        """Pending evaluations whose pad was asked before ``asked_before`` (and never reported)."""
        with self.store.lock:
            return [
                dict(r)
                for r in self.store.db.execute(
                    "SELECT * FROM evaluations WHERE hall=? AND status='pending' AND requested_at < ? ORDER BY ticket_id",
                    (self.hall, asked_before),
                )
            ]

    def timed_out(self, ticket_id: int, now: float) -> bool:
        with self.store.transaction() as db:
            cur = db.execute(
                "UPDATE evaluations SET status='not_evaluated', at=? WHERE ticket_id=? AND status='pending'",
                (now, ticket_id),
            )
            return cur.rowcount == 1

    # ------------------------------------------------------------------ follow-ups (差评整改)
    def _open_followup(self, db: sqlite3.Connection, ticket_id: int, now: float) -> None:
        day = dt.datetime.fromtimestamp(now, self.tz).date()
        visit, rectify = followup.deadlines(self.calendar, day, self.visit_days, self.rectify_days)
        db.execute(
            "INSERT OR IGNORE INTO followups (hall, ticket_id, opened_at, visit_due, rectify_due, state, updated_at) "
            "VALUES (?,?,?,?,?,'open',?)",
            (self.hall, ticket_id, now, visit.isoformat(), rectify.isoformat(), now),
        )

    def followups(self, state: str | None = None, overdue_on: dt.date | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT f.*, e.code, e.day, e.window, e.staff_no, e.service, e.domain, e.level, e.reason FROM followups f "
            "JOIN evaluations e ON e.ticket_id = f.ticket_id WHERE f.hall=?"
        )
        args: list[Any] = [self.hall]
        if state:
            sql += " AND f.state=?"
            args.append(state)
        with self.store.lock:
            rows = [dict(r) for r in self.store.db.execute(sql + " ORDER BY f.id", args)]
        for r in rows:
            r["notes"] = json.loads(r["notes"])
            r["overdue"] = self.overdue(r, overdue_on) if overdue_on else []
        if overdue_on:
            rows = [r for r in rows if r["overdue"]]
        return rows

    @staticmethod
    def overdue(row: dict[str, Any], today: dt.date) -> list[str]:
        """Which deadlines a follow-up has missed on ``today`` (a deadline day is still in time)."""
        return followup.overdue(row, today)

    def update_followup(self, fid: int, state: str, note: str, actor: str, now: float) -> dict[str, Any]:
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM followups WHERE id=? AND hall=?", (fid, self.hall)).fetchone()
            if row is None:
                raise EvaluationError("not_found", f"no follow-up {fid}")
            if state != row["state"] and not followup.can_move(row["state"], state):
                raise EvaluationError(
                    "invalid_transition",
                    f"a follow-up cannot go from {row['state']} to {state} "
                    f"(allowed: {', '.join(sorted(TRANSITIONS[row['state']])) or 'none'})",
                )
            notes = json.loads(row["notes"]) + [{"at": now, "actor": actor, "state": state, "note": note}]
            db.execute(
                "UPDATE followups SET state=?, notes=?, updated_at=? WHERE id=?",
                (state, json.dumps(notes, ensure_ascii=False), now, fid),
            )
        return next(f for f in self.followups() if f["id"] == fid)
