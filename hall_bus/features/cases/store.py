"""The case table and its steps (feature migrations ``cases``)."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hall_bus.controller.store import Store
from hall_bus.errors import CodedError
from hall_bus.vocabulary import TOKEN_PATTERN

STATUSES = ("received", "processing", "ready", "deposited", "collected", "returned", "closed")
STATUS_ZH = {
    "received": "已受理",
    "processing": "办理中",
    "ready": "已办结待领取",
    "deposited": "已入柜待取件",
    "collected": "已领取",
    "returned": "已退回窗口",
    "closed": "已办结",
}
CASE_NO = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}$")
TOKEN = re.compile(f"^{TOKEN_PATTERN}$")

MIGRATIONS = [
    """
    CREATE TABLE cases (
        case_no         TEXT PRIMARY KEY,
        hall            TEXT NOT NULL,
        service         TEXT NOT NULL,
        title           TEXT NOT NULL DEFAULT '',
        identity_token  TEXT,                        -- salted HMAC-SHA256 of the ID number, never the number
        status          TEXT NOT NULL,
        created_at      REAL NOT NULL,
        updated_at      REAL NOT NULL
    );
    CREATE INDEX cases_identity ON cases (identity_token);
    CREATE TABLE case_steps (
        id       INTEGER PRIMARY KEY,
        case_no  TEXT NOT NULL REFERENCES cases (case_no),
        status   TEXT NOT NULL,
        at       REAL NOT NULL,
        actor    TEXT NOT NULL,
        note     TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX case_steps_case ON case_steps (case_no, at);
    """,
    # 办件进度推送: the outbox of messages to citizens (written in the transaction of the case change,
    # sent by hall_bus.features.cases.notify_outbox) and the wrong verification codes per case.
    """
    CREATE TABLE case_messages (
        id               INTEGER PRIMARY KEY,
        case_no          TEXT NOT NULL,
        step_id          INTEGER NOT NULL,
        status           TEXT NOT NULL,
        recipient        TEXT NOT NULL,              -- the case's identity token; resolved by the gateway
        text             TEXT NOT NULL,
        idempotency_key  TEXT NOT NULL UNIQUE,
        state            TEXT NOT NULL DEFAULT 'pending',   -- pending | sent | failed
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_at          REAL NOT NULL,
        created_at       REAL NOT NULL,
        sent_at          REAL,
        last_error       TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX case_messages_due ON case_messages (state, next_at);
    CREATE TABLE case_code_failures (
        case_no       TEXT PRIMARY KEY,
        failures      INTEGER NOT NULL,
        first_at      REAL NOT NULL,
        locked_until  REAL NOT NULL DEFAULT 0
    );
    """,
]


class CaseError(CodedError):
    """A case operation refused; ``code`` is the bus error code."""


@dataclass(frozen=True)
class CaseStep:
    """One status change, as the listeners of :class:`CaseStore` see it (no identity token here)."""

    case_no: str
    step_id: int
    service: str
    title: str
    status: str
    at: float


OnStep = Callable[[sqlite3.Connection, CaseStep, str | None], object]  # (db, step, identity token) in the transaction
OnChange = Callable[[CaseStep], None]  # after the change (held until commit inside an atomic bus operation)


class CaseStore:
    def __init__(
        self,
        store: Store,
        hall: str,
        clock: Callable[[], float] = time.time,
        service_names: dict[str, str] | None = None,
        on_step: OnStep | None = None,
        on_change: OnChange | None = None,
    ) -> None:
        self.store, self.hall, self.clock = store, hall, clock
        self.service_names = service_names or {}
        self.on_step, self.on_change = on_step, on_change
        store.migrate_feature("cases", MIGRATIONS)

    # ------------------------------------------------------------------ writes
    def upsert(
        self,
        case_no: str,
        status: str,
        actor: str,
        service: str | None = None,
        identity_token: str | None = None,
        title: str = "",
        note: str = "",
    ) -> dict[str, Any]:
        """Create a case (service required) or move it to ``status``; every change is a step."""
        case_no = case_no.strip().upper()
        if not CASE_NO.match(case_no):
            raise CaseError("invalid_request", f"case number {case_no!r}: 4-32 of A-Z, 0-9 and '-'")
        if status not in STATUSES:
            raise CaseError("invalid_request", f"case status {status!r} is not one of {', '.join(STATUSES)}")
        if identity_token is not None and not TOKEN.match(identity_token):
            raise CaseError("invalid_request", "identity_token must be the 64-hex salted token, never an ID number")
        now = self.clock()
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM cases WHERE case_no=?", (case_no,)).fetchone()
            if row is None:
                if not service:
                    raise CaseError("not_found", f"no case {case_no}; give its service to create it")
                db.execute(
                    "INSERT INTO cases (case_no, hall, service, title, identity_token, status, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,?)",
                    (case_no, self.hall, service, title, identity_token, status, now, now),
                )
            else:
                db.execute(
                    "UPDATE cases SET status=?, updated_at=?, identity_token=COALESCE(?, identity_token),"
                    " title=CASE WHEN ?='' THEN title ELSE ? END WHERE case_no=?",
                    (status, now, identity_token, title, title, case_no),
                )
            cur = db.execute(
                "INSERT INTO case_steps (case_no, status, at, actor, note) VALUES (?,?,?,?,?)",
                (case_no, status, now, actor, note),
            )
            case = db.execute("SELECT service, title, identity_token FROM cases WHERE case_no=?", (case_no,)).fetchone()
            step = CaseStep(case_no, int(cur.lastrowid or 0), case["service"], case["title"], status, now)
            if self.on_step is not None:
                self.on_step(db, step, case["identity_token"])
        if self.on_change is not None:
            self.on_change(step)
        return self.public(case_no)

    # ------------------------------------------------------------------ reads
    def row(self, case_no: str) -> Any:
        with self.store.lock:
            return self.store.db.execute("SELECT * FROM cases WHERE case_no=?", (case_no.strip().upper(),)).fetchone()

    def public(self, case_no: str) -> dict[str, Any]:
        """Progress of one case without personal data (no identity token)."""
        with self.store.lock:
            row = self.store.db.execute("SELECT * FROM cases WHERE case_no=?", (case_no.strip().upper(),)).fetchone()
            if row is None:
                raise CaseError("not_found", f"no case {case_no}")
            steps = self.store.db.execute(
                "SELECT status, at FROM case_steps WHERE case_no=? ORDER BY at, id", (row["case_no"],)
            ).fetchall()
        return {
            "case_no": row["case_no"],
            "service": row["service"],
            "service_name": self.service_names.get(row["service"], row["service"]),
            "title": row["title"] or self.service_names.get(row["service"], row["service"]),
            "status": row["status"],
            "status_zh": STATUS_ZH[row["status"]],
            "detail": "请到24小时自助取件柜取件 / collect it from the 24-hour locker"
            if row["status"] == "deposited"
            else "",
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "steps": [{"status": s["status"], "at": s["at"]} for s in steps],
        }

    def lookup(self, case_no: str | None = None, identity_token: str | None = None) -> list[dict[str, Any]]:
        if case_no:
            return [self.public(case_no)]
        if identity_token:
            with self.store.lock:
                rows = self.store.db.execute(
                    "SELECT case_no FROM cases WHERE identity_token=? ORDER BY updated_at DESC LIMIT 20",
                    (identity_token,),
                ).fetchall()
            return [self.public(r["case_no"]) for r in rows]
        raise CaseError("invalid_request", "give case_no or identity_token")
