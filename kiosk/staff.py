"""Staff consoles as plain models: the window terminal (soft caller) and the manager console.

Both talk to the controller over the bus; their actions block for a request, so the UI runs them
on a worker thread. A failed action never raises into the screen: it becomes ``message`` (and
``error=True``) in the view, in the console's language.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from hall_bus.bus import topics
from kiosk.i18n import name_of, tr
from kiosk.ports import error_detail


def _reason(exc: Exception) -> str:
    return error_detail(exc)


class _Console:
    def __init__(self, bus: Any, lang: str = "zh", timeout: float = 5.0) -> None:
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

    def _request(self, op: str, data: dict[str, Any]) -> Any:
        try:
            out = self.bus.request(op, data, timeout=self.timeout)
        except Exception as exc:
            self.message, self.error = _reason(exc), True
            self._changed()
            return None
        self.error = False
        return out

    def load_hall(self) -> bool:
        out = self._request("hall.info", {})
        if out is not None:
            self.hall = out
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
        self.hall_id = hall_id
        self.window = window
        self.staff = staff
        self.state: dict[str, Any] = {}

    def attach(self) -> WindowTerminal:
        self.bus.subscribe(topics.window_state(self.hall_id, self.window), self._on_state)
        return self

    def switch(self, window: int) -> None:
        """Show another window (the demo's terminal can serve any window)."""
        self.window = window
        self.state = {}
        self.message = ""
        self.attach()
        self.refresh()

    def _on_state(self, topic: str, env: Any) -> None:
        if int(env.data.get("number", -1)) == self.window:
            self.state = dict(env.data)
            self._changed()

    def refresh(self) -> None:
        out = self._request("windows.list", {})
        if out:
            for w in out["windows"]:
                if w["number"] == self.window:
                    self.state = w
            self._changed()

    def _op(self, op: str, **extra: Any) -> Any:
        data = {"window": self.window, **extra}
        if self.staff:
            data["staff"] = self.staff
        out = self._request(op, data)
        if out is not None:
            ticket = out.get("ticket") if isinstance(out, dict) else None
            if op == "window.call" and not ticket:
                self.message = tr("terminal.no_one", self.lang)
            elif isinstance(out, dict) and out.get("call"):
                self.message = out["call"].get("announcement_en" if self.lang == "en" else "announcement", "")
            elif ticket:
                self.message = f"{ticket['code']}: {ticket['state']}"
            else:
                self.message = ""
            self._changed()
        return out

    def call_next(self) -> Any:
        return self._op("window.call")

    def recall(self) -> Any:
        return self._op("window.recall")

    def start(self) -> Any:
        return self._op("window.start")

    def no_show(self) -> Any:
        return self._op("window.no_show")

    def finish(self) -> Any:
        return self._op("window.finish")

    def transfer(self, to_domain: str | None = None, to_window: int | None = None) -> Any:
        extra: dict[str, Any] = {}
        if to_domain:
            extra["to_domain"] = to_domain
        if to_window:
            extra["to_window"] = int(to_window)
        return self._op("window.transfer", **extra)

    def pause(self, reason: str = "") -> Any:
        return self._op("window.pause", reason=reason) if reason else self._op("window.pause")

    def resume(self) -> Any:
        return self._op("window.resume")

    def view(self) -> dict[str, Any]:
        s = self.state
        cur = s.get("current") or None
        paused = bool(s.get("paused"))
        state = s.get("state", "idle")
        lang = self.lang
        name = s.get("name") or f"{self.window}"
        return {
            "title": tr("terminal.title", lang, window=name),
            "window": self.window,
            "state": state,
            "paused": paused,
            "current": cur["code"] if cur else tr("terminal.none", lang),
            "has_current": cur is not None,
            "current_state": tr(
                {"called": "display.calling", "serving": "display.serving"}.get(cur["state"], "display.idle"), lang
            )
            if cur
            else "",
            "current_service": self.service_name(cur["service"]) if cur else "",
            "waiting_text": tr("terminal.waiting", lang, n=s.get("waiting", 0)),
            "domains": [self.domain_name(d) for d in s.get("domains", [])],
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
        self.hall_id = hall_id
        self.actor = actor
        self.windows: dict[int, dict[str, Any]] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self.tidal_load: dict[str, Any] | None = None
        self.proposals: dict[str, Any] | None = None

    def attach(self) -> ManagerConsole:
        base = topics.hall(self.hall_id)
        self.bus.subscribe(f"{base}/state/window/+", self._on_window)
        self.bus.subscribe(f"{base}/state/queue/+", self._on_queue)
        self.bus.subscribe(topics.state(self.hall_id, "tidal", "load"), self._on_load)
        self.bus.subscribe(topics.state(self.hall_id, "tidal", "proposals"), self._on_proposals)
        return self

    def _on_window(self, topic: str, env: Any) -> None:
        self.windows[int(env.data["number"])] = dict(env.data)
        self._changed()

    def _on_queue(self, topic: str, env: Any) -> None:
        self.queues[env.data["domain"]] = dict(env.data)
        self._changed()

    def _on_load(self, topic: str, env: Any) -> None:
        self.tidal_load = dict(env.data)
        self._changed()

    def _on_proposals(self, topic: str, env: Any) -> None:
        self.proposals = dict(env.data)
        self._changed()

    def refresh(self) -> None:
        out = self._request("windows.list", {})
        if out:
            self.windows = {w["number"]: w for w in out["windows"]}
            self._changed()

    def reassign(self, window: int, domains: list[str], reason: str = "") -> Any:
        data: dict[str, Any] = {"window": int(window), "domains": list(domains), "actor": self.actor}
        if reason:
            data["reason"] = reason
        out = self._request("window.assign", data)
        if out is not None:
            self.windows[int(window)] = out["window"]
            self.message = tr("manager.applied" if out["applied_now"] else "manager.deferred", self.lang, window=window)
            self._changed()
        return out

    def accept(self, proposal_id: str) -> Any:
        out = self._request("tidal.accept", {"proposal_id": proposal_id, "actor": self.actor})
        if out is not None:
            self.message = f"{tr('manager.accept', self.lang)}: {proposal_id}"
            self._changed()
        return out

    def reject(self, proposal_id: str, reason: str = "") -> Any:
        data = {"proposal_id": proposal_id, "actor": self.actor}
        if reason:
            data["reason"] = reason
        out = self._request("tidal.reject", data)
        if out is not None:
            self.message = f"{tr('manager.reject', self.lang)}: {proposal_id}"
            self._changed()
        return out

    def view(self) -> dict[str, Any]:
        lang = self.lang
        rows = []
        for n in sorted(self.windows):
            w = self.windows[n]
            cur = w.get("current") or None
            pending = w.get("pending_domains")
            rows.append(
                {
                    "number": n,
                    "name": w.get("name", str(n)),
                    "state": w.get("state", ""),
                    "domains": list(w.get("domains", [])),
                    "domain_names": [self.domain_name(d) for d in w.get("domains", [])],
                    "skills": list(w.get("skills", [])),
                    "pending": tr("manager.pending", lang, domains="、".join(self.domain_name(d) for d in pending))
                    if pending
                    else "",
                    "current": cur["code"] if cur else "",
                    "waiting": w.get("waiting", 0),
                }
            )
        queues = [
            {
                "domain": d["id"],
                "label": name_of(d, lang),
                "waiting": self.queues.get(d["id"], {}).get("waiting", 0),
                "estimated_wait_min": self.queues.get(d["id"], {}).get("estimated_wait_min"),
            }
            for d in self.hall.get("domains", [])
        ]
        pending = []
        if self.proposals:
            for p in self.proposals.get("pending", []):
                pending.append(
                    {
                        "id": p["id"],
                        "window": p["window"],
                        "to": [self.domain_name(d) for d in p["to_domains"]],
                        "reason": p.get("reason_en") if lang == "en" and p.get("reason_en") else p.get("reason", ""),
                    }
                )
        load = None
        if self.tidal_load:
            load = [
                {
                    "domain": d["domain"],
                    "label": name_of(d, lang),
                    "waiting": d["waiting"],
                    "expected_wait_min": d.get("expected_wait_min"),
                    "windows": d.get("windows", []),
                }
                for d in self.tidal_load.get("domains", [])
            ]
        return {
            "title": tr("manager.title", lang),
            "windows": rows,
            "queues": queues,
            "proposals": pending,
            "tidal": self.tidal_load is not None or self.proposals is not None,
            "load": load,
            "message": self.message,
            "error": self.error,
            "domains": [{"id": d["id"], "label": name_of(d, lang)} for d in self.hall.get("domains", [])],
        }
