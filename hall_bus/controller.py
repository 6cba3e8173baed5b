"""The hall controller: the queue engine served over the hall bus.

It answers requests on ``hallkit/<hall>/controller/request/<op>``, keeps the retained hall,
queue and window state topics current (and republishes them after every reconnect, via the
bus client), and publishes call and ticket events for displays, voice and later reports.
Requests are handled one at a time on the bus client's dispatch thread, so the store sees a
single writer.

Features (tidal windows, 24-hour pickup, evaluations ...) extend the controller without editing
it: every module ``hall_bus/feature_*.py`` defines ``attach(controller)``, which may register
operations with :meth:`HallController.register_op`, listen to queue changes through
``controller.engine.listeners``, keep its own tables with ``controller.store.migrate_feature``,
and return an object with an optional ``stop()``.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil
import time
from pathlib import Path
from typing import Any, Callable

from devices.config import HallConfig
from . import queue_contracts  # noqa: F401  (registers the contracts)
from . import topics
from .client import BusClient, BusSettings, ServiceError
from .messages import Envelope
from .queue_engine import Change, QueueEngine, QueueError
from .store import Store

log = logging.getLogger(__name__)

CLIENT_ID = "controller"

OpHandler = Callable[[Envelope], Any]


def bus_settings(config: HallConfig, client_id: str, host: str | None = None, port: int | None = None) -> BusSettings:
    """Bus settings for a component from hall.toml (host/port may be overridden)."""
    import os

    username = config.bus.username or None
    password = None
    if config.bus.credentials_dir:
        from .security import read_password

        username = client_id
        password = read_password(config.bus.credentials_dir, client_id)
    elif config.bus.password_env:
        password = os.environ.get(config.bus.password_env)
    return BusSettings(host=host or config.bus.host, port=port or config.bus.port, username=username,
                       password=password, keepalive_s=config.bus.keepalive_s)


class HallController:
    def __init__(self, config: HallConfig, bus: BusClient, store: Store | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.hall = config.hall_id
        self.bus = bus
        self.store = store or Store(Path(config.data_dir) / f"{config.hall_id}.db")
        self.engine = QueueEngine(config, self.store, clock=clock)
        self.engine.listeners.append(self._publish_change)
        self.ops: dict[str, OpHandler] = {
            "ticket.issue": self._ticket_issue,
            "ticket.get": self._ticket_get,
            "window.call": self._window_call,
            "window.recall": lambda env: self._window_op(env, self.engine.recall, with_call=True),
            "window.start": lambda env: self._window_op(env, self.engine.start),
            "window.finish": lambda env: self._window_op(env, self.engine.finish),
            "window.no_show": lambda env: self._window_op(env, self.engine.no_show),
            "window.transfer": self._window_transfer,
            "window.pause": self._window_pause,
            "window.resume": self._window_resume,
            "window.assign": self._window_assign,
            "windows.list": lambda env: {"windows": [self._window_view(w.number) for w in self.engine.windows()]},
            "queue.snapshot": lambda env: {"domains": [self.engine.snapshot(d.id) for d in self.config.domains]},
            "hall.info": lambda env: self.hall_info(),
            "audit.list": lambda env: {"entries": self.engine.audit_log(env.data["limit"])},
            "appointment.lookup": lambda env: self.engine.appointment(env.data["code"]),
        }

        self.features: dict[str, Any] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "HallController":
        self.attach_features()
        self.bus.serve(topics.controller_requests(self.hall), self._dispatch)
        self.bus.start()
        self.publish_all()
        return self

    def attach_features(self) -> None:
        import hall_bus

        for info in sorted(pkgutil.iter_modules(hall_bus.__path__), key=lambda i: i.name):
            if info.name.startswith("feature_") and info.name not in self.features:
                module = importlib.import_module(f"hall_bus.{info.name}")
                self.features[info.name] = module.attach(self)
                log.info("controller feature %s attached", info.name)

    def stop(self) -> None:
        self.bus.stop()
        for feature in self.features.values():
            stop = getattr(feature, "stop", None)
            if stop:
                stop()
        self.store.close()

    def register_op(self, op: str, handler: OpHandler) -> None:
        """Let a feature (tidal windows, pickup, evaluation) add its operations to the controller."""
        if op in self.ops:
            raise ValueError(f"controller op {op!r} is registered twice")
        self.ops[op] = handler

    def _dispatch(self, env: Envelope) -> Any:
        handler = self.ops.get(env.op)
        if handler is None:
            raise ServiceError("unknown_op", f"the controller has no operation {env.op!r}")
        try:
            return handler(env)
        except QueueError as exc:
            raise ServiceError(exc.code, str(exc)) from None

    # ------------------------------------------------------------------ state publishing
    def hall_info(self) -> dict:
        c = self.config
        today = self.engine.local().date()
        return {
            "hall": c.hall_id, "name": c.name, "name_en": c.name_en, "timezone": c.hours.timezone,
            "open_now": c.hours.is_open(self.engine.local()), "hours_today": c.hours.describe(today),
            "domains": [{"id": d.id, "name": d.name, "name_en": d.name_en} for d in c.domains],
            "services": [{"id": s.id, "name": s.name, "name_en": s.name_en, "domain": s.domain, "prefix": s.prefix,
                          "expected_minutes": s.expected_minutes, "self_service": s.self_service} for s in c.services],
            "windows": [{"number": w.number, "name": w.name, "skills": list(w.skills)} for w in c.windows],
        }

    def publish_all(self) -> None:
        self.bus.publish_state(topics.hall_state(self.hall), "hall.info", self.hall_info())
        self._publish_change(Change(domains={d.id for d in self.config.domains}, windows={w.number for w in self.config.windows}))

    def _window_view(self, number: int) -> dict:
        w = self.engine.window(number)
        view = w.public()
        view["waiting"] = sum(self.engine.snapshot(d)["waiting"] for d in w.domains)
        return view

    def _publish_change(self, change: Change) -> None:
        windows = self.engine.windows()
        affected = set(change.windows) | {w.number for w in windows if set(w.domains) & change.domains}
        domains = set(change.domains)
        for w in windows:
            if w.number in affected:
                domains |= set(w.domains)
        snaps = {d: self.engine.snapshot(d, windows) for d in sorted(domains)}
        for domain in sorted(change.domains):
            self.bus.publish_state(topics.queue_state(self.hall, domain), "queue.snapshot", snaps[domain])
        for w in windows:
            if w.number in affected:
                view = w.public()
                view["waiting"] = sum(snaps[d]["waiting"] for d in w.domains)
                self.bus.publish_state(topics.window_state(self.hall, w.number), "window.state", view)
        for type_, data in change.events:
            self.bus.publish_event(topics.event(self.hall, type_), type_, data)

    # ------------------------------------------------------------------ operations
    def _ticket_issue(self, env: Envelope) -> dict:
        d = env.data
        ticket, created = self.engine.issue(
            d["service"], idempotency_key=f"{env.sender}:{d['idempotency_key']}", priority=d["priority"],
            age_years=d.get("age_years"), identity_token=d.get("identity_token"), appointment=d.get("appointment"),
            channel=d["channel"], issued_by=env.sender)
        ahead, minutes = self.engine.position(ticket)
        service = self.config.service(ticket.service)
        return {"ticket": ticket.public(), "created": created, "waiting_ahead": ahead,
                "estimated_wait_min": None if minutes == float("inf") else minutes,
                "service_name": service.name, "domain_name": self.config.domain(ticket.domain).name,
                "hall_name": self.config.name}

    def _ticket_get(self, env: Envelope) -> dict:
        ticket = self.engine.ticket(env.data["code"], env.data.get("day"))
        ahead, minutes = self.engine.position(ticket)
        return {"ticket": ticket.public(), "waiting_ahead": ahead,
                "estimated_wait_min": None if minutes == float("inf") else minutes}

    def _actor(self, env: Envelope) -> str:
        staff = env.data.get("staff") or env.data.get("actor")
        return f"{env.sender}/{staff}" if staff else env.sender

    def _window_call(self, env: Envelope) -> dict:
        ticket, _ = self.engine.call_next(env.data["window"], actor=self._actor(env))
        if ticket is None:
            return {"ticket": None, "call": None}
        win = self.engine.window(env.data["window"])
        return {"ticket": ticket.public(), "call": self.engine.call_event(ticket, win, recall=False)}

    def _window_op(self, env: Envelope, op: Callable, with_call: bool = False) -> dict:
        ticket, _ = op(env.data["window"], actor=self._actor(env))
        out = {"ticket": ticket.public()}
        if with_call:
            out["call"] = self.engine.call_event(ticket, self.engine.window(env.data["window"]), recall=True)
        return out

    def _window_transfer(self, env: Envelope) -> dict:
        d = env.data
        ticket, _ = self.engine.transfer(d["window"], to_domain=d.get("to_domain"), to_window=d.get("to_window"), actor=self._actor(env))
        return {"ticket": ticket.public()}

    def _window_pause(self, env: Envelope) -> dict:
        self.engine.pause(env.data["window"], env.data.get("reason", ""), actor=self._actor(env))
        return {"window": self._window_view(env.data["window"])}

    def _window_resume(self, env: Envelope) -> dict:
        self.engine.resume(env.data["window"], actor=self._actor(env))
        return {"window": self._window_view(env.data["window"])}

    def _window_assign(self, env: Envelope) -> dict:
        d = env.data
        applied, _ = self.engine.assign(d["window"], d["domains"], actor=f"{env.sender}/{d['actor']}", reason=d.get("reason", ""))
        return {"window": self._window_view(d["window"]), "applied_now": applied}


def run_controller(config: HallConfig, host: str | None = None, port: int | None = None) -> HallController:
    bus = BusClient(config.hall_id, CLIENT_ID, bus_settings(config, CLIENT_ID, host, port))
    return HallController(config, bus).start()
