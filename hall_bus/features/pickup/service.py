"""Deposit, pickup and return: the pickup state machine over the store, with one locker worker.

Every step is written to the store *before* the locker is asked, so a controller that dies at any
point resumes from the table on its next start:

==============  ===============  =====================================================================
state           phase            what happens next
==============  ===============  =====================================================================
depositing      opening          the worker fires the lock (pickup_id = ``open_op``, idempotent)
depositing      awaiting_close   staff puts the item in; door closed -> deposited, code, notification
deposited       ''               waits for the citizen (or the overdue list / return)
collecting      opening          the worker fires the lock for a verified kiosk session
collecting      awaiting_close   door closed -> collected (case collected); left open -> alarm event
returning       opening/await.   staff takes the item back; door closed -> returned (case returned)
==============  ===============  =====================================================================

A door that does not open is reported (audit, ``open_failed`` event, compartment marked faulty) and
the item stays where it was (deposited). An open whose outcome is unknown (bus or host down) stays
``opening`` until the locker host tells, by ``pickup_id``, whether it fired; if it never fired and
more than ``resume_open_s`` have passed, the open is abandoned (nobody is waiting at the door any
more) and the item returns to its previous state.

Request handlers run on the bus dispatch thread and only touch the store; the single locker worker
(:mod:`.worker`, owned by the service) does all locker I/O and door-driven transitions. Both take
``store.lock`` for every store access; rows, audit, events and codes are in :mod:`.records`.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from typing import Any

from hall_bus.features.pickup import security
from hall_bus.features.pickup.lockers import LockerPort
from hall_bus.features.pickup.notify import Notifier
from hall_bus.features.pickup.records import SIZE_ORDER, PickupError, PickupRecords, mask_case, op_id
from hall_bus.features.pickup.store import ACTIVE_STATES
from hall_bus.features.pickup.worker import LockerWorker

__all__ = ["PickupError", "PickupService", "mask_case"]


class PickupService:
    """The pickup steps over ``records`` (rows, audit, events, codes), with ``lockers`` reached through
    the service's one :class:`LockerWorker`."""

    def __init__(self, records: PickupRecords, lockers: LockerPort) -> None:
        self.r = records
        self.hall, self.hall_name, self.settings = records.hall, records.hall_name, records.settings
        self.store, self.cases, self.secret, self.clock = records.store, records.cases, records.secret, records.clock
        self.lockers = lockers
        self.compartments = records.compartments
        self.worker = LockerWorker(records, lockers)

    @property
    def notifier(self) -> Notifier:
        return self.r.notifier

    @notifier.setter
    def notifier(self, notifier: Notifier) -> None:
        self.r.notifier = notifier

    def view(self, row: sqlite3.Row, full_case: bool = False) -> dict[str, Any]:
        return self.r.view(row, full_case)

    # ================================================================== worker
    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()

    def door_event(self, device: str, board: int, lock: int, door_open: bool) -> None:
        """A locker host saw a door change (called from the bus dispatch thread)."""
        self.worker.door_event(device, board, lock, door_open)

    # ================================================================== deposit (staff)
    def deposit_start(
        self,
        case_no: str,
        size: str,
        actor: str,
        identity_token: str | None = None,
        item_name: str = "",
        window: int | None = None,
    ) -> dict[str, Any]:
        case_no = case_no.strip().upper()
        case = self.cases.row(case_no)
        if case is None:
            raise PickupError(
                "unknown_case",
                f"no case {case_no}; create it first (case.update) or load the demo (hallkit cases seed)",
            )
        if case["status"] in ("collected", "closed"):
            raise PickupError("case_closed", f"case {case_no} is {case['status']}")
        token = identity_token or case["identity_token"]
        if not token:
            raise PickupError("no_identity", f"case {case_no} has no identity token; give identity_token")
        now = self.clock()
        name = item_name or case["title"] or self.r.service_names.get(case["service"], case["service"])
        with self.store.transaction() as db:
            busy = {
                r["compartment"]
                for r in db.execute(
                    f"SELECT compartment FROM pickup_items WHERE state IN ({','.join('?' * len(ACTIVE_STATES))})",
                    ACTIVE_STATES,
                )
            }
            faulty = {r["compartment"] for r in db.execute("SELECT compartment FROM pickup_faults")}
            free = [
                c
                for c in self.compartments.values()
                if c.no not in busy and c.no not in faulty and SIZE_ORDER[c.size] >= SIZE_ORDER[size]
            ]
            if not free:
                raise PickupError("no_compartment", f"no free compartment of size {size} or larger")
            c = min(free, key=lambda x: (SIZE_ORDER[x.size], x.no))
            cur = db.execute(
                "INSERT INTO pickup_items (hall, case_no, item_name, identity_token, compartment, size, state, phase, open_op,"
                " open_asked_at, actor, window, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    self.hall,
                    case_no,
                    name,
                    token,
                    c.no,
                    c.size,
                    "depositing",
                    "opening",
                    op_id(),
                    now,
                    actor,
                    window,
                    now,
                    now,
                ),
            )
            item_id = cur.lastrowid
            assert item_id is not None
            self.r.audit(db, actor, "open_requested", c.no, item_id, "deposit", case_no=case_no, window=window)
            self.worker.submit(item_id)  # in the transaction: the worker never sees it opening without its job
        return {"item": self.view(self.r.item(item_id))}

    def deposit_confirm(self, item_id: int, actor: str) -> dict[str, Any]:
        row = self.r.item(item_id)
        if row["state"] == "depositing" and row["phase"] == "awaiting_close":
            self.worker.look(item_id)  # a closed door is seen within one worker turn
        c = self.compartments.get(row["compartment"])
        slip = {
            "hall_name": self.hall_name,
            "case_no": row["case_no"],
            "item_name": row["item_name"],
            "compartment": row["compartment"],
            "position": c.position if c else "",
            "deposited_at": row["deposited_at"],
        }
        return {"item": self.view(row, full_case=True), "slip": slip}

    # ================================================================== pickup (citizen at a kiosk)
    def _locked(self, scope: str, key: str, now: float) -> float:
        rows = self.r.q("SELECT locked_until FROM pickup_attempts WHERE scope=? AND key=?", (scope, key))
        return rows[0]["locked_until"] - now if rows and rows[0]["locked_until"] > now else 0.0

    def _fail(self, keys: list[tuple[str, str]], now: float) -> int:
        """Count one failure for each (scope, key); lock a key at max_failures. Returns attempts left (min over keys)."""
        s = self.settings
        left = s.max_failures
        with self.store.transaction() as db:
            for scope, key in keys:
                row = db.execute("SELECT * FROM pickup_attempts WHERE scope=? AND key=?", (scope, key)).fetchone()
                failures, first = (
                    (0, now)
                    if row is None or now - row["first_at"] > s.attempt_window_s
                    else (row["failures"], row["first_at"])
                )
                failures += 1
                locked = now + s.lockout_s if failures >= s.max_failures else 0.0
                db.execute(
                    "INSERT OR REPLACE INTO pickup_attempts (scope, key, failures, first_at, locked_until) VALUES (?,?,?,?,?)",
                    (scope, key, 0 if locked else failures, now if locked else first, locked),
                )
                left = min(left, 0 if locked else s.max_failures - failures)
                if locked:
                    self.r.audit(
                        db,
                        scope + ":" + (key if scope == "kiosk" else key[:8]),
                        "locked_out",
                        "",
                        None,
                        "too many wrong codes",
                        lockout_s=s.lockout_s,
                    )
        return left

    def identify(
        self, kiosk: str, method: str, token: str | None = None, code: str | None = None, qr: str | None = None
    ) -> dict[str, Any]:
        now = self.clock()
        wait = self._locked("kiosk", kiosk, now) if method != "card" else 0.0  # an ID card cannot be guessed
        if wait:
            raise PickupError("locked_out", f"too many wrong attempts at {kiosk}; try again in {int(wait) + 1} s")
        if method == "card":
            if not token:
                raise PickupError(
                    "invalid_request", "method card needs token (the identity token read from the ID card)"
                )
            rows = self.r.q(
                "SELECT * FROM pickup_items WHERE hall=? AND identity_token=? AND state='deposited' ORDER BY id",
                (self.hall, token),
            )
            if not rows:
                raise PickupError("not_found", "no items waiting for this ID card")
        elif method == "code":
            if not code:
                raise PickupError("invalid_request", "method code needs code")
            h = security.code_hash(self.secret, code)
            wait = self._locked("code", h, now)
            if wait:
                raise PickupError(
                    "locked_out", f"this code is locked after repeated failures; try again in {int(wait) + 1} s"
                )
            rows = self.r.q(
                "SELECT * FROM pickup_items WHERE hall=? AND code_hash=? AND state='deposited'", (self.hall, h)
            )
            if not rows:
                left = self._fail([("kiosk", kiosk), ("code", h)], now)
                if left <= 0:
                    raise PickupError(
                        "locked_out",
                        f"wrong code; locked for {int(self.settings.lockout_s)} s after "
                        f"{self.settings.max_failures} failures",
                    )
                raise PickupError("wrong_code", f"wrong or used pickup code; {left} attempt(s) left")
        elif method == "qr":
            if not qr:
                raise PickupError("invalid_request", "method qr needs qr (the scanned text)")
            try:
                item_id, nonce = security.verify_qr(self.secret, self.hall, qr, now)
            except security.QrExpired as exc:
                raise PickupError("qr_expired", str(exc)) from None
            except security.QrInvalid as exc:
                left = self._fail([("kiosk", kiosk)], now)
                raise PickupError(
                    "locked_out" if left <= 0 else "invalid_qr", f"{exc}; {left} attempt(s) left"
                ) from None
            rows = self.r.q(
                "SELECT * FROM pickup_items WHERE id=? AND hall=? AND qr_nonce=? AND state='deposited'",
                (item_id, self.hall, nonce),
            )
            if not rows:
                raise PickupError("not_found", "this QR code has been used or the item was returned to the window")
        else:
            raise PickupError("invalid_request", f"unknown method {method!r}")
        session_id = secrets.token_hex(8)
        ids = [r["id"] for r in rows]
        with self.store.transaction() as db:
            db.execute("DELETE FROM pickup_sessions WHERE expires_at < ?", (now - 86400,))
            db.execute(
                "INSERT INTO pickup_sessions (id, kiosk, method, item_ids, created_at, expires_at) VALUES (?,?,?,?,?,?)",
                (session_id, kiosk, method, json.dumps(ids), now, now + self.settings.session_ttl_s),
            )
        return self.session_view(session_id)

    def _session(self, session_id: str) -> sqlite3.Row:
        rows = self.r.q("SELECT * FROM pickup_sessions WHERE id=?", (session_id,))
        if not rows:
            raise PickupError("no_session", "unknown pickup session; identify again")
        return rows[0]

    def session_view(self, session_id: str) -> dict[str, Any]:
        s = self._session(session_id)
        items = []
        for item_id in json.loads(s["item_ids"]):
            row = self.r.item(item_id)
            items.append(self.view(row, full_case=row["state"] == "collected"))
        return {
            "session_id": s["id"],
            "kiosk": s["kiosk"],
            "method": s["method"],
            "expires_at": s["expires_at"],
            "items": items,
        }

    def open(self, kiosk: str, session_id: str, item_ids: list[int]) -> dict[str, Any]:
        now = self.clock()
        s = self._session(session_id)
        if s["kiosk"] != kiosk:
            raise PickupError("forbidden", "this session belongs to another kiosk")
        if s["expires_at"] < now:
            raise PickupError("session_expired", "the pickup session has expired; identify again")
        allowed = set(json.loads(s["item_ids"]))
        wrong = [i for i in item_ids if i not in allowed]
        if wrong:
            raise PickupError("forbidden", f"item(s) {wrong} are not part of this session")
        with self.store.transaction() as db:
            rows = [
                db.execute("SELECT * FROM pickup_items WHERE id=?", (i,)).fetchone() for i in dict.fromkeys(item_ids)
            ]
            for row in rows:
                if row["state"] != "deposited":
                    raise PickupError("not_available", f"item {row['id']} is {row['state']}, not waiting in a locker")
            db.execute(
                "UPDATE pickup_sessions SET expires_at=? WHERE id=?", (now + self.settings.session_ttl_s, session_id)
            )
            for row in rows:
                db.execute(
                    "UPDATE pickup_items SET state='collecting', phase='opening', open_op=?, open_asked_at=?,"
                    " door_opened_at=NULL, alarm_sent=0, session_id=?, actor=?, last_error='', updated_at=? WHERE id=?",
                    (op_id(), now, session_id, f"{kiosk}/{s['method']}", now, row["id"]),
                )
                self.r.audit(
                    db,
                    f"{kiosk}/{s['method']}",
                    "open_requested",
                    row["compartment"],
                    row["id"],
                    "pickup",
                    session=session_id,
                )
                self.worker.submit(row["id"])
        return self.session_view(session_id)

    def status(self, session_id: str | None = None, item_id: int | None = None, staff: bool = False) -> dict[str, Any]:
        if session_id:
            v = self.session_view(session_id)
            return {"session": {k: v[k] for k in ("session_id", "kiosk", "method", "expires_at")}, "items": v["items"]}
        if item_id:
            return {"session": None, "items": [self.view(self.r.item(item_id), full_case=staff)]}
        raise PickupError("invalid_request", "give session_id or item_id")

    # ================================================================== manager views, return
    def list_items(self, states: list[str] | None = None, limit: int = 200) -> dict[str, Any]:
        states = states or list(ACTIVE_STATES)
        rows = self.r.q(
            f"SELECT * FROM pickup_items WHERE hall=? AND state IN ({','.join('?' * len(states))}) ORDER BY id DESC LIMIT ?",
            (self.hall, *states, limit),
        )
        faults = self.r.q("SELECT compartment, reason, at FROM pickup_faults ORDER BY compartment")
        busy = {
            r["compartment"]
            for r in self.r.q(
                f"SELECT compartment FROM pickup_items WHERE state IN ({','.join('?' * len(ACTIVE_STATES))})",
                ACTIVE_STATES,
            )
        }
        bad = {f["compartment"] for f in faults}
        free = {
            size: sum(1 for c in self.compartments.values() if c.size == size and c.no not in busy and c.no not in bad)
            for size in SIZE_ORDER
        }
        return {
            "items": [self.view(r, full_case=True) for r in rows],
            "faults": [dict(f) for f in faults],
            "free": free,
        }

    def overdue(self, days: float | None = None) -> dict[str, Any]:
        days = self.settings.overdue_days if days is None else days
        cutoff = self.clock() - days * 86400
        rows = self.r.q(
            "SELECT * FROM pickup_items WHERE hall=? AND state='deposited' AND deposited_at < ? ORDER BY deposited_at",
            (self.hall, cutoff),
        )
        return {"days": float(days), "items": [self.view(r, full_case=True) for r in rows]}

    def return_item(self, item_id: int, actor: str, reason: str = "") -> dict[str, Any]:
        now = self.clock()
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM pickup_items WHERE id=? AND hall=?", (item_id, self.hall)).fetchone()
            if row is None:
                raise PickupError("not_found", f"no pickup item {item_id}")
            if row["state"] != "deposited":
                raise PickupError(
                    "not_available", f"item {item_id} is {row['state']}; only a deposited item can be returned"
                )
            db.execute(
                "UPDATE pickup_items SET state='returning', phase='opening', open_op=?, open_asked_at=?, door_opened_at=NULL,"
                " alarm_sent=0, actor=?, last_error='', updated_at=? WHERE id=?",
                (op_id(), now, actor, now, item_id),
            )
            self.r.audit(db, actor, "open_requested", row["compartment"], item_id, "return", note=reason)
            self.worker.submit(item_id)
        return {"item": self.view(self.r.item(item_id), full_case=True)}

    def clear_fault(self, compartment: str, actor: str) -> bool:
        with self.store.transaction() as db:
            n = db.execute("DELETE FROM pickup_faults WHERE compartment=?", (compartment,)).rowcount
            if n:
                self.r.audit(db, actor, "fault_cleared", compartment, None, "repaired")
        return bool(n)

    def audit(self, limit: int = 100) -> list[dict[str, Any]]:
        return [dict(r) for r in self.r.q("SELECT * FROM pickup_audit ORDER BY id DESC LIMIT ?", (limit,))]

    def renotify(self, item_id: int, actor: str) -> dict[str, Any]:
        """Send the citizen a new code and QR (the plaintext code is never kept, so it cannot be re-sent)."""
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM pickup_items WHERE id=? AND hall=?", (item_id, self.hall)).fetchone()
            if row is None:
                raise PickupError("not_found", f"no pickup item {item_id}")
            if row["state"] != "deposited":
                raise PickupError("not_available", f"item {item_id} is {row['state']}, not waiting in a locker")
            n = self.r.new_code(db, item_id)
            self.r.audit(db, actor, "renotify", row["compartment"], item_id, "new code and QR")
        sent = self.r.send(n)
        return {"item": self.view(self.r.item(item_id), full_case=True), "notified": sent}
