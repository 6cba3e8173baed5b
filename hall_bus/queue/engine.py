"""The queue engine (排队叫号): issuing, calling and finishing tickets; window assignment.

Pure business rules over the store, with an injected clock: the hall controller drives it from
the bus, the hall traffic simulator drives it in simulated time. Nothing here knows MQTT.

:class:`QueueEngine` is assembled from its parts: the store, clock and reads
(:mod:`hall_bus.queue.base`), waits, positions and snapshots (:mod:`hall_bus.queue.estimates`), the
window operations and the call-next rule (:mod:`hall_bus.queue.windows`, whose docstring states the
rule; docs/queue.md states it for staff and managers), and here issuing, appointments and the audit log.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

from hall_bus.config import Service, schedule
from hall_bus.queue.base import locked
from hall_bus.queue.estimates import Estimates
from hall_bus.queue.models import (
    ELDERLY_AGE,
    MAX_NUMBER,
    PRIORITIES,
    Change,
    Closed,
    NotFound,
    QueueError,
    SoldOut,
    Ticket,
)
from hall_bus.queue.windows import WindowOps

log = logging.getLogger(__name__)


class QueueEngine(WindowOps, Estimates):
    """The whole queue engine; see the modules named in this module's docstring for its parts."""

    # ------------------------------------------------------------------ issuing
    def issue(
        self,
        service_id: str,
        idempotency_key: str | None = None,
        priority: str = "normal",
        age_years: int | None = None,
        identity_token: str | None = None,
        appointment: str | None = None,
        channel: str = "kiosk",
        issued_by: str = "",
    ) -> tuple[Ticket, bool]:
        """Issue a ticket; returns (ticket, created). A repeated idempotency key returns the first ticket."""
        if priority not in PRIORITIES:
            raise QueueError(f"unknown priority {priority!r}", "invalid_data")
        if priority == "elderly" and (age_years is None or age_years < ELDERLY_AGE):
            raise QueueError(
                f"the elderly green channel needs an age of {ELDERLY_AGE}+ read from the ID card",
                "priority_not_eligible",
            )
        with self.store.transaction() as db:
            if idempotency_key:
                row = db.execute(
                    "SELECT * FROM tickets WHERE hall=? AND idem_key=?", (self.hall, idempotency_key)
                ).fetchone()
                if row is not None:
                    return Ticket.from_row(row), False
            appointment_due = None
            if appointment:
                appt = db.execute(
                    "SELECT * FROM appointments WHERE hall=? AND code=?", (self.hall, appointment)
                ).fetchone()
                if appt is None:
                    raise NotFound(f"no appointment {appointment}")
                if appt["ticket"] is not None:
                    existing = self._ticket(db, appt["ticket"])
                    if existing.state in ("waiting", "called", "serving"):
                        return existing, False
                    raise QueueError(
                        f"appointment {appointment} was already used by ticket {existing.code}", "appointment_used"
                    )
                now = self.now()
                if now > appt["slot_end"]:
                    raise QueueError(
                        f"appointment {appointment} ended at {self.local(appt['slot_end']):%H:%M}; take a normal ticket",
                        "appointment_expired",
                    )
                if self.local(appt["slot_start"]).date() != self.local(now).date():
                    raise QueueError(
                        f"appointment {appointment} is for {self.local(appt['slot_start']):%Y-%m-%d}",
                        "appointment_not_today",
                    )
                service_id = appt["service"]
                appointment_due = appt["slot_start"]
                identity_token = identity_token or appt["identity_token"]
            service = self._service(service_id)
            self._check_hours(service, appointment_due)
            now = self.now()
            day = self.local(now).date().isoformat()
            row = db.execute(
                "SELECT MAX(number) FROM tickets WHERE hall=? AND day=? AND prefix=?", (self.hall, day, service.prefix)
            ).fetchone()
            number = (row[0] or 0) + 1
            self._check_cap(db, service, day, number)
            code = f"{service.prefix}{number:03d}"
            cur = db.execute(
                "INSERT INTO tickets (hall, day, prefix, number, code, service, domain, priority, identity_token, "
                "appointment, appointment_due, idem_key, channel, issued_by, issued_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    self.hall,
                    day,
                    service.prefix,
                    number,
                    code,
                    service.id,
                    service.domain,
                    priority,
                    identity_token,
                    appointment,
                    appointment_due,
                    idempotency_key,
                    channel,
                    issued_by,
                    now,
                ),
            )
            assert cur.lastrowid is not None  # an INSERT always has one
            ticket = self._ticket(db, cur.lastrowid)
            if appointment:
                db.execute(
                    "UPDATE appointments SET ticket=? WHERE hall=? AND code=?", (ticket.id, self.hall, appointment)
                )
        self._emit(
            Change(domains={service.domain}, events=[("ticket", {"action": "issued", "ticket": ticket.public()})])
        )
        return ticket, True

    def _check_hours(self, service: Service, appointment_due: float | None) -> None:
        """Walk-in tickets while the service's domain is open; an appointment also while its windows serve
        appointments only, and from ``appointment_early_minutes`` before its slot whatever the hours
        (a booked slot is the hall's promise). Self-service around the clock."""
        if service.self_service:
            return
        mode = self.domain_mode(service.domain)
        if appointment_due is not None:
            early = appointment_due - self.config.queue.appointment_early_minutes * 60
            if mode != "closed" or self.now() >= early:
                return
        elif mode == "open":
            return
        walk, appt = schedule.domain_spans(self.config, service.domain, self.local().date(), self.current_domains())
        if mode == "appointments":
            raise QueueError(
                f"{service.name} takes appointments only now (walk-in tickets today: {schedule.describe(walk)})",
                "appointments_only",
            )
        raise Closed(
            f"{service.name} is served during its opening hours only (today: {schedule.describe(walk)}"
            + (f"; appointments {schedule.describe(appt)})" if appt else ")")
        )

    def _check_cap(self, db: sqlite3.Connection, service: Service, day: str, number: int) -> None:
        """限号: a service's daily cap, and the numbering's own limit (five digits per prefix and day)."""
        if number > MAX_NUMBER:
            raise SoldOut(f"today's numbers for prefix {service.prefix} are used up ({MAX_NUMBER})")
        if service.daily_cap is not None:
            issued = db.execute(
                "SELECT COUNT(*) FROM tickets WHERE hall=? AND day=? AND service=?", (self.hall, day, service.id)
            ).fetchone()[0]
            if issued >= service.daily_cap:
                raise SoldOut(f"{service.name}: today's {service.daily_cap} tickets are all taken")

    def add_appointment(
        self, code: str, service_id: str, slot_start: float, slot_end: float, identity_token: str | None = None
    ) -> None:
        self._service(service_id)
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO appointments (hall, code, service, slot_start, slot_end, identity_token) "
                "VALUES (?,?,?,?,?,?)",
                (self.hall, code, service_id, slot_start, slot_end, identity_token),
            )

    @locked
    def appointment(self, code: str) -> dict[str, Any]:
        row = self.store.db.execute("SELECT * FROM appointments WHERE hall=? AND code=?", (self.hall, code)).fetchone()
        if row is None:
            raise NotFound(f"no appointment {code}")
        svc = self._service(row["service"])
        return {
            "code": code,
            "service": svc.id,
            "service_name": svc.name,
            "slot_start": row["slot_start"],
            "slot_end": row["slot_end"],
            "checked_in": row["ticket"] is not None,
        }

    def audit(self, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
        """Append an audit record (features use this for their own manager actions)."""
        with self.store.transaction() as db:
            self._audit(db, actor, action, target, detail)

    @locked
    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.store.db.execute("SELECT * FROM audit WHERE hall=? ORDER BY id DESC LIMIT ?", (self.hall, limit))
        return [
            {
                "at": r["at"],
                "actor": r["actor"],
                "action": r["action"],
                "target": r["target"],
                "detail": json.loads(r["detail"]),
            }
            for r in rows
        ]
