"""Staff consoles as plain models: the window terminal (soft caller) and the manager console.

Both talk to the controller over the bus; their actions block for a request, so the UI runs them
on a worker thread. A failed action never raises into the screen: it becomes ``message`` (and
``error=True``) in the view, in the console's language.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from hall_bus.bus import topics
from hall_bus.bus.envelope import Envelope, M, model_of
from hall_bus.contracts.base import Anything, Empty
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
from hall_bus.contracts.tidal import Accept, Accepted, Load, Proposals, Reject, Rejected
from kiosk.bus_views import queue_extra, window_extra
from kiosk.i18n import name_of, tr
from kiosk.ports import BusPort, error_detail

R = TypeVar("R", WindowRequest, WindowTransfer, WindowPause)


def _reason(exc: Exception) -> str:
    return error_detail(exc)


class _Console:
    def __init__(self, bus: BusPort, lang: str = "zh", timeout: float = 5.0) -> None:
        self.bus = bus
        self.lang = lang
        self.timeout = timeout
        self.message = ""
        self.error = False
        self.hall: dict[str, Any] = {}
        self.listeners: list[Callable[[Any], None]] = []
        self._lock = threading.Lock()

    def _changed(self) -> None:
        for fn in list(self.listeners):
            fn(self)

    def _call(self, op: str, request: BaseModel, reply: type[M]) -> M | None:
        """The typed request ``op``; None (and the reason in ``message``) when it failed."""
        try:
            out = self.bus.call(op, request, reply, timeout=self.timeout)
        except Exception as exc:
            self.message, self.error = _reason(exc), True
            self._changed()
            return None
        self.error = False
        return out

    def load_hall(self) -> bool:
        out = self._call("hall.info", Empty(), Anything)
        if out is not None:
            self.hall = out.model_dump()  # the hall layout is free-form in the contract (Anything)
            self._changed()
        return out is not None

    def service_name(self, service_id: str) -> str:
        s = next((s for s in self.hall.get("services", []) if s["id"] == service_id), None)
        return name_of(s, self.lang) if s else service_id

    def domain_name(self, domain_id: str) -> str:
        d = next((d for d in self.hall.get("domains", []) if d["id"] == domain_id), None)
        return name_of(d, self.lang) if d else domain_id


class WindowTerminal(_Console):
    """The soft caller of one window (窗口软呼叫器): call next, recall, no-show, transfer, finish, pause."""

    def __init__(
        self, bus: Any, hall_id: str, window: int, staff: str = "", lang: str = "zh", timeout: float = 5.0
    ) -> None:
        super().__init__(bus, lang, timeout)
        self.subscriber = bus
        self.hall_id = hall_id
        self.window = window
        self.staff = staff
        self.state: WindowView | None = None

    def attach(self) -> WindowTerminal:
        self.subscriber.subscribe(topics.window_state(self.hall_id, self.window), self._on_state)
        return self

    def switch(self, window: int) -> None:
        """Show another window (the demo's terminal can serve any window)."""
        self.window = window
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

    def _by_staff(self, request: R) -> R:
        """``request`` signed with this terminal's staff id (when it has one)."""
        if self.staff:
            request.staff = self.staff
        return request

    def _op(self, op: str, request: BaseModel, reply: type[M]) -> M | None:
        out = self._call(op, request, reply)
        if out is not None:
            if isinstance(out, WindowCalled) and out.ticket is None:
                self.message = tr("terminal.no_one", self.lang)
            elif isinstance(out, WindowCalled | WindowRecalled) and out.call is not None:
                call = out.call.model_dump()  # the call block is free-form in the contract (Anything)
                self.message = str(call.get("announcement_en" if self.lang == "en" else "announcement", ""))
            elif isinstance(out, WindowRecalled | WindowTicket):
                self.message = f"{out.ticket.code}: {out.ticket.state}"
            else:
                self.message = ""
            self._changed()
        return out

    def _window_op(self, op: str, reply: type[M]) -> M | None:
        return self._op(op, self._by_staff(WindowRequest(window=self.window)), reply)

    def call_next(self) -> WindowCalled | None:
        return self._window_op("window.call", WindowCalled)

    def recall(self) -> WindowRecalled | None:
        return self._window_op("window.recall", WindowRecalled)

    def start(self) -> WindowTicket | None:
        return self._window_op("window.start", WindowTicket)

    def no_show(self) -> WindowTicket | None:
        return self._window_op("window.no_show", WindowTicket)

    def finish(self) -> WindowTicket | None:
        return self._window_op("window.finish", WindowTicket)

    def transfer(self, to_domain: str | None = None, to_window: int | None = None) -> WindowTicket | None:
        request = self._by_staff(WindowTransfer(window=self.window))
        if to_domain:
            request.to_domain = to_domain
        if to_window:
            request.to_window = int(to_window)
        return self._op("window.transfer", request, WindowTicket)

    def pause(self, reason: str = "") -> WindowOne | None:
        request = self._by_staff(WindowPause(window=self.window))
        if reason:
            request.reason = reason
        return self._op("window.pause", request, WindowOne)

    def resume(self) -> WindowOne | None:
        return self._window_op("window.resume", WindowOne)

    def view(self) -> dict[str, Any]:
        s = self.state
        more = window_extra(s) if s else None
        cur = more.current if more else None
        paused = bool(more and more.paused)
        state = s.state if s else "idle"
        lang = self.lang
        name = (s.name if s else "") or f"{self.window}"
        return {
            "title": tr("terminal.title", lang, window=name),
            "window": self.window,
            "state": state,
            "paused": paused,
            "current": cur.code if cur else tr("terminal.none", lang),
            "has_current": cur is not None,
            "current_state": tr(
                {"called": "display.calling", "serving": "display.serving"}.get(cur.state, "display.idle"), lang
            )
            if cur
            else "",
            "current_service": self.service_name(cur.service) if cur else "",
            "waiting_text": tr("terminal.waiting", lang, n=more.waiting if more else 0),
            "domains": [self.domain_name(d) for d in (s.domains if s else [])],
            "transfer_domains": [{"id": d["id"], "label": name_of(d, lang)} for d in self.hall.get("domains", [])],
            "windows": [w["number"] for w in self.hall.get("windows", [])],
            "message": self.message,
            "error": self.error,
            "buttons": [
                {"id": b, "label": tr(f"terminal.{b}", lang)}
                for b in ("call", "recall", "start", "no_show", "transfer", "finish", "resume" if paused else "pause")
            ],
        }


class ManagerConsole(_Console):
    """Windows with their domains and queues; reassign; tidal load and proposals when the feature runs."""

    def __init__(self, bus: Any, hall_id: str, actor: str = "manager", lang: str = "zh", timeout: float = 5.0) -> None:
        super().__init__(bus, lang, timeout)
        self.subscriber = bus
        self.hall_id = hall_id
        self.actor = actor
        self.windows: dict[int, WindowView] = {}
        self.queues: dict[str, DomainQueue] = {}
        self.tidal_load: Load | None = None
        self.proposals: Proposals | None = None

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

    def accept(self, proposal_id: str) -> Accepted | None:
        out = self._call("tidal.accept", Accept(proposal_id=proposal_id, actor=self.actor), Accepted)
        if out is not None:
            self.message = f"{tr('manager.accept', self.lang)}: {proposal_id}"
            self._changed()
        return out

    def reject(self, proposal_id: str, reason: str = "") -> Rejected | None:
        given = {"reason": reason} if reason else {}
        out = self._call("tidal.reject", Reject(proposal_id=proposal_id, actor=self.actor, **given), Rejected)
        if out is not None:
            self.message = f"{tr('manager.reject', self.lang)}: {proposal_id}"
            self._changed()
        return out

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
                    "state": w.state,
                    "domains": list(w.domains),
                    "domain_names": [self.domain_name(d) for d in w.domains],
                    "skills": list(more.skills),
                    "pending": tr("manager.pending", lang, domains="、".join(self.domain_name(d) for d in pending))
                    if pending
                    else "",
                    "current": more.current.code if more.current else "",
                    "waiting": more.waiting,
                }
            )
        queues = []
        for d in self.hall.get("domains", []):
            q = self.queues.get(d["id"])
            queues.append(
                {
                    "domain": d["id"],
                    "label": name_of(d, lang),
                    "waiting": q.waiting if q else 0,
                    "estimated_wait_min": queue_extra(q).estimated_wait_min if q else None,
                }
            )
        pending_rows = []
        if self.proposals:
            for p in self.proposals.pending:
                pending_rows.append(
                    {
                        "id": p.id,
                        "window": p.window,
                        "to": [self.domain_name(d) for d in p.to_domains],
                        "reason": p.reason_en if lang == "en" and p.reason_en else p.reason,
                    }
                )
        load = None
        if self.tidal_load:
            load = [
                {
                    "domain": d.domain,
                    "label": d.name_en if lang == "en" and d.name_en else d.name,
                    "waiting": d.waiting,
                    "expected_wait_min": d.expected_wait_min,
                    "windows": list(d.windows),
                }
                for d in self.tidal_load.domains
            ]
        return {
            "title": tr("manager.title", lang),
            "windows": rows,
            "queues": queues,
            "proposals": pending_rows,
            "tidal": self.tidal_load is not None or self.proposals is not None,
            "load": load,
            "message": self.message,
            "error": self.error,
            "domains": [{"id": d["id"], "label": name_of(d, lang)} for d in self.hall.get("domains", [])],
        }
