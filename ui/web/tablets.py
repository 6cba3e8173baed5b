"""Window tablets (评价平板): pairing a browser to a window's pad device, and the web console as the
host of those pads on the bus.

A tablet is not a person: it logs in as a device. A manager makes a one-time 6-digit code for a pad
whose ``host`` is "web" (or whose URL is ``web://``; :func:`hall_bus.bus.credentials.web_hosted`);
the tablet enters it at ``/tablet`` and gets a long-lived signed device cookie. Only a hash of the
cookie's token is stored (table ``tablet_pairings`` of ``web.db``), so a pairing survives a restart
and a manager can unpair. A code works once and for ``[web] pairing_code_min`` minutes; five wrong
codes in a row void every outstanding code (a 6-digit code cannot be guessed in five tries).

:class:`TabletPads` serves ``device/<pad>/request/pad.evaluate`` for those pads exactly as the window
host serves a serial pad: it answers ``accepted`` at once (``pad_offline`` when no tablet of the pad
is connected), shows the request on the paired tablets, and publishes the citizen's press, or the
timeout after ``timeout_s``, as ``pad.evaluation`` on ``device/<pad>/event/evaluation``. One press
per request: the request is gone once answered. The pad's health is ``ready`` (available
``online``) while a tablet is connected and ``offline`` otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, Signer

from devices.config import DeviceConfig
from hall_bus.bus import envelope, topics
from hall_bus.bus.client import BusClient, ServiceError
from hall_bus.bus.credentials import web_hosted
from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.config import HallConfig
from hall_bus.contracts.base import as_data
from hall_bus.contracts.devices import PadAccepted, PadEvaluate, PadEvaluation
from hall_bus.vocabulary import BAD_LEVELS, LEVELS, REASONS
from ui.web.accounts import web_key
from ui.web.app import WebContext
from ui.web.live import HallLive
from ui.web.sse import offer

log = logging.getLogger(__name__)

CODE_DIGITS = 6
MAX_WRONG_CODES = 5
SWEEP_S = 0.5


class TabletError(Exception):
    """A refusal with the code the tablet shows a sentence for."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def tablet_pads(config: HallConfig) -> dict[str, DeviceConfig]:
    """The pads the web console hosts (device id -> device), each at a window."""
    return {d.id: d for d in config.devices if d.kind == "pad" and web_hosted(d) and d.window is not None}


@dataclass(frozen=True)
class Code:
    device_id: str
    expires: float
    by: str = ""  # the staff number of the manager who made it


class Pairings:
    """One-time pairing codes (in memory) and paired tablets (``web.db``, only a hash of each token)."""

    def __init__(self, db: sqlite3.Connection, data_dir: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, Code] = {}
        self._wrong = 0
        self._signer = Signer(web_key(Path(data_dir)), salt="hallkit-web-tablet")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS tablet_pairings (token_hash TEXT PRIMARY KEY, device_id TEXT NOT NULL, "
            "paired_at REAL NOT NULL, code_by TEXT NOT NULL DEFAULT '')"
        )

    def new_code(self, device_id: str, minutes: int, by: str = "") -> tuple[str, float]:
        """A fresh code for ``device_id`` (an older one for it is void); returns it and its expiry."""
        expires = self.clock() + minutes * 60
        with self._lock:
            self._codes = {
                c: v for c, v in self._codes.items() if v.device_id != device_id and v.expires > self.clock()
            }
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            while code in self._codes:
                code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            self._codes[code] = Code(device_id, expires, by)
        log.info("web: pairing code for %s made by %s", device_id, by or "?")
        return code, expires

    def pair(self, code: str) -> tuple[str, str]:
        """Use ``code`` (once): the signed cookie value of the new pairing and the device it pairs."""
        with self._lock:
            found = self._codes.pop(code.strip(), None)
            if found is None or found.expires <= self.clock():
                self._wrong += 1
                if self._wrong >= MAX_WRONG_CODES:
                    self._codes.clear()
                    self._wrong = 0
                raise TabletError("pairing_invalid")
            self._wrong = 0
            token = secrets.token_urlsafe(32)
            self.db.execute(
                "INSERT INTO tablet_pairings (token_hash, device_id, paired_at, code_by) VALUES (?,?,?,?)",
                (_hash(token), found.device_id, self.clock(), found.by),
            )
        log.info("web: a tablet paired as %s", found.device_id)
        return self._signer.sign(token).decode(), found.device_id

    def device_of(self, cookie: str | None) -> str | None:
        """The pad a device cookie is paired as, or None (unsigned, unknown or unpaired)."""
        token = self._token(cookie)
        if token is None:
            return None
        with self._lock:
            row = self.db.execute(
                "SELECT device_id FROM tablet_pairings WHERE token_hash=?", (_hash(token),)
            ).fetchone()
        return None if row is None else str(row[0])

    def csrf_of(self, cookie: str | None) -> str:
        """The tablet's CSRF token (derived from its pairing; the tablet page carries it)."""
        token = self._token(cookie) or ""
        return hmac.new(token.encode(), b"hallkit-tablet-csrf", hashlib.sha256).hexdigest()[:32]

    def paired(self, device_id: str) -> list[float]:
        """When each tablet paired as ``device_id`` was paired."""
        with self._lock:
            rows = self.db.execute(
                "SELECT paired_at FROM tablet_pairings WHERE device_id=? ORDER BY paired_at", (device_id,)
            ).fetchall()
        return [float(r[0]) for r in rows]

    def unpair(self, device_id: str) -> int:
        """Forget every tablet paired as ``device_id`` (their cookies stop working); returns how many."""
        with self._lock:
            cur = self.db.execute("DELETE FROM tablet_pairings WHERE device_id=?", (device_id,))
        return cur.rowcount

    def _token(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._signer.unsign(cookie.encode()).decode()
        except BadSignature:
            return None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


Feed = tuple[asyncio.AbstractEventLoop, "asyncio.Queue[tuple[str, Any]]"]


@dataclass
class Asked:
    """A pad.evaluate request a tablet shows until it is answered or times out."""

    request: PadEvaluate
    deadline: float


class TabletPads:
    """The web console as host of the tablet pads (see the module docstring)."""

    def __init__(self, config: HallConfig, bus: BusClient, live: HallLive, clock: Callable[[], float] = time.time):
        self.config = config
        self.bus = bus
        self.live = live
        self.clock = clock
        self.hall = config.hall_id
        self.pads = tablet_pads(config)
        self._lock = threading.Lock()
        self._feeds: dict[str, list[Feed]] = {pad: [] for pad in self.pads}
        self.asked: dict[str, Asked] = {}
        self._stopping = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="web-tablet-sweep", daemon=True)

    def start(self) -> TabletPads:
        for pad in self.pads:
            self.bus.serve(topics.device_request(self.hall, pad, "pad.evaluate"), self._handler(pad))
            self._health(pad, False)
        self.live.listeners.append(self._on_live)
        self._sweeper.start()
        return self

    def stop(self) -> None:
        """Offline on the bus; the open tablet streams end (``bye``) so the server can stop at once."""
        self._stopping.set()
        for pad in self.pads:
            self._push(pad, "bye", None)
            self._health(pad, False)

    def window_of(self, pad: str) -> int:
        window = self.pads[pad].window
        assert window is not None
        return window

    # ------------------------------------------------------------------ the controller's requests (dispatch thread)
    def _handler(self, pad: str) -> Callable[[Envelope], dict[str, Any]]:
        return lambda env: self._serve_evaluate(pad, env)

    def _serve_evaluate(self, pad: str, env: Envelope) -> dict[str, Any]:
        req = model_of(env, PadEvaluate)
        if req.window != self.window_of(pad):
            raise ServiceError("wrong_window", f"this pad belongs to window {self.window_of(pad)}, not {req.window}")
        if not self.connected(pad):
            raise ServiceError("pad_offline", f"no tablet of {pad} is connected")
        with self._lock:
            replaced = self.asked.pop(pad, None)
            self.asked[pad] = Asked(req, self.clock() + req.timeout_s)
        if replaced is not None:  # a tablet holds one request, as a serial pad does
            self._answer(pad, replaced.request, None, None)
        self._push(pad, "evaluate", self.asked_view(pad))
        return as_data(PadAccepted(accepted=True))

    def asked_view(self, pad: str) -> dict[str, Any] | None:
        with self._lock:
            asked = self.asked.get(pad)
        if asked is None:
            return None
        return {**as_data(asked.request), "remaining_s": max(0, round(asked.deadline - self.clock()))}

    # ------------------------------------------------------------------ the citizen's press
    def rate(self, pad: str, ticket: str, level: int, reason: str | None) -> None:
        """The press on a tablet; TabletError ``not_asked`` when no request for ``ticket`` is open (it
        was rated already, timed out or replaced), ``bad_form`` for a level or reason out of the scale."""
        if level not in LEVELS or (level in BAD_LEVELS) != (reason is not None) or (reason and reason not in REASONS):
            raise TabletError("bad_form")
        with self._lock:
            asked = self.asked.get(pad)
            if asked is None or asked.request.ticket != ticket:
                raise TabletError("tablet_not_asked")
            del self.asked[pad]
        self._answer(pad, asked.request, level, reason)

    def _answer(self, pad: str, req: PadEvaluate, level: int | None, reason: str | None) -> None:
        event = PadEvaluation.model_validate(
            {
                "ticket": req.ticket,
                "ticket_id": req.ticket_id,
                "window": req.window,
                "level": level,
                "level_name": LEVELS.get(level) if level else None,
                "reason": reason,
                "timed_out": level is None,
                "at": time.time(),
            }
        )
        self.bus.publish_event(topics.device_event(self.hall, pad, "evaluation"), "pad.evaluation", as_data(event))
        self._push(pad, "evaluate_end", {"ticket": req.ticket, "rated": level is not None})

    def _sweep_loop(self) -> None:
        while not self._stopping.wait(SWEEP_S):
            now = self.clock()
            with self._lock:
                over = [(pad, a) for pad, a in self.asked.items() if a.deadline <= now]
                for pad, _ in over:
                    del self.asked[pad]
            for pad, asked in over:
                self._answer(pad, asked.request, None, None)

    # ------------------------------------------------------------------ the tablets' streams
    def open_feed(self, pad: str) -> asyncio.Queue[tuple[str, Any]]:
        """A queue of what ``pad``'s tablet must show (call on the server's event loop)."""
        q: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=200)
        with self._lock:
            self._feeds[pad].append((asyncio.get_running_loop(), q))
            first = len(self._feeds[pad]) == 1
        if first:
            self._health(pad, True)
        return q

    def close_feed(self, pad: str, q: asyncio.Queue[tuple[str, Any]]) -> None:
        with self._lock:
            self._feeds[pad] = [(loop, other) for loop, other in self._feeds[pad] if other is not q]
            last = not self._feeds[pad]
        if last and not self._stopping.is_set():
            self._health(pad, False)

    def connected(self, pad: str) -> bool:
        with self._lock:
            return bool(self._feeds.get(pad))

    def _on_live(self, key: str, data: Any) -> None:
        kind, _, rest = key.partition("/")
        if kind in ("window", "desk") and rest.isdigit():
            for pad in self.pads:
                if self.window_of(pad) == int(rest):
                    self._push(pad, "change", {"topic": key, "data": data})

    def _push(self, pad: str, event: str, data: Any) -> None:
        with self._lock:
            feeds = list(self._feeds.get(pad, []))
        for loop, q in feeds:
            try:
                loop.call_soon_threadsafe(offer, q, (event, data))
            except RuntimeError:  # the page's loop is gone
                pass

    def _health(self, pad: str, online: bool) -> None:
        status = {
            "id": pad,
            "kind": "pad",
            "state": "ready" if online else "offline",
            "detail": "" if online else "no tablet connected",
            "profile": "web-tablet",
            "since": time.time(),
        }
        self.bus.publish_raw(
            topics.device_availability(self.hall, pad), envelope.availability(pad, online).to_json(), retain=True
        )
        self.bus.publish_state(topics.device_state(self.hall, pad), "device.state", status)


@dataclass
class Tablets:
    pairings: Pairings
    pads: TabletPads


_start_lock = threading.Lock()


def tablets_of(web: WebContext) -> Tablets:
    """The console's tablets, started on first use (``WebServer.start`` may call this to serve the pads
    from the start); stopped with the console."""
    with _start_lock:
        found = web.extras.get("tablets")
        if isinstance(found, Tablets):
            return found
        pads = TabletPads(web.config, web.bus, web.live).start()
        made = Tablets(Pairings(web.accounts.db, web.config.data_dir), pads)
        web.extras["tablets"] = made
        web.extras.setdefault("on_stop", []).append(pads.stop)
        return made
