"""What every part of the queue engine stands on: the config, the store, the injected clock, the
change listeners, the row readers (tickets, window states) and the plain reads.

:class:`~hall_bus.queue.engine.QueueEngine` is built on this: estimates (:mod:`hall_bus.queue.estimates`),
window operations (:mod:`hall_bus.queue.windows`), then issuing and the audit log (:mod:`hall_bus.queue.engine`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from hall_bus.config import HallConfig, Service, Window, schedule
from hall_bus.controller.store import Store
from hall_bus.queue.models import Change, ConfiguredEstimator, HandlingTimeEstimator, NotFound, Ticket, WindowState

P = ParamSpec("P")
R = TypeVar("R")
E = TypeVar("E", bound="EngineBase")


def locked(method: Callable[Concatenate[E, P], R]) -> Callable[Concatenate[E, P], R]:
    """Reads take the store lock too, so they never see another thread's open transaction."""

    @functools.wraps(method)
    def wrapper(self: E, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.store.lock:
            return method(self, *args, **kwargs)

    return wrapper


class EngineBase:
    def __init__(
        self,
        config: HallConfig,
        store: Store,
        clock: Callable[[], float] = time.time,
        estimator: HandlingTimeEstimator | None = None,
    ) -> None:
        self.config = config
        self.hall = config.hall_id
        self.store = store
        self.clock = clock
        self.estimator: HandlingTimeEstimator = estimator or ConfiguredEstimator(config)
        self.listeners: list[Callable[[Change], None]] = []
        self._init_windows()

    # ------------------------------------------------------------------ helpers
    def now(self) -> float:
        return self.clock()

    def local(self, ts: float | None = None) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now() if ts is None else ts, self.config.tz())

    def today(self) -> str:
        return self.local().date().isoformat()

    def _emit(self, change: Change) -> Change:
        for listener in self.listeners:
            listener(change)
        return change

    def _audit(self, db: sqlite3.Connection, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO audit (hall, at, actor, action, target, detail) VALUES (?,?,?,?,?,?)",
            (self.hall, self.now(), actor, action, target, json.dumps(detail, ensure_ascii=False)),
        )

    def _init_windows(self) -> None:
        with self.store.transaction() as db:
            known = {r["number"] for r in db.execute("SELECT number FROM windows WHERE hall=?", (self.hall,))}
            for w in self.config.windows:
                if w.number not in known:
                    db.execute(
                        "INSERT INTO windows (hall, number, domains, updated_at) VALUES (?,?,?,?)",
                        (self.hall, w.number, json.dumps(list(w.domains)), self.now()),
                    )

    def _service(self, service_id: str) -> Service:
        try:
            return self.config.service(service_id)
        except KeyError:
            raise NotFound(f"no service {service_id!r} in this hall") from None

    def _window_cfg(self, number: int) -> Window:
        try:
            return self.config.window(number)
        except KeyError:
            raise NotFound(f"no window {number} in this hall") from None

    def _ticket(self, db: sqlite3.Connection, ticket_id: int) -> Ticket:
        row = db.execute("SELECT * FROM tickets WHERE id=?", (ticket_id,)).fetchone()
        if row is None:
            raise NotFound(f"no ticket with id {ticket_id}")
        return Ticket.from_row(row)

    def _window(self, db: sqlite3.Connection, number: int) -> WindowState:
        cfg = self._window_cfg(number)
        row = db.execute("SELECT * FROM windows WHERE hall=? AND number=?", (self.hall, number)).fetchone()
        current = self._ticket(db, row["current_ticket"]) if row["current_ticket"] else None
        return WindowState(
            number=number,
            name=cfg.name,
            domains=json.loads(row["domains"]),
            skills=list(cfg.skills),
            pending_domains=json.loads(row["pending_domains"]) if row["pending_domains"] else None,
            paused=bool(row["paused"]),
            pause_reason=row["pause_reason"],
            current=current,
            priority_streak=row["priority_streak"],
        )

    # ------------------------------------------------------------------ reading
    def window(self, number: int) -> WindowState:
        with self.store.lock:
            return self._with_hours([self._window(self.store.db, number)])[0]

    def windows(self) -> list[WindowState]:
        """Every window's state; read once per change of the store (the forecast, the snapshots and the
        window states published after one change share the reading)."""
        with self.store.lock:
            changes = self.store.db.total_changes
            cached: tuple[int, list[WindowState]] | None = getattr(self, "_windows_cache", None)
            if cached is not None and cached[0] == changes:
                return self._with_hours([dataclasses.replace(w) for w in cached[1]])
            states = [self._window(self.store.db, w.number) for w in self.config.windows]
            self._windows_cache = (changes, states)
            return self._with_hours([dataclasses.replace(w) for w in states])

    def _with_hours(self, states: list[WindowState]) -> list[WindowState]:
        """Each window's ``hours`` now (:mod:`hall_bus.config.schedule`): ``open``, ``appointments``,
        ``closed``, or ``finishing``: closed, but tickets taken before it closed today still wait for
        it (the day's queue is served; the forecast counts it)."""
        when = self.local()
        for w in states:
            cfg = self.config.window(w.number)
            w.hours = schedule.window_mode(self.config, cfg, when)
            if w.hours == "closed" and self._finishing(w, schedule.last_closing(self.config, cfg, when)):
                w.hours = "finishing"
        return states

    def _finishing(self, w: WindowState, closed_at: dt.datetime | None) -> bool:
        if closed_at is None:
            return False
        key = (self.store.db.total_changes, w.number, tuple(w.domains), closed_at.timestamp())
        memo: dict[tuple[Any, ...], bool] = self.__dict__.setdefault("_finishing_memo", {})
        if key not in memo:
            if len(memo) > 256:
                memo.clear()
            marks = ",".join("?" * len(w.domains)) or "NULL"
            memo[key] = (
                self.store.db.execute(
                    "SELECT 1 FROM tickets WHERE hall=? AND state='waiting' AND issued_at < ? AND "
                    f"(target_window=? OR (target_window IS NULL AND domain IN ({marks}))) LIMIT 1",
                    (self.hall, closed_at.timestamp(), w.number, *w.domains),
                ).fetchone()
                is not None
            )
        return memo[key]

    @locked
    def ticket(self, code: str, day: str | None = None) -> Ticket:
        day = day or self.today()
        row = self.store.db.execute(
            "SELECT * FROM tickets WHERE hall=? AND day=? AND code=?", (self.hall, day, code)
        ).fetchone()
        if row is None:
            raise NotFound(f"no ticket {code} on {day}")
        return Ticket.from_row(row)

    @locked
    def waiting(self, domain: str | None = None) -> list[Ticket]:
        sql = "SELECT * FROM tickets WHERE hall=? AND state='waiting'"
        args: list[str] = [self.hall]
        if domain:
            sql += " AND domain=?"
            args.append(domain)
        return [Ticket.from_row(r) for r in self.store.db.execute(sql + " ORDER BY issued_at, id", args)]

    def serving_windows(self, domain: str, windows: list[WindowState] | None = None) -> list[WindowState]:
        """The windows serving ``domain`` now: not paused, and within their hours (or finishing the day)."""
        return [w for w in (windows or self.windows()) if domain in w.domains and w.works]

    def domain_mode(self, domain: str, windows: list[WindowState] | None = None) -> schedule.Mode:
        """``open``, ``appointments`` or ``closed`` now, by the windows' current domains."""
        if self.config.hours.always_open:
            return "open"
        current = {w.number: w.domains for w in windows} if windows is not None else self.current_domains()
        return schedule.domain_mode(self.config, domain, self.local(), current)

    @locked
    def current_domains(self) -> dict[int, list[str]]:
        """Window number -> the domains it serves now (one small read: ticket issuing asks it each time)."""
        rows = self.store.db.execute("SELECT number, domains FROM windows WHERE hall=?", (self.hall,))
        return {int(r[0]): json.loads(r[1]) for r in rows}

    def is_open(self, service: Service) -> bool:
        """May a walk-in ticket of ``service`` be taken now?"""
        return service.self_service or self.domain_mode(service.domain) == "open"
