"""The bookings (预约) and their places: feature migrations ``booking`` and :class:`BookingStore`.

A booking is two rows written in one transaction: the core ``appointments`` row (hall, code,
service, slot) that the kiosk's check-in already reads (``appointment.lookup``, ``ticket.issue``
with ``appointment``), and a ``bookings`` row with what only this feature keeps: the phone number as
a keyed hash and a masked form (138****5678; never the number), a keyed hash of the cancel token,
the state (booked, cancelled) and the wrong cancel attempts. A cancelled booking's appointment row is
removed, so its code no longer checks in.

Race-free: the free places are counted and the booking inserted inside one ``BEGIN IMMEDIATE``
transaction (SQLite's write lock is taken before the count), and the insert itself is a single
``INSERT ... SELECT ... WHERE (count) < capacity``: even a second process writing the same file
could not take a place the count did not see.

A booking's state as the manager sees it (:func:`booking_state`: booked, checked_in, no_show,
cancelled) depends on its ticket and the time; the one function serves the per-day listing row by
row and, registered with SQLite, the report's ``GROUP BY`` over a range (:meth:`BookingStore.counts`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from hall_bus.controller.store import Store
from hall_bus.errors import CodedError
from hall_bus.features.booking.rules import Slot

MIGRATIONS = [
    """
    CREATE TABLE bookings (
        hall            TEXT NOT NULL,
        code            TEXT NOT NULL,               -- = appointments.code while booked
        service         TEXT NOT NULL,
        slot_start      REAL NOT NULL,
        slot_end        REAL NOT NULL,
        kind            TEXT NOT NULL,               -- regular | saturday | extended
        phone_hash      TEXT NOT NULL,               -- HMAC-SHA256(booking key, phone), never the number
        phone_masked    TEXT NOT NULL,               -- 138****5678
        cancel_hash     TEXT NOT NULL,               -- HMAC-SHA256(booking key, cancel token)
        state           TEXT NOT NULL DEFAULT 'booked',  -- booked | cancelled
        channel         TEXT NOT NULL,               -- the client that booked (web, integrator ...)
        booked_at       REAL NOT NULL,
        cancelled_at    REAL,
        cancel_failures INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hall, code)
    );
    CREATE INDEX bookings_slot ON bookings (hall, service, slot_start, state);
    CREATE INDEX bookings_phone ON bookings (hall, phone_hash, state);
    """,
    """
    CREATE INDEX bookings_start ON bookings (hall, slot_start);  -- the listing and the report: a range of slots
    """,
]

PHONE = re.compile(r"1[3-9]\d{9}")  # a mainland mobile number, 11 digits
CODE_CHARS = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed at the kiosk
CODE_PREFIX = "YY"  # 预约
MAX_CANCEL_FAILURES = 5
STATE_SQL = "hallkit_booking_state"  # booking_state() as an SQLite function of the store's connection
_JOIN = (
    " FROM bookings b LEFT JOIN appointments a ON a.hall=b.hall AND a.code=b.code LEFT JOIN tickets t ON t.id=a.ticket"
)


class BookingError(CodedError):
    """A booking refused; ``code`` is the bus error code."""


def normal_phone(phone: str) -> str:
    digits = re.sub(r"[\s-]", "", phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    if not PHONE.fullmatch(digits):
        raise BookingError("invalid_phone", "a mainland mobile number of 11 digits is needed")
    return digits


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def booking_state(state: str, ticket: int | None, ticket_state: str | None, slot_end: float, now: float) -> str:
    """booked (still to come), checked_in (a ticket was issued), no_show (its slot ended without a
    check-in, or its ticket was called and never came), cancelled."""
    if state == "cancelled":
        return "cancelled"
    if ticket is not None:
        return "no_show" if ticket_state == "no_show" else "checked_in"
    return "no_show" if slot_end <= now else "booked"


class BookingStore:
    def __init__(self, store: Store, hall: str, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self.store, self.hall, self.key, self.clock = store, hall, key, clock
        store.migrate_feature("booking", MIGRATIONS)
        store.db.create_function(STATE_SQL, 5, booking_state, deterministic=True)

    def _mac(self, what: str, value: str) -> str:
        return hmac.new(self.key, f"{what}:{value}".encode(), hashlib.sha256).hexdigest()

    # ------------------------------------------------------------------ reads
    def taken(self, service: str, starts: list[float]) -> dict[float, int]:
        """Booked places per slot start of ``service`` (cancelled bookings free theirs)."""
        if not starts:
            return {}
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT slot_start, COUNT(*) FROM bookings WHERE hall=? AND service=? AND state='booked'"
                f" AND slot_start IN ({','.join('?' * len(starts))}) GROUP BY slot_start",
                (self.hall, service, *starts),
            ).fetchall()
        return {float(r[0]): int(r[1]) for r in rows}

    def between(self, start: float, end: float) -> list[dict[str, Any]]:
        """Bookings (also cancelled) whose slot starts in ``[start, end)``, with their check-in ticket."""
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT b.*, a.ticket, t.state AS ticket_state, t.code AS ticket_code"
                + _JOIN
                + " WHERE b.hall=? AND b.slot_start>=? AND b.slot_start<? ORDER BY b.slot_start, b.booked_at",
                (self.hall, start, end),
            ).fetchall()
        return [dict(r) for r in rows]

    def counts(
        self, start: float, end: float, now: float, by_slot: bool, service: str | None = None
    ) -> list[tuple[str, float | None, str, int]]:
        """Bookings whose slot starts in ``[start, end)`` counted by (service, slot start when
        ``by_slot``, state at ``now``) in one ``GROUP BY``: ``(service, slot_start | None, state, n)``."""
        slot = "b.slot_start" if by_slot else "NULL"
        sql = (
            f"SELECT b.service, {slot} AS slot, {STATE_SQL}(b.state, a.ticket, t.state, b.slot_end, :now) AS st,"
            " COUNT(*)"
            + _JOIN
            + " WHERE b.hall=:hall AND b.slot_start>=:start AND b.slot_start<:end"
            + (" AND b.service=:service" if service is not None else "")
            + " GROUP BY b.service, slot, st"
        )
        params = {"hall": self.hall, "start": start, "end": end, "now": now, "service": service}
        with self.store.lock:
            rows = self.store.db.execute(sql, params).fetchall()
        return [(str(r[0]), None if r[1] is None else float(r[1]), str(r[2]), int(r[3])) for r in rows]

    # ------------------------------------------------------------------ writes
    def book(self, slot: Slot, phone: str, channel: str, max_per_phone: int) -> dict[str, Any]:
        """Take a place of ``slot`` for ``phone``: the code, the cancel token (shown once) and the slot."""
        phone = normal_phone(phone)
        phone_hash = self._mac("phone", phone)
        token = secrets.token_urlsafe(12)
        now = self.clock()
        with self.store.transaction() as db:
            held = db.execute(
                "SELECT COUNT(*) FROM bookings WHERE hall=? AND phone_hash=? AND state='booked' AND slot_end>?",
                (self.hall, phone_hash, now),
            ).fetchone()[0]
            if held >= max_per_phone:
                raise BookingError("booking_limit", f"this phone number already holds {held} bookings")
            same = db.execute(
                "SELECT 1 FROM bookings WHERE hall=? AND phone_hash=? AND state='booked' AND service=? AND slot_start=?",
                (self.hall, phone_hash, slot.service, slot.start),
            ).fetchone()
            if same:
                raise BookingError("booking_limit", "this phone number already booked this slot")
            code = self._new_code(db)
            cur = db.execute(
                "INSERT INTO bookings (hall, code, service, slot_start, slot_end, kind, phone_hash, phone_masked,"
                " cancel_hash, channel, booked_at) SELECT ?,?,?,?,?,?,?,?,?,?,?"
                " WHERE (SELECT COUNT(*) FROM bookings WHERE hall=? AND service=? AND slot_start=? AND state='booked') < ?",
                (
                    self.hall,
                    code,
                    slot.service,
                    slot.start,
                    slot.end,
                    slot.kind,
                    phone_hash,
                    mask_phone(phone),
                    self._mac("cancel", token),
                    channel,
                    now,
                    self.hall,
                    slot.service,
                    slot.start,
                    slot.capacity,
                ),
            )
            if cur.rowcount != 1:
                raise BookingError("slot_full", f"slot {slot.label} has no free place")
            db.execute(
                "INSERT INTO appointments (hall, code, service, slot_start, slot_end) VALUES (?,?,?,?,?)",
                (self.hall, code, slot.service, slot.start, slot.end),
            )
            free = slot.capacity - self._count(db, slot.service, slot.start)
        return {"code": code, "cancel_token": token, "phone_masked": mask_phone(phone), "free": free}

    def cancel(self, code: str, phone_last4: str | None, cancel_token: str | None) -> dict[str, Any]:
        """Cancel a booking shown the last 4 digits of its phone or its cancel token; 5 wrong tries lock it."""
        code = code.strip().upper()
        now = self.clock()
        with self.store.transaction() as db:
            row = db.execute("SELECT * FROM bookings WHERE hall=? AND code=?", (self.hall, code)).fetchone()
            if row is None:
                raise BookingError("not_found", f"no booking {code}")
            if row["state"] == "cancelled":
                raise BookingError("booking_cancelled", f"booking {code} is already cancelled")
            if row["cancel_failures"] >= MAX_CANCEL_FAILURES:
                raise BookingError("cancel_locked", f"booking {code}: too many wrong attempts")
            ok = (
                cancel_token is not None and hmac.compare_digest(self._mac("cancel", cancel_token), row["cancel_hash"])
            ) or (phone_last4 is not None and hmac.compare_digest(phone_last4, row["phone_masked"][-4:]))
            if not ok:
                db.execute(
                    "UPDATE bookings SET cancel_failures=cancel_failures+1 WHERE hall=? AND code=?", (self.hall, code)
                )
        # (a wrong answer is counted: the transaction above committed before the refusal)
        if not ok:
            raise BookingError("cancel_denied", f"booking {code}: the phone digits or cancel token do not match")
        with self.store.transaction() as db:
            appt = db.execute("SELECT ticket FROM appointments WHERE hall=? AND code=?", (self.hall, code)).fetchone()
            if appt is not None and appt["ticket"] is not None:
                raise BookingError("appointment_used", f"booking {code} was already checked in")
            if row["slot_end"] <= now:
                raise BookingError("slot_closed", f"booking {code}: its slot is over")
            db.execute(
                "UPDATE bookings SET state='cancelled', cancelled_at=? WHERE hall=? AND code=?", (now, self.hall, code)
            )
            db.execute("DELETE FROM appointments WHERE hall=? AND code=?", (self.hall, code))
        return {"code": code, "service": row["service"], "slot_start": row["slot_start"], "slot_end": row["slot_end"]}

    def _count(self, db: sqlite3.Connection, service: str, start: float) -> int:
        return int(
            db.execute(
                "SELECT COUNT(*) FROM bookings WHERE hall=? AND service=? AND slot_start=? AND state='booked'",
                (self.hall, service, start),
            ).fetchone()[0]
        )

    def _new_code(self, db: sqlite3.Connection) -> str:
        for _ in range(20):
            code = CODE_PREFIX + "".join(secrets.choice(CODE_CHARS) for _ in range(6))
            if not db.execute(
                "SELECT 1 FROM bookings WHERE hall=? AND code=? UNION SELECT 1 FROM appointments WHERE hall=? AND code=?",
                (self.hall, code, self.hall, code),
            ).fetchone():
                return code
        raise BookingError("internal", "no free appointment code after 20 tries")
