"""What one client address may do on the pages without a login (the phone pages): a sliding window
of events per address, kept in this web server's memory (a restart forgets it).

The address is the TCP peer the server sees. Behind a reverse proxy every phone has the proxy's
address, so a hall that puts one in front must raise the limits (docs/citizen-web.md).
"""

from __future__ import annotations

import threading
from collections import deque

from ui.web.app import WebContext

MAX_CLIENTS = 10_000  # addresses remembered before the quiet ones are forgotten


class ClientWindow:
    """Events per client address within the last ``window_s`` seconds; ``blocked`` at ``limit``."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._seen.setdefault(client, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, client: str, now: float) -> bool:
        with self._lock:
            return len(self._recent(client, now)) >= self.limit

    def count(self, client: str, now: float) -> None:
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._seen) > MAX_CLIENTS:
                for key in [k for k, v in self._seen.items() if not v]:
                    del self._seen[key]


def window_of(web: WebContext, key: str, limit: int, window_s: float) -> ClientWindow:
    """The web server's one :class:`ClientWindow` named ``key`` (made on first use)."""
    found = web.extras.get(key)
    if not isinstance(found, ClientWindow):
        found = web.extras[key] = ClientWindow(limit, window_s)
    return found
