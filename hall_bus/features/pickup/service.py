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

Request handlers run on the bus dispatch thread and only touch the store; the single worker thread
does all locker I/O and door-driven transitions. Both take ``store.lock`` for every store access.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from hall_bus.controller.store import Store
from hall_bus.errors import CodedError
from hall_bus.features.cases import CaseStore
from hall_bus.features.pickup import security
from hall_bus.features.pickup.config import Compartment, PickupSettings
from hall_bus.features.pickup.lockers import LockerFailed, LockerPort, LockerUnknown
from hall_bus.features.pickup.notify import LoggingNotifier, Notification, Notifier
from hall_bus.features.pickup.store import ACTIVE_STATES, MIGRATIONS

log = logging.getLogger(__name__)

SIZE_ORDER = {"S": 0, "M": 1, "L": 2}
REASON = {"depositing": "deposit", "collecting": "pickup", "returning": "return"}
TX_KEEP_S = 3600.0  # used transaction ids are kept this long past their expiry


class PickupError(CodedError):
    """A pickup step refused; ``code`` is the bus error code."""


def mask_case(case_no: str) -> str:
    return case_no[:4] + "*" * max(1, len(case_no) - 7) + case_no[-3:] if len(case_no) > 7 else case_no[:2] + "**"


class PickupService:
    def __init__(
        self,
        hall: str,
        hall_name: str,
        settings: PickupSettings,
        store: Store,
        cases: CaseStore,
        lockers: LockerPort,
        secret: bytes,
        publish: Callable[[dict], None] = lambda e: None,
        notifier: Notifier | None = None,
        clock: Callable[[], float] = time.time,
        service_names: dict[str, str] | None = None,
    ) -> None:
        self.hall, self.hall_name, self.settings = hall, hall_name, settings
        self.store, self.cases, self.lockers, self.secret = store, cases, lockers, secret
        self.publish, self.clock = publish, clock
        self.notifier: Notifier = notifier or LoggingNotifier()
        self.service_names = service_names or {}
        self.compartments = {c.no: c for c in settings.compartments}
        store.migrate_feature("pickup", MIGRATIONS)
        self._jobs: queue.Queue = queue.Queue()
        self._queued: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_poll = 0.0

    # ================================================================== helpers
    def _q(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self.store.lock:
            return self.store.db.execute(sql, args).fetchall()

    def _item(self, item_id: int) -> sqlite3.Row:
        rows = self._q("SELECT * FROM pickup_items WHERE id=? AND hall=?", (item_id, self.hall))
        if not rows:
            raise PickupError("not_found", f"no pickup item {item_id}")
        return rows[0]

    def _audit(
        self,
        db: sqlite3.Connection,
        actor: str,
        action: str,
        compartment: str,
        item_id: int | None,
        reason: str,
        **detail: Any,
    ) -> None:
        db.execute(
            "INSERT INTO pickup_audit (at, actor, action, compartment, item_id, reason, detail) VALUES (?,?,?,?,?,?,?)",
            (self.clock(), actor, action, compartment, item_id, reason, json.dumps(detail, ensure_ascii=False)),
        )

    def _event(self, action: str, row: sqlite3.Row, **extra: Any) -> None:
        c = self.compartments.get(row["compartment"])
        data = {
            "action": action,
            "item_id": row["id"],
            "compartment": row["compartment"],
            "position": c.position if c else "",
            "at": self.clock(),
            "case_no_masked": mask_case(row["case_no"]),
        }
        data.update(extra)
        try:
            self.publish(data)
        except Exception:
            log.exception("pickup event %s for item %s not published", action, row["id"])

    def view(self, row: sqlite3.Row, full_case: bool = False) -> dict:
        c = self.compartments.get(row["compartment"])
        comp = c.public() if c else {"no": row["compartment"], "bank": "", "size": row["size"], "position": ""}
        case = self.cases.row(row["case_no"])
        service = case["service"] if case is not None else ""
        door_open_s = None
        if row["phase"] == "awaiting_close" and row["door_opened_at"]:
            door_open_s = max(0.0, self.clock() - row["door_opened_at"])
        v = {
            "item_id": row["id"],
            "case_no_masked": mask_case(row["case_no"]),
            "item_name": row["item_name"],
            "service_name": self.service_names.get(service, service),
            "compartment": comp,
            "state": row["state"],
            "phase": row["phase"],
            "door_open_s": door_open_s,
            "alarm": bool(row["alarm_sent"]),
            "error": row["last_error"],
            "deposited_at": row["deposited_at"],
            "collected_at": row["collected_at"],
        }
        if full_case:
            v["case_no"] = row["case_no"]
        return v

    def check_tx(self, sender: str, tx: str, op: str, expires_at: float) -> None:
        """Refuse a request that may open a door if its (sender, tx) was ever executed (persisted)."""
        now = time.time()  # envelopes carry wall-clock times, whatever clock drives the hall
        if expires_at < now:
            raise PickupError("expired", "request expired; not executed")
        with self.store.transaction() as db:
            db.execute("DELETE FROM pickup_used_tx WHERE expires_at < ?", (now - TX_KEEP_S,))
            try:
                db.execute(
                    "INSERT INTO pickup_used_tx (sender, tx, op, at, expires_at) VALUES (?,?,?,?,?)",
                    (sender, tx, op, now, expires_at),
                )
            except sqlite3.IntegrityError:
                raise PickupError("replayed", f"transaction {tx} from {sender} was already executed; refused") from None

    # ================================================================== deposit (staff)
    def deposit_start(
        self,
        case_no: str,
        size: str,
        actor: str,
        identity_token: str | None = None,
        item_name: str = "",
        window: int | None = None,
    ) -> dict:
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
        name = item_name or case["title"] or self.service_names.get(case["service"], case["service"])
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
                    _op_id(),
                    now,
                    actor,
                    window,
                    now,
                    now,
                ),
            )
            item_id = cur.lastrowid
            self._audit(db, actor, "open_requested", c.no, item_id, "deposit", case_no=case_no, window=window)
        self._submit(item_id)
        return {"item": self.view(self._item(item_id))}

    def deposit_confirm(self, item_id: int, actor: str) -> dict:
        row = self._item(item_id)
        if row["state"] == "depositing" and row["phase"] == "awaiting_close":
            self._jobs.put(("poll", item_id))  # a closed door is seen within one worker turn
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
        rows = self._q("SELECT locked_until FROM pickup_attempts WHERE scope=? AND key=?", (scope, key))
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
                    self._audit(
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
    ) -> dict:
        now = self.clock()
        wait = self._locked("kiosk", kiosk, now) if method != "card" else 0.0  # an ID card cannot be guessed
        if wait:
            raise PickupError("locked_out", f"too many wrong attempts at {kiosk}; try again in {int(wait) + 1} s")
        if method == "card":
            if not token:
                raise PickupError(
                    "invalid_request", "method card needs token (the identity token read from the ID card)"
                )
            rows = self._q(
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
            rows = self._q(
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
            rows = self._q(
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
        rows = self._q("SELECT * FROM pickup_sessions WHERE id=?", (session_id,))
        if not rows:
            raise PickupError("no_session", "unknown pickup session; identify again")
        return rows[0]

    def session_view(self, session_id: str) -> dict:
        s = self._session(session_id)
        items = []
        for item_id in json.loads(s["item_ids"]):
            row = self._item(item_id)
            items.append(self.view(row, full_case=row["state"] == "collected"))
        return {
            "session_id": s["id"],
            "kiosk": s["kiosk"],
            "method": s["method"],
            "expires_at": s["expires_at"],
            "items": items,
        }

    def open(self, kiosk: str, session_id: str, item_ids: list[int]) -> dict:
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
                    (_op_id(), now, session_id, f"{kiosk}/{s['method']}", now, row["id"]),
                )
                self._audit(
                    db,
                    f"{kiosk}/{s['method']}",
                    "open_requested",
                    row["compartment"],
                    row["id"],
                    "pickup",
                    session=session_id,
                )
        for row in rows:
            self._submit(row["id"])
        return self.session_view(session_id)

    def status(self, session_id: str | None = None, item_id: int | None = None, staff: bool = False) -> dict:
        if session_id:
            v = self.session_view(session_id)
            return {"session": {k: v[k] for k in ("session_id", "kiosk", "method", "expires_at")}, "items": v["items"]}
        if item_id:
            return {"session": None, "items": [self.view(self._item(item_id), full_case=staff)]}
        raise PickupError("invalid_request", "give session_id or item_id")

    # ================================================================== manager views, return
    def list_items(self, states: list[str] | None = None, limit: int = 200) -> dict:
        states = states or list(ACTIVE_STATES)
        rows = self._q(
            f"SELECT * FROM pickup_items WHERE hall=? AND state IN ({','.join('?' * len(states))}) ORDER BY id DESC LIMIT ?",
            (self.hall, *states, limit),
        )
        faults = self._q("SELECT compartment, reason, at FROM pickup_faults ORDER BY compartment")
        busy = {
            r["compartment"]
            for r in self._q(
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

    def overdue(self, days: float | None = None) -> dict:
        days = self.settings.overdue_days if days is None else days
        cutoff = self.clock() - days * 86400
        rows = self._q(
            "SELECT * FROM pickup_items WHERE hall=? AND state='deposited' AND deposited_at < ? ORDER BY deposited_at",
            (self.hall, cutoff),
        )
        return {"days": float(days), "items": [self.view(r, full_case=True) for r in rows]}

    def return_item(self, item_id: int, actor: str, reason: str = "") -> dict:
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
                (_op_id(), now, actor, now, item_id),
            )
            self._audit(db, actor, "open_requested", row["compartment"], item_id, "return", note=reason)
        self._submit(item_id)
        return {"item": self.view(self._item(item_id), full_case=True)}

    def clear_fault(self, compartment: str, actor: str) -> bool:
        with self.store.transaction() as db:
            n = db.execute("DELETE FROM pickup_faults WHERE compartment=?", (compartment,)).rowcount
            if n:
                self._audit(db, actor, "fault_cleared", compartment, None, "repaired")
        return bool(n)

    def audit(self, limit: int = 100) -> list[dict]:
        return [dict(r) for r in self._q("SELECT * FROM pickup_audit ORDER BY id DESC LIMIT ?", (limit,))]

    # ================================================================== worker
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"pickup-{self.hall}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._jobs.put(("stop", 0))
        if self._thread:
            self._thread.join(10)

    def _submit(self, item_id: int) -> None:
        self._queued.add(item_id)
        self._jobs.put(("open", item_id))

    def door_event(self, device: str, board: int, lock: int, door_open: bool) -> None:
        """A locker host saw a door change (called from the bus dispatch thread)."""
        self._jobs.put(("door", (device, board, lock, door_open)))

    def _run(self) -> None:
        try:
            self._renotify_pending()
        except Exception:
            log.exception("pickup: re-notifying pending deposits failed")
        while not self._stop.is_set():
            try:
                kind, arg = self._jobs.get(timeout=0.2)
            except queue.Empty:
                kind, arg = "", None
            try:
                if kind == "open":
                    self._queued.discard(arg)
                    self._do_open(arg)
                elif kind == "door":
                    self._on_door(*arg)
                elif kind == "poll":
                    self._poll(only=arg)
                if self.clock() - self._last_poll >= self.settings.status_poll_s:
                    self._poll()
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("pickup worker: %s %s failed", kind, arg)

    def _from_wall(self, ts: float) -> float:
        """A locker host's wall-clock time on this service's clock (they differ only under a test clock)."""
        return self.clock() - (time.time() - ts)

    def _compartment(self, row: sqlite3.Row) -> Compartment:
        return self.compartments[row["compartment"]]

    def _do_open(self, item_id: int) -> None:
        row = self._item(item_id)
        if row["phase"] != "opening" or self._stop.is_set():
            return
        c = self._compartment(row)
        try:
            result = self.lockers.open(c, row["open_op"], f"{REASON[row['state']]} item {item_id}")
        except LockerUnknown as exc:
            log.warning(
                "pickup item %d: open of %s unconfirmed (%s); will ask the locker host again", item_id, c.no, exc
            )
            return
        except LockerFailed as exc:
            self._open_failed(item_id, exc.code, str(exc))
            return
        if result.door_open:
            self._opened(item_id, self._from_wall(result.fired_at))
        else:
            self._open_failed(item_id, "door_jammed", "the lock fired but the door did not open")

    def _opened(self, item_id: int, at: float) -> None:
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM pickup_items WHERE id=?", (item_id,)).fetchone()
            if row["phase"] != "opening":
                return
            db.execute(
                "UPDATE pickup_items SET phase='awaiting_close', door_opened_at=?, updated_at=? WHERE id=?",
                (at, self.clock(), item_id),
            )
            self._audit(
                db, row["actor"], "opened", row["compartment"], item_id, REASON[row["state"]], pickup_id=row["open_op"]
            )
        self._event("opened", row, reason=REASON[row["state"]])

    def _open_failed(self, item_id: int, code: str, message: str) -> None:
        now = self.clock()
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM pickup_items WHERE id=?", (item_id,)).fetchone()
            if row["phase"] != "opening":
                return
            back = "cancelled" if row["state"] == "depositing" else "deposited"
            db.execute(
                "UPDATE pickup_items SET state=?, phase='', last_error=?, updated_at=? WHERE id=?",
                (back, f"{code}: {message}"[:200], now, item_id),
            )
            db.execute(
                "INSERT OR REPLACE INTO pickup_faults (compartment, reason, at) VALUES (?,?,?)",
                (row["compartment"], f"{code}: {message}"[:200], now),
            )
            self._audit(
                db,
                row["actor"],
                "open_failed",
                row["compartment"],
                item_id,
                REASON[row["state"]],
                code=code,
                error=message,
            )
        log.error("pickup item %d: compartment %s did not open (%s: %s)", item_id, row["compartment"], code, message)
        self._event("open_failed", row, code=code, reason=REASON[row["state"]])

    def _closed(self, item_id: int) -> None:
        now = self.clock()
        notification = None
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM pickup_items WHERE id=?", (item_id,)).fetchone()
            if row["phase"] != "awaiting_close":
                return
            reason = REASON[row["state"]]
            self._audit(
                db,
                row["actor"],
                "closed",
                row["compartment"],
                item_id,
                reason,
                open_s=round(now - (row["door_opened_at"] or now), 1),
            )
            if row["state"] == "depositing":
                db.execute(
                    "UPDATE pickup_items SET state='deposited', phase='', deposited_at=?, updated_at=? WHERE id=?",
                    (now, now, item_id),
                )
                notification = self._new_code(db, item_id)
                self.cases.upsert(row["case_no"], "deposited", row["actor"], note=f"compartment {row['compartment']}")
                action = "deposited"
            elif row["state"] == "collecting":
                db.execute(
                    "UPDATE pickup_items SET state='collected', phase='', collected_at=?, updated_at=? WHERE id=?",
                    (now, now, item_id),
                )
                left = db.execute(
                    f"SELECT COUNT(*) FROM pickup_items WHERE case_no=? AND state IN ({','.join('?' * len(ACTIVE_STATES))})",
                    (row["case_no"], *ACTIVE_STATES),
                ).fetchone()[0]
                if not left:
                    self.cases.upsert(row["case_no"], "collected", row["actor"], note="self-service pickup")
                action = "collected"
            else:
                db.execute(
                    "UPDATE pickup_items SET state='returned', phase='', returned_at=?, updated_at=? WHERE id=?",
                    (now, now, item_id),
                )
                self.cases.upsert(row["case_no"], "returned", row["actor"], note="returned to the window")
                action = "returned"
        self._event(action, row)
        if notification is not None:
            self._send(notification)

    def _new_code(self, db: sqlite3.Connection, item_id: int) -> Notification:
        """Draw a new one-time code and QR nonce for a deposited item (any earlier code and QR stop working)."""
        row = db.execute("SELECT * FROM pickup_items WHERE id=?", (item_id,)).fetchone()
        code, nonce = self._bind_code(db, item_id)
        db.execute("UPDATE pickup_items SET qr_nonce=?, notified_at=NULL WHERE id=?", (nonce, item_id))
        c = self._compartment(row)
        expires = self.clock() + self.settings.qr_ttl_days * 86400
        return Notification(
            self.hall,
            self.hall_name,
            row["case_no"],
            item_id,
            row["item_name"],
            row["identity_token"],
            c.no,
            c.position,
            code,
            security.sign_qr(self.secret, self.hall, item_id, nonce, expires),
            expires,
        )

    def _send(self, n: Notification) -> bool:
        """Hand the notification to the adapter; ``notified_at`` records that the citizen was told."""
        try:
            self.notifier.notify(n)
        except Exception as exc:
            log.error("pickup item %d: notification failed: %s", n.item_id, exc)
            return False
        with self.store.transaction() as db:
            db.execute("UPDATE pickup_items SET notified_at=? WHERE id=?", (self.clock(), n.item_id))
            row = db.execute("SELECT * FROM pickup_items WHERE id=?", (n.item_id,)).fetchone()
        self._event("notified", row, channel=getattr(self.notifier, "name", "notifier"))
        return True

    def renotify(self, item_id: int, actor: str) -> dict:
        """Send the citizen a new code and QR (the plaintext code is never kept, so it cannot be re-sent)."""
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM pickup_items WHERE id=? AND hall=?", (item_id, self.hall)).fetchone()
            if row is None:
                raise PickupError("not_found", f"no pickup item {item_id}")
            if row["state"] != "deposited":
                raise PickupError("not_available", f"item {item_id} is {row['state']}, not waiting in a locker")
            n = self._new_code(db, item_id)
            self._audit(db, actor, "renotify", row["compartment"], item_id, "new code and QR")
        sent = self._send(n)
        return {"item": self.view(self._item(item_id), full_case=True), "notified": sent}

    def _renotify_pending(self) -> None:
        """After a restart: deposits committed but never notified get a fresh code (the old one was only in memory)."""
        for r in self._q(
            "SELECT id FROM pickup_items WHERE hall=? AND state='deposited' AND notified_at IS NULL", (self.hall,)
        ):
            with self.store.transaction() as db:
                n = self._new_code(db, r["id"])
                self._audit(db, "controller", "renotify", n.compartment, r["id"], "not notified before a restart")
            self._send(n)

    def _bind_code(self, db: sqlite3.Connection, item_id: int) -> tuple[str, str]:
        for _ in range(50):
            code = security.new_code(self.settings.code_digits)
            h = security.code_hash(self.secret, code)
            clash = db.execute(
                "SELECT 1 FROM pickup_items WHERE code_hash=? AND state IN ('deposited','collecting')", (h,)
            ).fetchone()
            locked = db.execute("SELECT 1 FROM pickup_attempts WHERE scope='code' AND key=?", (h,)).fetchone()
            if not clash and not locked:
                db.execute("UPDATE pickup_items SET code_hash=? WHERE id=?", (h, item_id))
                return code, secrets.token_hex(8)
        raise RuntimeError("could not draw a unique pickup code")

    def _on_door(self, device: str, board: int, lock: int, door_open: bool) -> None:
        if door_open:
            return
        for c in self.compartments.values():
            if (c.device, c.board, c.lock) == (device, board, lock):
                rows = self._q("SELECT id FROM pickup_items WHERE compartment=? AND phase='awaiting_close'", (c.no,))
                for r in rows:
                    self._closed(r["id"])

    def _poll(self, only: int | None = None) -> None:
        """Re-query doors of open compartments, resolve unconfirmed opens, raise door-left-open alarms."""
        now = self.clock()
        self._last_poll = now
        rows = self._q(
            "SELECT * FROM pickup_items WHERE hall=? AND phase IN ('opening','awaiting_close')"
            + (" AND id=?" if only else ""),
            (self.hall, only) if only else (self.hall,),
        )
        boards: dict[tuple[str, int], Any] = {}
        for row in rows:
            if row["id"] in self._queued or self._stop.is_set():
                continue
            c = self._compartment(row)
            if row["phase"] == "opening":
                self._resolve_opening(row, c, now)
                continue
            key = (c.device, c.board)
            if key not in boards:
                try:
                    boards[key] = self.lockers.status(c.device, c.board)
                except (LockerUnknown, LockerFailed) as exc:
                    boards[key] = None
                    log.info("pickup: status of %s board %d unavailable: %s", c.device, c.board, exc)
            st = boards[key]
            if st is not None and st.doors.get(c.lock) is False:
                self._closed(row["id"])
            elif (
                row["door_opened_at"]
                and now - row["door_opened_at"] >= self.settings.door_open_alarm_s
                and not row["alarm_sent"]
            ):
                with self.store.transaction() as db:
                    db.execute("UPDATE pickup_items SET alarm_sent=1 WHERE id=?", (row["id"],))
                    self._audit(
                        db,
                        "controller",
                        "alarm",
                        row["compartment"],
                        row["id"],
                        "door left open",
                        open_s=round(now - row["door_opened_at"]),
                    )
                log.warning("pickup: door of %s (%s) left open for %d s", c.no, c.position, now - row["door_opened_at"])
                self._event("door_left_open", row, open_s=round(now - row["door_opened_at"], 1))

    def _resolve_opening(self, row: sqlite3.Row, c: Compartment, now: float) -> None:
        try:
            st = self.lockers.status(c.device, c.board, row["open_op"])
        except (LockerUnknown, LockerFailed) as exc:
            if now - (row["open_asked_at"] or now) > self.settings.resume_open_s + self.settings.open_timeout_s:
                self._abandon(row, f"locker host unreachable: {exc}")
            return
        op = st.op
        if op and op.get("pickup_id") == row["open_op"]:
            if not op.get("opened"):
                self._open_failed(row["id"], "door_jammed", "the lock fired but the door did not open")
                return
            self._opened(row["id"], self._from_wall(float(op.get("fired_at") or time.time())))
            if st.doors.get(c.lock) is False:
                self._closed(row["id"])
            return
        if now - (row["open_asked_at"] or now) <= self.settings.resume_open_s:
            log.info("pickup item %d: open of %s was never fired; sending it again", row["id"], c.no)
            self._do_open(row["id"])
        else:
            self._abandon(row, "the open was never carried out and nobody is waiting for it any more")

    def _abandon(self, row: sqlite3.Row, why: str) -> None:
        now = self.clock()
        with self.store.transaction() as db:
            cur = db.execute("SELECT * FROM pickup_items WHERE id=?", (row["id"],)).fetchone()
            if cur["phase"] != "opening":
                return
            back = "cancelled" if cur["state"] == "depositing" else "deposited"
            db.execute(
                "UPDATE pickup_items SET state=?, phase='', last_error=?, updated_at=? WHERE id=?",
                (back, f"open_abandoned: {why}"[:200], now, row["id"]),
            )
            self._audit(
                db, "controller", "open_abandoned", cur["compartment"], row["id"], REASON[cur["state"]], error=why
            )
        log.warning("pickup item %d: open of %s abandoned (%s)", row["id"], row["compartment"], why)
        self._event("open_abandoned", row)


def _op_id() -> str:
    return "op-" + secrets.token_hex(8)
