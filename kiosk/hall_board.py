"""The hall display (综合屏) model: current call per window, recent calls, waiting per domain.

It listens to the controller's retained state (``state/window/+``, ``state/queue/+``,
``state/hall``) and to call events (``event/call``); the screen only draws ``view()`` and speaks
each new call (``on_call`` listeners get the call event data, with the text to speak). A window
outside its hours with nobody at it says so (已下班, or 仅办预约 in appointment-only hours); one
finishing the day's queue shows its work as usual. Its clock is
the hall's (``kiosk.clock``: the ``timezone`` of ``state/hall``), not the machine's.
Bus handlers run on the bus client's dispatch thread; listeners must hop to their own thread.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from typing import Any

from hall_bus.bus import topics
from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.contracts.base import Anything
from hall_bus.contracts.queue import CallEvent, DomainQueue, WindowView
from hall_bus.queue.announce import spoken_zh
from kiosk.bus_views import queue_extra, window_extra
from kiosk.clock import clock_text
from kiosk.i18n import name_of, tr

RECENT = 8
STATE_KEYS = {
    "calling": "display.calling",
    "serving": "display.serving",
    "paused": "display.paused",
    "closed": "display.closed",
    "appointments": "display.appointments",
}


def wait_minutes(estimate: float) -> int:
    """The queue snapshot's estimated wait as the whole minutes a person is shown (at least 1 while anyone waits)."""
    return max(1, round(estimate))


class HallBoard:
    def __init__(self, hall_id: str, lang: str = "zh") -> None:
        self.hall_id = hall_id
        self.lang = lang
        self.hall: dict[str, Any] = {}
        self.windows: dict[int, WindowView] = {}
        self.queues: dict[str, DomainQueue] = {}
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=RECENT)  # calls, with spoken_zh
        self.listeners: list[Callable[[HallBoard], None]] = []
        self.call_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._lock = threading.Lock()

    def attach(self, bus: Any) -> HallBoard:
        # calls first: once any retained state has arrived, the broker has the call subscription too
        bus.subscribe(topics.event(self.hall_id, "call"), self._on_call)
        bus.subscribe(topics.hall_state(self.hall_id), self._on_hall)
        bus.subscribe(topics.window_state(self.hall_id, 0).rsplit("/", 1)[0] + "/+", self._on_window)
        bus.subscribe(topics.queue_state(self.hall_id, "x").rsplit("/", 1)[0] + "/+", self._on_queue)
        return self

    # ------------------------------------------------------------------ bus handlers
    def _on_hall(self, topic: str, env: Envelope) -> None:
        hall = model_of(env, Anything).model_dump()  # the hall layout is free-form in the contract (Anything)
        with self._lock:
            self.hall = hall
        self._changed()

    def _on_window(self, topic: str, env: Envelope) -> None:
        window = model_of(env, WindowView)
        with self._lock:
            self.windows[window.number] = window
        self._changed()

    def _on_queue(self, topic: str, env: Envelope) -> None:
        queue = model_of(env, DomainQueue)
        with self._lock:
            self.queues[queue.domain] = queue
        self._changed()

    def _on_call(self, topic: str, env: Envelope) -> None:
        self.add_call(model_of(env, CallEvent))

    def add_call(self, event: CallEvent) -> None:
        """A call to show and speak; listeners get its data (extras such as announcement_en kept) and spoken_zh."""
        call = event.model_dump()
        call.setdefault("spoken_zh", spoken_zh(event.ticket, event.window))
        with self._lock:
            self.recent.appendleft(call)
        for fn in list(self.call_listeners):
            fn(call)
        self._changed()

    def _changed(self) -> None:
        for fn in list(self.listeners):
            fn(self)

    # ------------------------------------------------------------------ view
    def view(self) -> dict[str, Any]:
        lang = self.lang
        with self._lock:
            windows = [self.windows[n] for n in sorted(self.windows)]
            queues = dict(self.queues)
            recent = list(self.recent)
            hall = dict(self.hall)
        rows = []
        for w in windows:
            more = window_extra(w)
            cur = more.current
            state = "paused" if more.paused else (w.state or "idle")  # a paused window says so, even mid-service
            if state == "idle" and w.hours in ("closed", "appointments"):
                state = w.hours  # its hours now (finishing: still serving the day's queue, shown as it works)
            rows.append(
                {
                    "number": w.number,
                    # hall.toml names windows in Chinese; in English the display says "Window 3"
                    "name": (w.name or str(w.number)) if lang != "en" else tr("terminal.window_no", lang, n=w.number),
                    "ticket": cur.code if cur else "",
                    "state": state,
                    "hours": w.hours,
                    "state_label": tr(STATE_KEYS.get(state, "display.idle"), lang),
                }
            )
        domains = hall.get("domains") or [
            {"id": d, "name": queue_extra(q).name or d, "name_en": queue_extra(q).name_en} for d, q in queues.items()
        ]
        waiting = []
        for d in domains:
            q = queues.get(d["id"])
            est = queue_extra(q).estimated_wait_min if q else None
            n = q.waiting if q else 0
            waiting.append(
                {
                    "domain": d["id"],
                    "label": name_of(d, lang),
                    "waiting": n,
                    "estimated_wait_min": est,
                    "wait_text": tr("display.wait_min", lang, m=wait_minutes(est)) if n and est is not None else "",
                }
            )
        calls = [
            {
                "ticket": c["ticket"],
                "window": c["window"],
                "text": c.get("announcement_en")
                if lang == "en" and c.get("announcement_en")
                else c.get("announcement", ""),
            }
            for c in recent
        ]
        hall_name = (hall.get("name_en") or hall.get("name", "")) if lang == "en" else hall.get("name", "")
        return {
            "title": tr("display.title", lang),
            "hall_name": hall_name,
            "clock": clock_text(hall),  # the hall's time zone (hall.info), not this machine's
            "windows": rows,
            "recent": calls,
            "latest": calls[0] if calls else None,
            "waiting": waiting,
            "labels": {
                "ticket": tr("display.ticket", lang),
                "window": tr("display.window", lang),
                "recent": tr("display.recent", lang),
                "waiting": tr("display.waiting", lang),
            },
        }
