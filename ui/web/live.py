"""The hall as the web console sees it, live from the bus, and its feed to the browsers.

:class:`HallLive` subscribes to the retained states (hall, queues, windows, tidal load and proposals),
the devices' health and availability, the clients' availability and the events, keeps the latest of
each, and tells its listeners of every change. The browsers get the changes as server-sent events
(``/api/stream``): each is ``{"topic": <kind>/<key>, "data": ...}`` where the kind is ``queue``,
``window``, ``hall``, ``state``, ``device``, ``device-availability``, ``client-availability``,
``event`` or ``alert``. A page loads the current picture from ``/api/live`` and then applies the
changes; nothing is polled.

A route that asks the controller for something whose end comes later as an event (a receipt printed
at a window: ``mandate.print`` answers with a job, the ``print`` event tells how it ended) waits in
its own thread with :meth:`HallLive.wait_event`: it takes :meth:`HallLive.event_mark` before asking
(the event may arrive before the answer), and a condition variable wakes it on every event.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from hall_bus.bus import topics
from hall_bus.bus.client import BusClient
from hall_bus.bus.envelope import Envelope
from ui.web.sse import offer

log = logging.getLogger(__name__)

Listener = Callable[[str, Any], None]
RECENT_EVENTS = 512  # events kept for waiters (a waiter looks only at those after its mark)


class HallLive:
    def __init__(self, bus: BusClient, hall_id: str) -> None:
        self.bus = bus
        self.hall_id = hall_id
        self._root = topics.hall(hall_id) + "/"
        self._lock = threading.Lock()
        self.latest: dict[str, Any] = {}  # "<kind>/<key>" -> data
        self.listeners: list[Listener] = []
        self._feeds: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[tuple[str, Any]]]] = []
        self._events = threading.Condition()
        self._event_seq = 0
        self._recent: collections.deque[tuple[int, str, Any]] = collections.deque(maxlen=RECENT_EVENTS)
        h = topics.hall(hall_id)
        for filt in (
            f"{h}/state/#",
            f"{h}/device/+/state",
            f"{h}/device/+/availability",
            f"{h}/client/+/availability",
            f"{h}/event/#",
        ):
            bus.subscribe(filt, self._on_message)

    # ------------------------------------------------------------------ from the bus (dispatch thread)
    def _on_message(self, topic: str, env: Envelope) -> None:
        key = self.key_of(topic)
        if key is None:
            return
        data = env.data
        if env.kind == "availability":  # (its news is the envelope's state; it has no data)
            data = {"online": env.state == "online", "state": env.state}
        self.publish(key, data)

    def key_of(self, topic: str) -> str | None:
        if not topic.startswith(self._root):
            return None
        parts = topic[len(self._root) :].split("/")
        if parts[0] == "state" and len(parts) == 2 and parts[1] == "hall":
            return "hall/info"
        if parts[0] == "state" and len(parts) == 3 and parts[1] in ("queue", "window"):
            return f"{parts[1]}/{parts[2]}"
        if parts[0] == "state":
            return "state/" + "/".join(parts[1:])
        if parts[0] == "device" and len(parts) == 3 and parts[2] in ("state", "availability"):
            return f"device/{parts[1]}" if parts[2] == "state" else f"device-availability/{parts[1]}"
        if parts[0] == "client" and len(parts) == 3 and parts[2] == "availability":
            return f"client-availability/{parts[1]}"
        if parts[0] == "event":
            return "event/" + "/".join(parts[1:])
        return None

    def publish(self, key: str, data: Any) -> None:
        """Keep a state (anything but an event; ``None`` forgets it) and tell the listeners (alerts ...) and every open
        browser feed of the change."""
        if not key.startswith("event/"):
            with self._lock:
                if data is None:  # (gone: nobody at a desk)
                    self.latest.pop(key, None)
                else:
                    self.latest[key] = data
        else:
            with self._events:
                self._event_seq += 1
                self._recent.append((self._event_seq, key, data))
                self._events.notify_all()
        for listener in list(self.listeners):
            try:
                listener(key, data)
            except Exception:
                log.exception("web: live listener failed on %s", key)
        with self._lock:
            feeds = list(self._feeds)
        for loop, q in feeds:
            try:
                loop.call_soon_threadsafe(offer, q, (key, data))
            except RuntimeError:  # the page's loop is gone
                pass

    # ------------------------------------------------------------------ to the pages
    def snapshot(self, prefixes: tuple[str, ...] = ()) -> dict[str, Any]:
        with self._lock:
            return {k: v for k, v in self.latest.items() if not prefixes or k.startswith(prefixes)}

    def get(self, key: str) -> Any:
        with self._lock:
            return self.latest.get(key)

    def event_mark(self) -> int:
        """Where the events are now: :meth:`wait_event` looks only at the events after it."""
        with self._events:
            return self._event_seq

    def wait_event(self, key: str, match: Callable[[Any], bool], after: int, timeout: float) -> Any:
        """The data of the first event ``key`` (e.g. ``event/print``) after the mark ``after`` for which
        ``match(data)`` holds, waiting up to ``timeout`` seconds for it (blocks: call it from a worker
        thread, never from the server's event loop); None if none came."""
        deadline = time.monotonic() + timeout
        with self._events:
            seen = after
            while True:
                for seq, k, data in self._recent:
                    if seq > seen and k == key and match(data):
                        return data
                seen = self._event_seq
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._events.wait(left)

    def feed(self) -> asyncio.Queue[tuple[str, Any]]:
        """A queue of changes for one browser connection (call on the server's event loop)."""
        q: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._feeds.append((asyncio.get_running_loop(), q))
        return q

    def unfeed(self, q: asyncio.Queue[tuple[str, Any]]) -> None:
        with self._lock:
            self._feeds = [(loop, other) for loop, other in self._feeds if other is not q]
