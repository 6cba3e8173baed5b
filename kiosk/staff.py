"""Staff consoles as plain models: the window terminal (soft caller) and the manager console.

Both talk to the controller over the bus; their actions block for a request, so the UI runs them
on a worker thread. A failed action never raises into the screen: it becomes ``message`` (and
``error=True``) in the view, the sentence of its error code in the console's language
(``kiosk.i18n.errors``); the controller's own detail goes to the log only. Times are the hall's
(``kiosk.clock``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hall_bus.bus import topics
from hall_bus.bus.envelope import Envelope, M, model_of
from hall_bus.contracts.base import Empty
from hall_bus.contracts.queue import (
    DomainQueue,
    WindowAssign,
    WindowAssigned,
    WindowCalled,
    WindowList,
    WindowOne,
    WindowPause,
    WindowRecalled,
    WindowRequest,
    WindowTicket,
    WindowTransfer,
    WindowView,
)
from hall_bus.contracts.tidal import Accept, Accepted, Load, Proposal, Proposals, Reject, Rejected
from kiosk.bus_views import queue_extra, window_extra
from kiosk.clock import hall_time
from kiosk.consoles import Console
from kiosk.hall_board import wait_minutes
from kiosk.i18n import name_of, tr

log = logging.getLogger(__name__)

R = TypeVar("R", WindowRequest, WindowTransfer, WindowPause)
PRIORITY_KEYS = ("elderly", "disabled", "pregnant", "military")  # terminal.priority.<key>


class TerminalTicket(BaseModel):
    """The window's current ticket as the clerk needs it (the controller's public view of a ticket)."""

    code: str
    state: str = ""
    service: str = ""
    domain: str = ""
    priority: str = "normal"
    appointment: str | None = None
    appointment_due: float | None = None
    transfers: int = 0


class WindowTerminal(Console):
    """The soft caller of one window (窗口软呼叫器): call next, recall, no-show, transfer, finish, pause."""

    def __init__(
        self,
        bus: Any,
        hall_id: str,
        window: int,
        staff: str = "",
        lang: str = "zh",
        timeout: float = 5.0,
        bus_for: Callable[[int], Any] | None = None,
    ) -> None:
        super().__init__(bus, lang, timeout)
        self.subscriber = bus
        self.bus_for = bus_for  # a terminal that may switch windows asks as the window it shows
        self.hall_id = hall_id
        self.window = window
        self.staff = staff
        self.state: WindowView | None = None

    def attach(self) -> WindowTerminal:
        self.subscriber.subscribe(topics.window_state(self.hall_id, self.window), self._on_state)
        return self

    def switch(self, window: int) -> None:
        """Show another window (the demo's terminal can serve any window, logged in as that window)."""
        self.window = window
        if self.bus_for is not None:
            self.bus = self.bus_for(window)
        self.state = None
        self.message = ""
        self.attach()
        self.refresh()

    def _on_state(self, topic: str, env: Envelope) -> None:
        window = model_of(env, WindowView)
        if window.number == self.window:
            self.state = window
            self._changed()

    def refresh(self) -> None:
        out = self._call("windows.list", Empty(), WindowList)
        if out:
            for w in out.windows:
                if w.number == self.window:
                    self.state = w
            self._changed()

    def current(self) -> TerminalTicket | None:
        """The ticket at this window, with its green-channel class and appointment."""
        raw = (self.state.model_extra or {}).get("current") if self.state else None
        try:
            return TerminalTicket.model_validate(raw) if raw else None
        except ValidationError:
            log.warning("window %s: unreadable current ticket %r", self.window, raw)
            return None

    def _by_staff(self, request: R) -> R:
        """``request`` signed with this terminal's staff id (when it has one)."""
        if self.staff:
            request.staff = self.staff
        return request

    def _op(self, op: str, request: BaseModel, reply: type[M], done: str = "", **values: Any) -> M | None:
        """Request ``op``; on success ``message`` says what happened (``done``: its key, with ``values``)."""
        out = self._call(op, request, reply)
        if out is not None:
            if isinstance(out, WindowCalled) and out.ticket is None:
                self.message = tr("terminal.no_one", self.lang)
            elif isinstance(out, WindowCalled | WindowRecalled) and out.call is not None:
                call = out.call.model_dump()  # the call block is free-form in the contract (Anything)
                self.message = str(call.get("announcement_en" if self.lang == "en" else "announcement", ""))
            elif isinstance(out, WindowTicket) and done:
                self.message = tr(done, self.lang, ticket=out.ticket.code, **values)
            else:
                self.message = tr(done, self.lang) if done else ""
            self._changed()
        return out

    def _window_op(self, op: str, reply: type[M], done: str = "") -> M | None:
        return self._op(op, self._by_staff(WindowRequest(window=self.window)), reply, done)

    def call_next(self) -> WindowCalled | None:
        return self._window_op("window.call", WindowCalled)

    def recall(self) -> WindowRecalled | None:
        return self._window_op("window.recall", WindowRecalled)

    def start(self) -> WindowTicket | None:
        return self._window_op("window.start", WindowTicket, "terminal.started")

    def no_show(self) -> WindowTicket | None:
        return self._window_op("window.no_show", WindowTicket, "terminal.no_showed")

    def finish(self) -> WindowTicket | None:
        return self._window_op("window.finish", WindowTicket, "terminal.finished")

    def transfer(self, to_domain: str | None = None, to_window: int | None = None) -> WindowTicket | None:
        request, to = self._by_staff(WindowTransfer(window=self.window)), ""
        if to_domain:
            request.to_domain = to_domain
            to = self.domain_name(to_domain)
        if to_window:
            request.to_window = int(to_window)
            to = tr("terminal.window_no", self.lang, n=to_window)
        return self._op("window.transfer", request, WindowTicket, "terminal.transferred", to=to)

    def pause(self, reason: str = "") -> WindowOne | None:
        request = self._by_staff(WindowPause(window=self.window))
        if reason:
            request.reason = reason
        return self._op("window.pause", request, WindowOne, "terminal.paused_now")

    def resume(self) -> WindowOne | None:
        return self._window_op("window.resume", WindowOne, "terminal.resumed")

    def transfer_targets(self, cur: TerminalTicket | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Where the current ticket may go: the other domains, and the other windows skilled for its domain."""
        if cur is None:
            return [], []
        domains = [{"id": d["id"], "label": name_of(d, self.lang)} for d in self.hall.get("domains", [])]
        windows = [
            {"number": w["number"], "label": w.get("name") or tr("terminal.window_no", self.lang, n=w["number"])}
            for w in self.hall.get("windows", [])
            if w["number"] != self.window and (not cur.domain or cur.domain in w.get("skills", [cur.domain]))
        ]
        return [d for d in domains if d["id"] != cur.domain], windows

    def ticket_notes(self, cur: TerminalTicket) -> list[str]:
        """What the clerk must see about the ticket: its green-channel class, its appointment, its transfers."""
        lang, notes = self.lang, []
        if cur.priority != "normal":
            kind = tr(f"terminal.priority.{cur.priority}", lang) if cur.priority in PRIORITY_KEYS else cur.priority
            notes.append(tr("terminal.green", lang, kind=kind))
        if cur.appointment:
            slot = "" if cur.appointment_due is None else f"{hall_time(self.hall, cur.appointment_due):%H:%M}"
            notes.append(tr("terminal.appointment", lang, code=cur.appointment, slot=slot).strip())
        if cur.transfers:
            notes.append(tr("terminal.transfers", lang, n=cur.transfers))
        return notes

    def view(self) -> dict[str, Any]:
        s = self.state
        more = window_extra(s) if s else None
        cur = self.current()
        paused = bool(more and more.paused)
        state = "paused" if paused else (s.state if s else "idle")
        lang = self.lang
        name = (s.name if s else "") or f"{self.window}"
        if paused:
            status = tr("terminal.paused_state", lang)
        elif cur:
            status = tr(
                {"called": "display.calling", "serving": "display.serving"}.get(cur.state, "display.idle"), lang
            )
        else:
            status = ""
        transfer_domains, transfer_windows = self.transfer_targets(cur)
        return {
            "title": tr("terminal.title", lang, window=name),
            "clock": self.clock(),
            "window": self.window,
            "state": state,
            "paused": paused,
            "current": cur.code if cur else tr("terminal.none", lang),
            "has_current": cur is not None,
            "current_state": status,
            "current_service": self.service_name(cur.service) if cur else "",
            "priority": cur.priority if cur else "",
            "appointment": cur.appointment if cur and cur.appointment else "",
            "notes": self.ticket_notes(cur) if cur else [],
            "waiting_text": tr("terminal.waiting", lang, n=more.waiting if more else 0),
            "domains": [self.domain_name(d) for d in (s.domains if s else [])],
            "domains_text": self.names(list(s.domains) if s else []),
            "transfer_domains": transfer_domains,
            "transfer_windows": transfer_windows,
            "windows": [w["number"] for w in self.hall.get("windows", [])],
            "message": self.message,
            "error": self.error,
            "buttons": [
                {"id": b, "label": tr(f"terminal.{b}", lang)}
                for b in ("call", "recall", "start", "no_show", "transfer", "finish", "resume" if paused else "pause")
            ],
        }


class ManagerConsole(Console):
    """Windows with their domains and queues; reassign; tidal load and proposals when the feature runs.

    One figure per domain: its waiting count and the queue snapshot's estimated wait (the estimate the
    kiosk and the hall display show), in minutes; the tidal load adds the windows serving it and its
    utilisation, bounded at 100% (more is "beyond capacity"). A proposal is shown while it is pending:
    not once its state, its expiry or the window's domains say it is stale, nor once decided here.
    """

    def __init__(
        self,
        bus: Any,
        hall_id: str,
        actor: str = "manager",
        lang: str = "zh",
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(bus, lang, timeout)
        self.subscriber = bus
        self.hall_id = hall_id
        self.actor = actor
        self.now = clock
        self.windows: dict[int, WindowView] = {}
        self.queues: dict[str, DomainQueue] = {}
        self.tidal_load: Load | None = None
        self.proposals: Proposals | None = None
        self.decided: set[str] = set()  # proposals decided (or found stale) here, hidden at once

    def attach(self) -> ManagerConsole:
        base = topics.hall(self.hall_id)
        self.subscriber.subscribe(f"{base}/state/window/+", self._on_window)
        self.subscriber.subscribe(f"{base}/state/queue/+", self._on_queue)
        self.subscriber.subscribe(topics.state(self.hall_id, "tidal", "load"), self._on_load)
        self.subscriber.subscribe(topics.state(self.hall_id, "tidal", "proposals"), self._on_proposals)
        return self

    def _on_window(self, topic: str, env: Envelope) -> None:
        window = model_of(env, WindowView)
        self.windows[window.number] = window
        self._changed()

    def _on_queue(self, topic: str, env: Envelope) -> None:
        queue = model_of(env, DomainQueue)
        self.queues[queue.domain] = queue
        self._changed()

    def _on_load(self, topic: str, env: Envelope) -> None:
        self.tidal_load = model_of(env, Load)
        self._changed()

    def _on_proposals(self, topic: str, env: Envelope) -> None:
        self.proposals = model_of(env, Proposals)
        self.decided &= {p.id for p in self.proposals.pending}  # forget what the snapshot no longer lists
        self._changed()

    def refresh(self) -> None:
        out = self._call("windows.list", Empty(), WindowList)
        if out:
            self.windows = {w.number: w for w in out.windows}
            self._changed()

    def reassign(self, window: int, domains: list[str], reason: str = "") -> WindowAssigned | None:
        given = {"reason": reason} if reason else {}
        request = WindowAssign(window=int(window), domains=list(domains), actor=self.actor, **given)
        out = self._call("window.assign", request, WindowAssigned)
        if out is not None:
            self.windows[int(window)] = out.window
            self.message = tr("manager.applied" if out.applied_now else "manager.deferred", self.lang, window=window)
            self._changed()
        return out

    def _decide(self, proposal_id: str, done: str, op: str, request: BaseModel, reply: type[M]) -> M | None:
        p = next((p for p in self.proposals.pending if p.id == proposal_id), None) if self.proposals else None
        out = self._call(op, request, reply)
        if out is not None or self.error_code in ("proposal_closed", "proposal_stale", "not_found"):
            self.decided.add(proposal_id)  # decided, or the controller says it is no longer pending
        if out is not None:
            self.message = tr(done, self.lang, **self._proposal_words(p)) if p else ""
            self._changed()
        return out

    def accept(self, proposal_id: str) -> Accepted | None:
        request = Accept(proposal_id=proposal_id, actor=self.actor)
        return self._decide(proposal_id, "manager.accepted", "tidal.accept", request, Accepted)

    def reject(self, proposal_id: str, reason: str = "") -> Rejected | None:
        given = {"reason": reason} if reason else {}
        request = Reject(proposal_id=proposal_id, actor=self.actor, **given)
        return self._decide(proposal_id, "manager.rejected", "tidal.reject", request, Rejected)

    def stale(self, p: Proposal) -> bool:
        """A pending proposal that no longer applies: expired, decided here, or its window moved meanwhile."""
        if p.state != "pending" or p.id in self.decided or p.expires_at <= self.now():
            return True
        w = self.windows.get(p.window)
        if w is None:
            return False
        to, serves, pending = set(p.to_domains), set(w.domains), set(window_extra(w).pending_domains or [])
        if to == serves or (pending and to == pending):
            return True  # applied already, or about to be after the current ticket
        return bool(p.from_domains) and set(p.from_domains) != serves  # the window moved since

    def _proposal_words(self, p: Proposal) -> dict[str, str]:
        name = p.window_name or tr("terminal.window_no", self.lang, n=p.window)
        return {"window": name, "to": self.names(p.to_domains), "from": self.names(p.from_domains) or "—"}

    def _domain_rows(self, lang: str) -> list[dict[str, Any]]:
        load = {d.domain: d for d in self.tidal_load.domains} if self.tidal_load else {}
        serving: dict[str, list[int]] = {}
        for n in sorted(self.windows):
            for d in self.windows[n].domains:
                serving.setdefault(d, []).append(n)
        rows = []
        for d in self.hall.get("domains", []):
            q, dl = self.queues.get(d["id"]), load.get(d["id"])
            waiting = q.waiting if q else (dl.waiting if dl else 0)
            est = queue_extra(q).estimated_wait_min if q else None
            windows = list(dl.windows) if dl else serving.get(d["id"], [])
            util = dl.utilisation if dl else None
            text = (
                tr("manager.domain_row", lang, n=waiting, m=wait_minutes(est))
                if waiting and est is not None
                else tr("manager.domain_row_unknown", lang, n=waiting)
            )
            wins = ",".join(str(n) for n in windows)
            parts = [text, tr("manager.windows_of", lang, windows=wins) if wins else tr("manager.no_window", lang)]
            if util is not None:
                over = util > 1.0
                pct = 100 if over else round(util * 100)
                parts.append(tr("manager.util_over", lang) if over else tr("manager.util", lang, pct=pct))
            else:
                over, pct = False, None
            rows.append(
                {
                    "domain": d["id"],
                    "label": name_of(d, lang),
                    "waiting": waiting,
                    "estimated_wait_min": est,
                    "windows": windows,
                    "utilisation_pct": pct,
                    "overloaded": over,
                    "text": " · ".join(parts),
                }
            )
        return rows

    def view(self) -> dict[str, Any]:
        lang = self.lang
        rows = []
        for n in sorted(self.windows):
            w = self.windows[n]
            more = window_extra(w)
            pending = more.pending_domains
            rows.append(
                {
                    "number": n,
                    "name": w.name or str(n),
                    "state": "paused" if more.paused else w.state,
                    "domains": list(w.domains),
                    "domain_names": [self.domain_name(d) for d in w.domains],
                    "domains_text": self.names(list(w.domains)),
                    "skills": list(more.skills),
                    "pending": tr("manager.pending", lang, domains=self.names(pending)) if pending else "",
                    "current": more.current.code if more.current else "",
                    "waiting": more.waiting,
                }
            )
        proposals = [
            {
                "id": p.id,
                "window": p.window,
                "to": [self.domain_name(d) for d in p.to_domains],
                "kind": tr(f"manager.kind.{p.kind}", lang),
                "text": tr(
                    "manager.proposal", lang, kind=tr(f"manager.kind.{p.kind}", lang), **self._proposal_words(p)
                ),
            }
            for p in (self.proposals.pending if self.proposals else [])
            if not self.stale(p)
        ]
        return {
            "title": tr("manager.title", lang),
            "clock": self.clock(),
            "windows": rows,
            "queues": self._domain_rows(lang),
            "proposals": proposals,
            "tidal": self.tidal_load is not None or self.proposals is not None,
            "message": self.message,
            "error": self.error,
            "domains": [{"id": d["id"], "label": name_of(d, lang)} for d in self.hall.get("domains", [])],
        }
