"""Rejected messages, logged without letting a flood fill the disk; and the inbox that keeps one
client's flood from delaying everybody else's requests.

The first rejection from a source in an interval is logged at once with its reason; later ones in
the same interval are only counted, and one summary line per source gives the counts by code when
the interval ends (``kiosk-1: 79,999 more messages rejected in 60 s (invalid_json 50,000, ...)``).
Totals by code stay in ``by_code`` for monitoring.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("hall_bus.bus.rejects")

MAX_SOURCES = 1000  # sources tracked per interval; beyond that they share one line


class RejectLog:
    def __init__(self, owner: str, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.owner = owner
        self.interval_s = interval_s
        self.clock = clock
        self.by_code: collections.Counter[str] = collections.Counter()
        self._since = clock()
        self._quiet: dict[str, collections.Counter[str]] = {}  # source -> codes counted, not logged
        self._lock = threading.Lock()

    def note(self, source: str, code: str, detail: str) -> None:
        """Count one rejected message from ``source`` (a client id, or ``?``) with its error code."""
        now = self.clock()
        with self._lock:
            self.by_code[code] += 1
            if now - self._since >= self.interval_s:
                self._flush_locked(now)
            if source not in self._quiet and len(self._quiet) >= MAX_SOURCES:
                source = "(other sources)"
            counts = self._quiet.get(source)
            if counts is None:
                self._quiet[source] = collections.Counter()
                log.warning("%s: rejected a message from %s: %s (%s)", self.owner, source, detail[:300], code)
            else:
                counts[code] += 1

    def flush(self) -> None:
        """Write the summary lines of an interval that has ended (called from a periodic tick)."""
        now = self.clock()
        with self._lock:
            if now - self._since >= self.interval_s:
                self._flush_locked(now)

    def _flush_locked(self, now: float) -> None:
        for source, counts in self._quiet.items():
            total = sum(counts.values())
            if total:
                parts = ", ".join(f"{code} {n:,}" for code, n in counts.most_common())
                log.warning(
                    "%s: %s: %s more message(s) rejected in the last %.0f s (%s)",
                    self.owner,
                    source,
                    f"{total:,}",
                    now - self._since,
                    parts,
                )
        self._quiet.clear()
        self._since = now


REQUESTS_PER_CLIENT = 64  # requests one client may have waiting (a kiosk has a few); beyond, its oldest go


class FairInbox:
    """Requests waiting for the dispatch thread, one queue per requester, taken round robin.

    The requester is the client segment of the request topic (``.../client/<id>/request/<op>``, what
    the broker authenticated), read without parsing the payload. A client with more than
    :data:`REQUESTS_PER_CLIENT` waiting loses its oldest (counted as ``overloaded``).
    """

    def __init__(self, rejects: RejectLog, limit: int = REQUESTS_PER_CLIENT) -> None:
        self.rejects = rejects
        self.limit = limit
        self._queues: dict[str, collections.deque[tuple[Any, ...]]] = {}
        self._turns: collections.deque[str] = collections.deque()
        self._lock = threading.Lock()

    def put(self, topic: str, item: tuple[Any, ...]) -> None:
        parts = topic.split("/")
        who = parts[-3] if len(parts) >= 4 else "?"
        dropped = False
        with self._lock:
            q = self._queues.get(who)
            if q is None:
                q = self._queues[who] = collections.deque()
                self._turns.append(who)
            if len(q) >= self.limit:
                q.popleft()
                dropped = True
            q.append(item)
        if dropped:
            self.rejects.note(who, "overloaded", f"more than {self.limit} requests waiting; the oldest was dropped")

    def take(self) -> tuple[Any, ...] | None:
        with self._lock:
            while self._turns:
                who = self._turns.popleft()
                q = self._queues[who]
                item = q.popleft()
                if q:
                    self._turns.append(who)
                else:
                    del self._queues[who]
                return item
            return None

    def full(self, who: str) -> bool:
        """Has ``who`` its fill of requests waiting (reading more of them would only drop the oldest)?"""
        with self._lock:
            q = self._queues.get(who)
            return q is not None and len(q) >= self.limit

    def __len__(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())
