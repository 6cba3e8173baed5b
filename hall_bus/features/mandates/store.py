"""The mandates (委托单) and their history: feature migrations ``mandates`` and :class:`MandateStore`.

The order of states is :data:`MOVES`; :meth:`MandateStore.move` refuses anything else with a
specific code. Every write also appends an audit record (actor = ``<bus client>/<staff id>``) in the
same transaction, so a mandate never changes unaudited.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from hall_bus.controller.store import Store
from hall_bus.errors import CodedError

MIGRATIONS = [
    """
    CREATE TABLE mandates (
        hall            TEXT NOT NULL,
        mandate_no      TEXT NOT NULL,                -- DB-<yyyymmdd>-<nnnn>
        service         TEXT NOT NULL,
        identity_token  TEXT NOT NULL,                -- a salted hash; never a name or an ID number
        agent           TEXT NOT NULL,                -- the 代办员's staff_no
        materials       TEXT NOT NULL,                -- JSON list of the materials received
        promised_date   TEXT NOT NULL,                -- YYYY-MM-DD, the hall's local date
        state           TEXT NOT NULL,
        note            TEXT NOT NULL DEFAULT '',  -- the latest note given (an escalation's reason)
        created_at      REAL NOT NULL,
        updated_at      REAL NOT NULL,
        PRIMARY KEY (hall, mandate_no)
    );
    CREATE INDEX mandates_state ON mandates (hall, state);
    CREATE TABLE mandate_steps (
        id          INTEGER PRIMARY KEY,
        hall        TEXT NOT NULL,
        mandate_no  TEXT NOT NULL,
        state       TEXT NOT NULL,
        at          REAL NOT NULL,
        actor       TEXT NOT NULL,
        note        TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX mandate_steps_no ON mandate_steps (hall, mandate_no);
    """,
]

STATES = ("received", "processing", "escalated", "done", "returned")
STATE_ZH = {"received": "已受理", "processing": "办理中", "escalated": "已上报", "done": "已办结", "returned": "已退回"}
FINAL = ("done", "returned")
MOVES: dict[str, tuple[str, ...]] = {
    "received": ("processing", "returned"),
    "processing": ("done", "escalated", "returned"),
    "escalated": ("done", "returned"),
}
MAX_MATERIAL = 60


class MandateError(CodedError):
    """A mandate operation refused; ``code`` is the bus error code."""


def check_move(current: str, wanted: str, note: str) -> None:
    """Refuse a move out of order: ``mandate_closed``, ``mandate_order`` or ``escalation_note``."""
    if current in FINAL:
        raise MandateError("mandate_closed", f"the mandate is {current}; it moves no more")
    if wanted not in MOVES[current]:
        raise MandateError("mandate_order", f"a {current} mandate cannot become {wanted}")
    if wanted == "escalated" and not note.strip():
        raise MandateError("escalation_note", "an escalation needs a note saying to whom and why")


class MandateStore:
    def __init__(self, store: Store, hall: str) -> None:
        self.store, self.hall = store, hall
        store.migrate_feature("mandates", MIGRATIONS)

    def _audit(self, db: sqlite3.Connection, at: float, actor: str, action: str, no: str, detail: Any) -> None:
        db.execute(
            "INSERT INTO audit (hall, at, actor, action, target, detail) VALUES (?,?,?,?,?,?)",
            (self.hall, at, actor, action, f"mandate {no}", json.dumps(detail, ensure_ascii=False)),
        )

    def _step(self, db: sqlite3.Connection, no: str, state: str, at: float, actor: str, note: str) -> None:
        db.execute(
            "INSERT INTO mandate_steps (hall, mandate_no, state, at, actor, note) VALUES (?,?,?,?,?,?)",
            (self.hall, no, state, at, actor, note),
        )

    def create(self, fields: dict[str, Any], day: str, at: float, actor: str, note: str) -> str:
        """Record a mandate ``received``; its number (the day's next)."""
        materials = [m.strip() for m in fields["materials"]]
        if any(not m or len(m) > MAX_MATERIAL for m in materials):
            raise MandateError("invalid_request", f"each material is 1 to {MAX_MATERIAL} characters")
        with self.store.transaction() as db:
            prefix = f"DB-{day.replace('-', '')}-"
            last = db.execute(
                "SELECT MAX(mandate_no) FROM mandates WHERE hall=? AND mandate_no LIKE ?", (self.hall, prefix + "%")
            ).fetchone()[0]
            seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
            if seq > 9999:
                raise MandateError("internal", "no mandate number left today")
            no = f"{prefix}{seq:04d}"
            db.execute(
                "INSERT INTO mandates (hall, mandate_no, service, identity_token, agent, materials, promised_date,"
                " state, note, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    self.hall,
                    no,
                    fields["service"],
                    fields["identity_token"],
                    fields["agent"],
                    json.dumps(materials, ensure_ascii=False),
                    fields["promised_date"],
                    "received",
                    note,
                    at,
                    at,
                ),
            )
            self._step(db, no, "received", at, actor, note)
            detail = {k: fields[k] for k in ("service", "agent", "promised_date")} | {"materials": materials}
            self._audit(db, at, actor, "mandate.create", no, detail)
        return no

    def move(self, no: str, state: str, at: float, actor: str, note: str) -> None:
        with self.store.transaction() as db:
            row = db.execute("SELECT state FROM mandates WHERE hall=? AND mandate_no=?", (self.hall, no)).fetchone()
            if row is None:
                raise MandateError("not_found", f"no mandate {no}")
            check_move(row["state"], state, note)
            db.execute(
                "UPDATE mandates SET state=?, note=COALESCE(NULLIF(?, ''), note), updated_at=?"
                " WHERE hall=? AND mandate_no=?",
                (state, note, at, self.hall, no),
            )
            self._step(db, no, state, at, actor, note)
            self._audit(db, at, actor, "mandate.update", no, {"from": row["state"], "state": state, "note": note})

    def get(self, no: str) -> dict[str, Any] | None:
        found = self.rows("mandate_no=?", (no,))
        return found[0] if found else None

    def rows(self, where: str = "1", args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Mandates (newest first) with their steps; ``where`` is a fixed clause from this package."""
        with self.store.lock:
            rows = [
                dict(r)
                for r in self.store.db.execute(
                    f"SELECT * FROM mandates WHERE hall=? AND ({where}) ORDER BY created_at DESC, mandate_no DESC"
                    " LIMIT 5000",
                    (self.hall, *args),
                )
            ]
            steps: dict[str, list[dict[str, Any]]] = {}
            if rows:
                marks = ",".join("?" * len(rows))
                for s in self.store.db.execute(
                    f"SELECT * FROM mandate_steps WHERE hall=? AND mandate_no IN ({marks}) ORDER BY id",
                    (self.hall, *(r["mandate_no"] for r in rows)),
                ):
                    steps.setdefault(s["mandate_no"], []).append(
                        {"state": s["state"], "at": s["at"], "actor": s["actor"], "note": s["note"]}
                    )
        for r in rows:
            r["materials"] = json.loads(r["materials"])
            r["history"] = steps.get(r["mandate_no"], [])
        return rows
