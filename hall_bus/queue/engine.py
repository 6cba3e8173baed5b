"""The queue engine (排队叫号): issuing, calling and finishing tickets; window assignment.

Pure business rules over the store, with an injected clock: the hall controller drives it from
the bus, the hall traffic simulator drives it in simulated time. Nothing here knows MQTT.

Call-next rule (docs/queue.md states it for staff and managers):

1. Only tickets the window may serve: waiting tickets of the window's domains, plus tickets
   transferred to this window by number (a ticket transferred to another window is not eligible).
2. Appointments that are due (slot start minus ``appointment_early_minutes`` has passed) come
   first, earliest slot first.
3. Then the green channel (老年人, 残疾人, 孕妇, 军人): the oldest priority ticket, unless this window
   has already called ``max_priority_in_row`` priority tickets in a row and a normal ticket is
   waiting: then the oldest normal ticket is called and the streak starts again. Under sustained
   priority load a window therefore still serves at least one normal ticket in every
   ``max_priority_in_row + 1`` calls: normal tickets are never starved.
4. Otherwise first come, first served by issue time (a transferred ticket keeps its issue time).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
from collections.abc import Callable

from hall_bus.config import HallConfig, Service
from hall_bus.controller.store import Store
from hall_bus.queue.announce import announcement_en, announcement_zh
from hall_bus.queue.models import (
    _RANK_SQL,
    ELDERLY_AGE,
    PRIORITIES,
    Change,
    Closed,
    ConfiguredEstimator,
    HandlingTimeEstimator,
    NotFound,
    QueueError,
    Ticket,
    WindowState,
    _rank_key,
)

log = logging.getLogger(__name__)


def _locked(method: Callable) -> Callable:
    """Reads take the store lock too, so they never see another thread's open transaction."""

    @functools.wraps(method)
    def wrapper(self: QueueEngine, *args, **kwargs):
        with self.store.lock:
            return method(self, *args, **kwargs)

    return wrapper


class QueueEngine:
    def __init__(
        self,
        config: HallConfig,
        store: Store,
        clock: Callable[[], float] = time.time,
        estimator: HandlingTimeEstimator | None = None,
    ) -> None:
        self.config = config
        self.hall = config.hall_id
        self.store = store
        self.clock = clock
        self.estimator: HandlingTimeEstimator = estimator or ConfiguredEstimator(config)
        self.listeners: list[Callable[[Change], None]] = []
        self._init_windows()

    # ------------------------------------------------------------------ helpers
    def now(self) -> float:
        return self.clock()

    def local(self, ts: float | None = None) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now() if ts is None else ts, self.config.tz())

    def today(self) -> str:
        return self.local().date().isoformat()

    def _emit(self, change: Change) -> Change:
        for listener in self.listeners:
            listener(change)
        return change

    def _audit(self, db, actor: str, action: str, target: str, detail: dict) -> None:
        db.execute(
            "INSERT INTO audit (hall, at, actor, action, target, detail) VALUES (?,?,?,?,?,?)",
            (self.hall, self.now(), actor, action, target, json.dumps(detail, ensure_ascii=False)),
        )

    def _init_windows(self) -> None:
        with self.store.transaction() as db:
            known = {r["number"] for r in db.execute("SELECT number FROM windows WHERE hall=?", (self.hall,))}
            for w in self.config.windows:
                if w.number not in known:
                    db.execute(
                        "INSERT INTO windows (hall, number, domains, updated_at) VALUES (?,?,?,?)",
                        (self.hall, w.number, json.dumps(list(w.domains)), self.now()),
                    )

    def _service(self, service_id: str) -> Service:
        try:
            return self.config.service(service_id)
        except KeyError:
            raise NotFound(f"no service {service_id!r} in this hall") from None

    def _window_cfg(self, number: int):
        try:
            return self.config.window(number)
        except KeyError:
            raise NotFound(f"no window {number} in this hall") from None

    def _ticket(self, db, ticket_id: int) -> Ticket:
        row = db.execute("SELECT * FROM tickets WHERE id=?", (ticket_id,)).fetchone()
        if row is None:
            raise NotFound(f"no ticket with id {ticket_id}")
        return Ticket.from_row(row)

    def _window(self, db, number: int) -> WindowState:
        cfg = self._window_cfg(number)
        row = db.execute("SELECT * FROM windows WHERE hall=? AND number=?", (self.hall, number)).fetchone()
        current = self._ticket(db, row["current_ticket"]) if row["current_ticket"] else None
        return WindowState(
            number=number,
            name=cfg.name,
            domains=json.loads(row["domains"]),
            skills=list(cfg.skills),
            pending_domains=json.loads(row["pending_domains"]) if row["pending_domains"] else None,
            paused=bool(row["paused"]),
            pause_reason=row["pause_reason"],
            current=current,
            priority_streak=row["priority_streak"],
        )

    # ------------------------------------------------------------------ reading
    def window(self, number: int) -> WindowState:
        with self.store.lock:
            return self._window(self.store.db, number)

    def windows(self) -> list[WindowState]:
        with self.store.lock:
            return [self._window(self.store.db, w.number) for w in self.config.windows]

    @_locked
    def ticket(self, code: str, day: str | None = None) -> Ticket:
        day = day or self.today()
        row = self.store.db.execute(
            "SELECT * FROM tickets WHERE hall=? AND day=? AND code=?", (self.hall, day, code)
        ).fetchone()
        if row is None:
            raise NotFound(f"no ticket {code} on {day}")
        return Ticket.from_row(row)

    @_locked
    def waiting(self, domain: str | None = None) -> list[Ticket]:
        sql = "SELECT * FROM tickets WHERE hall=? AND state='waiting'"
        args: list = [self.hall]
        if domain:
            sql += " AND domain=?"
            args.append(domain)
        return [Ticket.from_row(r) for r in self.store.db.execute(sql + " ORDER BY issued_at, id", args)]

    def serving_windows(self, domain: str, windows: list[WindowState] | None = None) -> list[WindowState]:
        return [w for w in (windows or self.windows()) if domain in w.domains and not w.paused]

    def _work_minutes(self, rows) -> tuple[int, float]:
        count = sum(r[1] for r in rows)
        return count, sum(r[1] * self.estimator.expected_minutes(r[0]) for r in rows)

    def _fluid_wait(self, work: float, count: int, windows: int) -> float:
        """Work ahead divided by the windows serving the domain (a simple fluid estimate)."""
        if windows == 0:
            return float("inf") if count else 0.0
        return work / windows

    @_locked
    def expected_wait_minutes(self, domain: str, windows: list[WindowState] | None = None) -> float:
        rows = self.store.db.execute(
            "SELECT service, COUNT(*) FROM tickets WHERE hall=? AND state='waiting' AND domain=? GROUP BY service",
            (self.hall, domain),
        ).fetchall()
        count, work = self._work_minutes(rows)
        return self._fluid_wait(work, count, len(self.serving_windows(domain, windows)))

    @_locked
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

    @_locked
    def snapshot(self, domain: str, windows: list[WindowState] | None = None) -> dict:
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

    def is_open(self, service: Service) -> bool:
        return service.self_service or self.config.hours.is_open(self.local())

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
            if not self.is_open(service):
                hours = self.config.hours.describe(self.local().date())
                raise Closed(f"{service.name} is served during opening hours only (today: {hours})")
            now = self.now()
            day = self.local(now).date().isoformat()
            row = db.execute(
                "SELECT MAX(number) FROM tickets WHERE hall=? AND day=? AND prefix=?", (self.hall, day, service.prefix)
            ).fetchone()
            number = (row[0] or 0) + 1
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
            ticket = self._ticket(db, cur.lastrowid)
            if appointment:
                db.execute(
                    "UPDATE appointments SET ticket=? WHERE hall=? AND code=?", (ticket.id, self.hall, appointment)
                )
        self._emit(
            Change(domains={service.domain}, events=[("ticket", {"action": "issued", "ticket": ticket.public()})])
        )
        return ticket, True

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

    @_locked
    def appointment(self, code: str) -> dict:
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

    # ------------------------------------------------------------------ window operations
    def _choose_next(self, db, win: WindowState) -> tuple[Ticket | None, bool]:
        """Return (ticket, counts_as_priority) by the call-next rule in the module docstring."""
        if not win.domains:
            return None, False
        marks = ",".join("?" * len(win.domains))
        base = (
            f"SELECT * FROM tickets WHERE hall=? AND state='waiting' AND "
            f"(target_window=? OR (target_window IS NULL AND domain IN ({marks})))"
        )
        args = [self.hall, win.number, *win.domains]
        due_before = self.now() + self.config.queue.appointment_early_minutes * 60
        row = db.execute(
            base
            + " AND appointment_due IS NOT NULL AND appointment_due <= ? ORDER BY appointment_due, issued_at, id LIMIT 1",
            [*args, due_before],
        ).fetchone()
        if row is not None:
            return Ticket.from_row(row), False
        not_due = " AND (appointment_due IS NULL OR appointment_due <= ?)"
        prio = db.execute(
            base + not_due + " AND priority != 'normal' ORDER BY issued_at, id LIMIT 1", [*args, due_before]
        ).fetchone()
        normal = db.execute(
            base + not_due + " AND priority = 'normal' ORDER BY issued_at, id LIMIT 1", [*args, due_before]
        ).fetchone()
        if prio is not None and (normal is None or win.priority_streak < self.config.queue.max_priority_in_row):
            return Ticket.from_row(prio), True
        if normal is not None:
            return Ticket.from_row(normal), False
        return None, False

    def _end_current(self, db, win: WindowState, state: str, change: Change, actor: str) -> None:
        t = win.current
        if t is None:
            return
        now = self.now()
        db.execute("UPDATE tickets SET state=?, finished_at=? WHERE id=?", (state, now, t.id))
        db.execute(
            "UPDATE windows SET current_ticket=NULL, updated_at=? WHERE hall=? AND number=?",
            (now, self.hall, win.number),
        )
        t.state, t.finished_at = state, now
        change.events.append(
            (
                "ticket",
                {
                    "action": "finished" if state == "finished" else "no_show",
                    "ticket": t.public(),
                    "window": win.number,
                },
            )
        )
        change.domains.add(t.domain)
        self._apply_pending(db, win, change, actor)
        win.current = None

    def _apply_pending(self, db, win: WindowState, change: Change, actor: str) -> None:
        if win.pending_domains is None:
            return
        old = win.domains
        db.execute(
            "UPDATE windows SET domains=?, pending_domains=NULL, priority_streak=0, updated_at=? WHERE hall=? AND number=?",
            (json.dumps(win.pending_domains), self.now(), self.hall, win.number),
        )
        self._audit(
            db, actor, "window.assign.applied", f"window {win.number}", {"from": old, "to": win.pending_domains}
        )
        change.domains |= set(old) | set(win.pending_domains)
        change.events.append(
            (
                "audit",
                {
                    "action": "window.assign.applied",
                    "window": win.number,
                    "from": old,
                    "to": win.pending_domains,
                    "actor": actor,
                },
            )
        )
        win.domains, win.pending_domains = win.pending_domains, None

    def call_next(self, number: int, actor: str = "") -> tuple[Ticket | None, Change]:
        """Call the next ticket to a window. A ticket still at the window is finished first
        (a caller keypad has no separate finish key)."""
        change = Change(windows={number})
        with self.store.transaction() as db:
            win = self._window(db, number)
            if win.paused:
                raise QueueError(f"window {number} is paused; resume it first", "window_paused")
            if win.current is not None:
                self._end_current(db, win, "finished", change, actor)
            ticket, is_priority = self._choose_next(db, win)
            if ticket is None:
                return None, self._emit(change)
            now = self.now()
            streak = win.priority_streak + 1 if is_priority else (win.priority_streak if ticket.appointment_due else 0)
            db.execute("UPDATE tickets SET state='called', window=?, called_at=? WHERE id=?", (number, now, ticket.id))
            db.execute(
                "UPDATE windows SET current_ticket=?, priority_streak=?, updated_at=? WHERE hall=? AND number=?",
                (ticket.id, streak, now, self.hall, number),
            )
            ticket = self._ticket(db, ticket.id)
        change.domains.add(ticket.domain)
        change.events.append(("call", self.call_event(ticket, win, recall=False)))
        change.events.append(("ticket", {"action": "called", "ticket": ticket.public(), "window": number}))
        return ticket, self._emit(change)

    def call_event(self, ticket: Ticket, win: WindowState, recall: bool) -> dict:
        service = self._service(ticket.service)
        return {
            "ticket": ticket.code,
            "window": win.number,
            "window_name": win.name,
            "service": service.id,
            "service_name": service.name,
            "domain": ticket.domain,
            "recall": recall,
            "recalls": ticket.recalls,
            "announcement": announcement_zh(ticket.code, win.number),
            "announcement_en": announcement_en(ticket.code, win.number),
            "at": ticket.called_at,
        }

    def _current(self, db, number: int, states: tuple[str, ...] = ("called", "serving")) -> WindowState:
        win = self._window(db, number)
        if win.current is None or win.current.state not in states:
            raise QueueError(f"window {number} has no ticket {'/'.join(states)}", "no_current_ticket")
        return win

    def recall(self, number: int, actor: str = "") -> tuple[Ticket, Change]:
        change = Change(windows={number})
        with self.store.transaction() as db:
            win = self._current(db, number, ("called",))
            t = win.current
            if t.recalls >= self.config.queue.max_recalls:
                raise QueueError(
                    f"{t.code} was already recalled {t.recalls} times; mark it as a no-show", "recall_limit"
                )
            now = self.now()
            db.execute("UPDATE tickets SET recalls=recalls+1, called_at=? WHERE id=?", (now, t.id))
            t = self._ticket(db, t.id)
        change.events.append(("call", self.call_event(t, win, recall=True)))
        return t, self._emit(change)

    def start(self, number: int, actor: str = "") -> tuple[Ticket, Change]:
        change = Change(windows={number})
        with self.store.transaction() as db:
            win = self._current(db, number, ("called",))
            db.execute("UPDATE tickets SET state='serving', started_at=? WHERE id=?", (self.now(), win.current.id))
            t = self._ticket(db, win.current.id)
        change.events.append(("ticket", {"action": "started", "ticket": t.public(), "window": number}))
        return t, self._emit(change)

    def finish(self, number: int, actor: str = "") -> tuple[Ticket, Change]:
        change = Change(windows={number})
        with self.store.transaction() as db:
            win = self._current(db, number)
            t = win.current
            if t.started_at is None:  # finished straight from called: service started at the call
                db.execute("UPDATE tickets SET started_at=called_at WHERE id=?", (t.id,))
            self._end_current(db, win, "finished", change, actor)
            t = self._ticket(db, t.id)
        return t, self._emit(change)

    def no_show(self, number: int, actor: str = "") -> tuple[Ticket, Change]:
        change = Change(windows={number})
        with self.store.transaction() as db:
            win = self._current(db, number, ("called",))
            t = win.current
            self._end_current(db, win, "no_show", change, actor)
            t = self._ticket(db, t.id)
        return t, self._emit(change)

    def transfer(
        self, number: int, to_domain: str | None = None, to_window: int | None = None, actor: str = ""
    ) -> tuple[Ticket, Change]:
        """Send the window's current ticket to another domain or window; it waits there with its
        original issue time, so it is called ahead of later arrivals."""
        if (to_domain is None) == (to_window is None):
            raise QueueError("transfer needs exactly one of to_domain and to_window", "invalid_data")
        change = Change(windows={number})
        with self.store.transaction() as db:
            win = self._current(db, number)
            t = win.current
            if to_window is not None:
                target = self._window(db, to_window)
                if to_window == number:
                    raise QueueError("a ticket cannot be transferred to its own window", "invalid_data")
                domain = t.domain
            else:
                try:
                    self.config.domain(to_domain)
                except KeyError:
                    raise NotFound(f"no domain {to_domain!r}") from None
                domain, target = to_domain, None
            db.execute(
                "UPDATE tickets SET state='waiting', domain=?, target_window=?, window=NULL, called_at=NULL, "
                "started_at=NULL, recalls=0, transfers=transfers+1 WHERE id=?",
                (domain, to_window, t.id),
            )
            db.execute(
                "UPDATE windows SET current_ticket=NULL, updated_at=? WHERE hall=? AND number=?",
                (self.now(), self.hall, number),
            )
            self._audit(
                db,
                actor,
                "ticket.transfer",
                t.code,
                {"from_window": number, "to_domain": to_domain, "to_window": to_window},
            )
            self._apply_pending(db, win, change, actor)
            t = self._ticket(db, t.id)
        change.domains |= {win.current.domain, domain}
        if target is not None:
            change.windows.add(target.number)
        change.events.append(
            (
                "ticket",
                {
                    "action": "transferred",
                    "ticket": t.public(),
                    "window": number,
                    "to_domain": to_domain,
                    "to_window": to_window,
                },
            )
        )
        return t, self._emit(change)

    def pause(self, number: int, reason: str = "", actor: str = "") -> Change:
        change = Change(windows={number})
        with self.store.transaction() as db:
            win = self._window(db, number)
            db.execute(
                "UPDATE windows SET paused=1, pause_reason=?, updated_at=? WHERE hall=? AND number=?",
                (reason, self.now(), self.hall, number),
            )
            self._audit(db, actor, "window.pause", f"window {number}", {"reason": reason})
        change.domains |= set(win.domains)
        return self._emit(change)

    def resume(self, number: int, actor: str = "") -> Change:
        change = Change(windows={number})
        with self.store.transaction() as db:
            win = self._window(db, number)
            db.execute(
                "UPDATE windows SET paused=0, pause_reason='', updated_at=? WHERE hall=? AND number=?",
                (self.now(), self.hall, number),
            )
            self._audit(db, actor, "window.resume", f"window {number}", {})
        change.domains |= set(win.domains)
        return self._emit(change)

    def assign(self, number: int, domains: list[str], actor: str, reason: str = "") -> tuple[bool, Change]:
        """Reassign a window's domains. Takes effect now if the window is free, otherwise when
        its current ticket ends (never mid-service). Returns (applied_now, change)."""
        if not domains:
            raise QueueError("a window serves at least one domain", "invalid_data")
        for d in domains:
            try:
                self.config.domain(d)
            except KeyError:
                raise NotFound(f"no domain {d!r}") from None
        cfg = self._window_cfg(number)
        lacking = [d for d in domains if d not in cfg.skills]
        if lacking:
            raise QueueError(
                f"the clerk at window {number} is not skilled for {', '.join(lacking)} (skills: {', '.join(cfg.skills)})",
                "skill_mismatch",
            )
        change = Change(windows={number})
        domains = list(dict.fromkeys(domains))
        with self.store.transaction() as db:
            win = self._window(db, number)
            self._audit(
                db,
                actor,
                "window.assign",
                f"window {number}",
                {"from": win.domains, "to": domains, "reason": reason, "deferred": win.current is not None},
            )
            db.execute(
                "UPDATE windows SET pending_domains=?, updated_at=? WHERE hall=? AND number=?",
                (json.dumps(domains), self.now(), self.hall, number),
            )
            win.pending_domains = domains
            applied = win.current is None
            if applied:
                self._apply_pending(db, win, change, actor)
        change.events.append(
            (
                "audit",
                {
                    "action": "window.assign",
                    "window": number,
                    "to": domains,
                    "actor": actor,
                    "reason": reason,
                    "applied_now": applied,
                },
            )
        )
        return applied, self._emit(change)

    def audit(self, actor: str, action: str, target: str, detail: dict) -> None:
        """Append an audit record (features use this for their own manager actions)."""
        with self.store.transaction() as db:
            self._audit(db, actor, action, target, detail)

    @_locked
    def audit_log(self, limit: int = 100) -> list[dict]:
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
