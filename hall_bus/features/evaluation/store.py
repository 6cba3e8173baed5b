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
    # 2: the follow-up workflow (assign, return visit with its result, rectification, close) and its list
    """
    ALTER TABLE followups ADD COLUMN assignee TEXT;      -- staff_no of [[staff]]
    ALTER TABLE followups ADD COLUMN visit_result TEXT;  -- satisfied | basically_satisfied | dissatisfied | unreachable
    ALTER TABLE followups ADD COLUMN visited_at REAL;
    ALTER TABLE followups ADD COLUMN rectified_at REAL;
    ALTER TABLE followups ADD COLUMN closed_at REAL;
    CREATE INDEX followups_state ON followups (hall, state);
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

    def followups(
        self,
        state: str | None = None,
        overdue_on: dt.date | None = None,
        *,
        from_day: str | None = None,
        to_day: str | None = None,
        assignee: str | None = None,
        limit: int = -1,
        fid: int | None = None,
        before_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Follow-ups, newest first (bad reviews of tickets of ``from_day`` .. ``to_day``; only those
        overdue on ``overdue_on`` when given). ``history`` is who did what when; ``real_name`` says the
        ticket was taken with an identity (实名)."""
        where, args = self._where(from_day, to_day, overdue_on)
        if state:
            where += " AND f.state = :state"
            args["state"] = state
        if assignee:
            where += " AND f.assignee = :assignee"
            args["assignee"] = assignee
        if fid is not None:
            where += " AND f.id = :fid"
            args["fid"] = fid
        if before_id is not None:
            where += " AND f.id < :before_id"
            args["before_id"] = before_id
        sql = (
            "SELECT f.*, e.code, e.day, e.window, e.staff_no, e.service, e.domain, e.level, e.reason, "
            "t.identity_token IS NOT NULL AS real_name FROM followups f "
            "JOIN evaluations e ON e.ticket_id = f.ticket_id LEFT JOIN tickets t ON t.id = f.ticket_id "
            f"WHERE {where} ORDER BY f.id DESC LIMIT :limit"
        )
        with self.store.lock:
            rows = [dict(r) for r in self.store.db.execute(sql, {**args, "limit": limit})]
        for r in rows:
            r["history"] = [{"action": "update", **n} for n in json.loads(r.pop("notes"))]
            r["real_name"] = bool(r["real_name"])
            r["overdue"] = self.overdue(r, overdue_on) if overdue_on else []
        return rows

    def _where(
        self, from_day: str | None, to_day: str | None, overdue_on: dt.date | None
    ) -> tuple[str, dict[str, Any]]:
        where, args = "f.hall = :hall", {"hall": self.hall}
        if from_day:
            where += " AND e.day >= :from_day"
            args["from_day"] = from_day
        if to_day:
            where += " AND e.day <= :to_day"
            args["to_day"] = to_day
        if overdue_on:
            where += f" AND {followup.OVERDUE_SQL}"
            args["today"] = overdue_on.isoformat()
        return where, args

    def followup(self, fid: int) -> dict[str, Any]:
        rows = self.followups(fid=fid)
        if not rows:
            raise EvaluationError("not_found", f"no follow-up {fid}")
        return rows[0]

    def summary(self, today: dt.date, from_day: str | None = None, to_day: str | None = None) -> dict[str, Any]:
        """Counts over the follow-ups of the range: open (not closed), overdue on ``today``, closed, and
        the real-name (实名) bad reviews closed, which must reach 100%."""
        where, args = self._where(from_day, to_day, None)
        sql = (
            "SELECT COUNT(*) AS total, COALESCE(SUM(f.state = 'closed'), 0) AS closed, "
            f"COALESCE(SUM({followup.OVERDUE_SQL}), 0) AS overdue, "
            "COALESCE(SUM(t.identity_token IS NOT NULL), 0) AS real_name, "
            "COALESCE(SUM(t.identity_token IS NOT NULL AND f.state = 'closed'), 0) AS real_name_closed "
            "FROM followups f JOIN evaluations e ON e.ticket_id = f.ticket_id LEFT JOIN tickets t ON t.id = f.ticket_id "
            f"WHERE {where}"
        )
        with self.store.lock:
            row = dict(self.store.db.execute(sql, {**args, "today": today.isoformat()}).fetchone())
        row["open"] = row["total"] - row["closed"]
        row["real_name_closed_rate"] = (
            round(row["real_name_closed"] / row["real_name"], 4) if row["real_name"] else None
        )
        return row

    @staticmethod
    def overdue(row: dict[str, Any], today: dt.date) -> list[str]:
        """Which deadlines a follow-up has missed on ``today`` (a deadline day is still in time)."""
        return followup.overdue(row, today)

    def update_followup(self, fid: int, state: str, note: str, actor: str, now: float) -> dict[str, Any]:
        """The CLI's generic move along the transitions (``invalid_transition`` otherwise)."""
        with self.store.transaction() as db:
            row = self._locked(db, fid)
            if state != row["state"] and not followup.can_move(row["state"], state):
                raise EvaluationError(
                    "invalid_transition",
                    f"a follow-up cannot go from {row['state']} to {state} "
                    f"(allowed: {', '.join(sorted(TRANSITIONS[row['state']])) or 'none'})",
                )
            self._write(db, row, state, {"at": now, "actor": actor, "action": "update", "state": state, "note": note})
        return self.followup(fid)

    def step(
        self,
        fid: int,
        step: str,
        actor: str,
        now: float,
        note: str = "",
        assignee: str | None = None,
        result: str | None = None,
    ) -> dict[str, Any]:
        """One step of the workflow (:data:`followup.STEPS`), refused out of order with its own code."""
        with self.store.transaction() as db:
            row = self._locked(db, fid)
            refused = followup.refusal(row["state"], step)
            if refused:
                raise refused
            state = followup.next_state(row["state"], step, result)
            entry: dict[str, Any] = {"at": now, "actor": actor, "action": step, "state": state, "note": note}
            changes: dict[str, Any] = {}
            if step == "assign":
                entry["assignee"] = changes["assignee"] = assignee
            if step == "visit":
                entry["result"] = changes["visit_result"] = result
            self._write(db, row, state, entry, changes)
        return self.followup(fid)

    def _locked(self, db: sqlite3.Connection, fid: int) -> sqlite3.Row:
        row: sqlite3.Row | None = db.execute(
            "SELECT * FROM followups WHERE id=? AND hall=?", (fid, self.hall)
        ).fetchone()
        if row is None:
            raise EvaluationError("not_found", f"no follow-up {fid}")
        return row

    @staticmethod
    def _write(
        db: sqlite3.Connection,
        row: sqlite3.Row,
        state: str,
        entry: dict[str, Any],
        changes: dict[str, Any] | None = None,
    ) -> None:
        """Record ``entry`` in the history and set the new state (and the time it was first reached)."""
        changes = dict(changes or {})
        stamp = {"visited": "visited_at", "rectified": "rectified_at", "closed": "closed_at"}.get(state)
        if stamp and state != row["state"]:
            changes[stamp] = entry["at"]
        notes = json.loads(row["notes"]) + [entry]
        changes.update(state=state, notes=json.dumps(notes, ensure_ascii=False), updated_at=entry["at"])
        cols = ", ".join(f"{c}=?" for c in changes)  # column names from this module only
        db.execute(f"UPDATE followups SET {cols} WHERE id=?", (*changes.values(), row["id"]))
