"""Window operations: calling, recalling, starting, finishing, no-shows, transfers, pauses and
domain assignment, by the call-next rule below (docs/queue.md states it for staff and managers).

Call-next rule:

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

import json
import sqlite3
from typing import Any

from hall_bus.queue.announce import announcement_en, announcement_zh
from hall_bus.queue.base import EngineBase
from hall_bus.queue.models import Change, NotFound, QueueError, Ticket, WindowState


class WindowOps(EngineBase):
    def _choose_next(self, db: sqlite3.Connection, win: WindowState) -> tuple[Ticket | None, bool]:
        """Return (ticket, counts_as_priority) by the call-next rule in the module docstring."""
        if not win.domains:
            return None, False
        marks = ",".join("?" * len(win.domains))
        base = (
            f"SELECT * FROM tickets WHERE hall=? AND state='waiting' AND "
            f"(target_window=? OR (target_window IS NULL AND domain IN ({marks})))"
        )
        args: list[Any] = [self.hall, win.number, *win.domains]
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

    def _end_current(self, db: sqlite3.Connection, win: WindowState, state: str, change: Change, actor: str) -> None:
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

    def _apply_pending(self, db: sqlite3.Connection, win: WindowState, change: Change, actor: str) -> None:
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
            self._audit_desk(db, actor, "window.call", number, ticket)
        change.domains.add(ticket.domain)
        change.events.append(("call", self.call_event(ticket, win, recall=False)))
        change.events.append(("ticket", {"action": "called", "ticket": ticket.public(), "window": number}))
        return ticket, self._emit(change)

    def _audit_desk(self, db: sqlite3.Connection, actor: str, action: str, number: int, ticket: Ticket) -> None:
        """A clerk's action at a window, audited with who did it (the bus client and, from the web
        console, the logged-in staff member); the engine's own moves (no actor) are not staff actions."""
        if actor:
            self._audit(db, actor, action, f"window {number}", {"ticket": ticket.code})

    def call_event(self, ticket: Ticket, win: WindowState, recall: bool) -> dict[str, Any]:
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

    def _current(
        self, db: sqlite3.Connection, number: int, states: tuple[str, ...] = ("called", "serving")
    ) -> tuple[WindowState, Ticket]:
        """The window and its current ticket, which must be in one of ``states``."""
        win = self._window(db, number)
        if win.current is None or win.current.state not in states:
            raise QueueError(f"window {number} has no ticket {'/'.join(states)}", "no_current_ticket")
        return win, win.current

    def recall(self, number: int, actor: str = "") -> tuple[Ticket, Change]:
        change = Change(windows={number})
        with self.store.transaction() as db:
            win, t = self._current(db, number, ("called",))
            if t.recalls >= self.config.queue.max_recalls:
                raise QueueError(
                    f"{t.code} was already recalled {t.recalls} times; mark it as a no-show", "recall_limit"
                )
            now = self.now()
            db.execute("UPDATE tickets SET recalls=recalls+1, called_at=? WHERE id=?", (now, t.id))
            t = self._ticket(db, t.id)
            self._audit_desk(db, actor, "window.recall", number, t)
        change.events.append(("call", self.call_event(t, win, recall=True)))
        return t, self._emit(change)

    def start(self, number: int, actor: str = "") -> tuple[Ticket, Change]:
        change = Change(windows={number})
        with self.store.transaction() as db:
            _, t = self._current(db, number, ("called",))
            db.execute("UPDATE tickets SET state='serving', started_at=? WHERE id=?", (self.now(), t.id))
            t = self._ticket(db, t.id)
            self._audit_desk(db, actor, "window.start", number, t)
        change.events.append(("ticket", {"action": "started", "ticket": t.public(), "window": number}))
        return t, self._emit(change)

    def finish(self, number: int, actor: str = "") -> tuple[Ticket, Change]:
        change = Change(windows={number})
        with self.store.transaction() as db:
            win, t = self._current(db, number)
            if t.started_at is None:  # finished straight from called: service started at the call
                db.execute("UPDATE tickets SET started_at=called_at WHERE id=?", (t.id,))
            self._end_current(db, win, "finished", change, actor)
            t = self._ticket(db, t.id)
            self._audit_desk(db, actor, "window.finish", number, t)
        return t, self._emit(change)

    def no_show(self, number: int, actor: str = "") -> tuple[Ticket, Change]:
        change = Change(windows={number})
        with self.store.transaction() as db:
            win, t = self._current(db, number, ("called",))
            self._end_current(db, win, "no_show", change, actor)
            t = self._ticket(db, t.id)
            self._audit_desk(db, actor, "window.no_show", number, t)
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
            win, t = self._current(db, number)
            from_domain = t.domain
            target: WindowState | None = None
            if to_window is not None:
                target = self._window(db, to_window)
                if to_window == number:
                    raise QueueError("a ticket cannot be transferred to its own window", "invalid_data")
                domain = t.domain
            else:
                assert to_domain is not None  # exactly one of the two, checked above
                try:
                    self.config.domain(to_domain)
                except KeyError:
                    raise NotFound(f"no domain {to_domain!r}") from None
                domain = to_domain
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
        change.domains |= {from_domain, domain}
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
