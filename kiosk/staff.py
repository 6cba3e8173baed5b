"""The window terminal (soft caller) as a plain model.

It talks to the controller over the bus, logged in as its window (``window-<n>``, which the bus lets
act on that window only); its actions block for a request, so the UI runs them on a worker thread.
A failed action never raises into the screen: it becomes ``message`` (and ``error=True``) in the
view, the sentence of its error code in the console's language (``kiosk.i18n.errors``); the
controller's own detail goes to the log only. Times are the hall's (``kiosk.clock``).

The hall manager's console is the staff web console (``ui/web``), which has a login.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hall_bus.bus import topics
from hall_bus.bus.envelope import Envelope, M, model_of
from hall_bus.contracts.base import Empty
from hall_bus.contracts.queue import (
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
from kiosk.bus_views import window_extra
from kiosk.clock import hall_time
from kiosk.consoles import Console
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
