"""The hall controller: the queue engine served over the hall bus.

It answers requests on ``hallkit/<hall>/client/<client>/request/<op>`` (the requester is the client the
broker let write that topic, and its role from the roles table decides what it may call), keeps the
retained hall,
queue and window state topics current (and republishes them after every reconnect, via the
bus client), and publishes call and ticket events for displays, voice and later reports.
Requests are handled one at a time on the bus client's dispatch thread, so the store sees a
single writer.

Features (cases, 24-hour pickup, tidal windows, evaluations) extend the controller without editing
it: each is a :class:`~hall_bus.controller.features.FeatureSpec` in the explicit list
``hall_bus.features.FEATURES``. The controller applies a feature's migrations, then attaches it with
a :class:`~hall_bus.controller.features.FeatureContext` (config, bus, store, queue engine, a way to
register operations, and the features it requires), in dependency order, for the features that
``[features] enabled`` in hall.toml switches on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hall_bus.bus import topics
from hall_bus.bus.client import BusClient, ServiceError
from hall_bus.bus.connect import bus_settings
from hall_bus.bus.credentials import clients_of
from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.config import ConfigError, HallConfig, schedule
from hall_bus.contracts import queue as q
from hall_bus.contracts.base import Anything
from hall_bus.contracts.roles import OPS, principal_of
from hall_bus.controller.authorize import authorize
from hall_bus.controller.features import Feature, FeatureContext, FeatureSpec, OpHandler, attach_order
from hall_bus.controller.hall_info import hall_info
from hall_bus.controller.served import ServedLog
from hall_bus.controller.store import Store
from hall_bus.controller.ticket_link import TicketLinks
from hall_bus.controller.window_print import WindowPrinters
from hall_bus.errors import CodedError
from hall_bus.features.catalogue import FEATURES
from hall_bus.queue.engine import QueueEngine
from hall_bus.queue.models import Change, Ticket

log = logging.getLogger(__name__)

CLIENT_ID = "controller"
STATE_EVERY_S = 0.1  # longest a changed queue or window state waits while requests keep coming
HOURS_CHECK_S = 10.0  # how often the controller looks whether a window or domain opened or closed


class HallController:
    def __init__(
        self, config: HallConfig, bus: BusClient, store: Store | None = None, clock: Callable[[], float] = time.time
    ) -> None:
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
            "window.recall": self._window_recall,
            "window.start": lambda env: self._window_op(env, self.engine.start),
            "window.finish": lambda env: self._window_op(env, self.engine.finish),
            "window.no_show": lambda env: self._window_op(env, self.engine.no_show),
            "window.transfer": self._window_transfer,
            "window.pause": self._window_pause,
            "window.resume": self._window_resume,
            "window.assign": self._window_assign,
            "windows.list": self._windows_list,
            "queue.snapshot": self._queue_snapshot,
            "hall.info": lambda env: self.hall_info(),
            "audit.list": self._audit_list,
            "appointment.lookup": self._appointment_lookup,
        }

        self.features: dict[str, Feature] = {}
        # state topics changed and not yet republished (coalesced while requests wait: see _publish_change)
        self._dirty = Change()
        self._dirty_lock = threading.Lock()
        self._flushed_at = 0.0
        self.bus.on_idle(self._state_due)
        self.served = ServedLog(self.store, bus, config.bus.max_clock_skew_s, clock=clock)
        self.ticket_links = TicketLinks(config)  # the signed phone link of each ticket (ticket_link.py)
        self.printers = WindowPrinters(config, bus)  # the windows' receipt printers, shared by the features
        self._stopping = threading.Event()
        self._hours_seen: tuple[Any, ...] | None = None
        self._hours_thread = threading.Thread(target=self._watch_hours, name="hours", daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> HallController:
        self.attach_features()
        lanes = [topics.client_requests_of(self.hall, rule.client_id) for rule in clients_of(self.config)]
        self.bus.serve(
            topics.client_requests(self.hall),
            self._dispatch,
            guard=self._may_call,
            lanes=[lane for lane in lanes if "/controller/" not in lane],
        )
        self.bus.start()
        self.publish_all()
        self._await_lanes()
        self._hours_thread.start()
        return self

    def check_hours(self) -> bool:
        """Republish hall.info and every state when a window or domain opened or closed since the last
        look (the kiosks' tiles, the display and the tidal load follow); True when it did."""
        windows = self.engine.windows()
        current = {w.number: w.domains for w in windows}
        now = self.engine.local()
        seen = (
            tuple((w.number, w.hours) for w in windows),
            tuple(schedule.domain_mode(self.config, d.id, now, current) for d in self.config.domains),
            now.date(),
        )
        if seen == self._hours_seen:
            return False
        first, self._hours_seen = self._hours_seen is None, seen
        if not first:
            log.info("controller: hours changed (%s), republishing the hall", seen[0])
            self.publish_all()
        return not first

    def _watch_hours(self) -> None:
        while not self._stopping.wait(HOURS_CHECK_S):
            try:
                self.check_hours()
            except Exception:  # a closed store on the way out, a bus hiccup: look again next time
                log.exception("controller: hours check failed")

    def _await_lanes(self, connect_s: float = 2.0, subscribe_s: float = 3.0) -> None:
        """Give the request lanes a moment to subscribe, so the first requests are heard at once (a
        controller whose broker is down starts anyway and serves once it connects)."""
        if not self.bus.wait_connected(connect_s):
            return
        deadline = time.monotonic() + subscribe_s
        while not self.bus.serving() and time.monotonic() < deadline:
            time.sleep(0.01)

    def attach_features(self) -> None:
        try:
            specs = attach_order(FEATURES, self.config.features)
        except ValueError as exc:
            raise ConfigError(self.config.source, "features.enabled", str(exc)) from None
        for spec in specs:
            if spec.name in self.features:
                continue
            self.store.migrate_feature(spec.name, list(spec.migrations))
            needs = {name: self.features[name] for name in spec.requires}
            registered: list[str] = []

            def register(
                op: str, handler: OpHandler, spec: FeatureSpec = spec, registered: list[str] = registered
            ) -> None:
                if op not in spec.ops:
                    raise ValueError(f"feature {spec.name!r} registers {op!r}, which it does not declare")
                registered.append(op)
                self.register_op(op, handler)

            ctx = FeatureContext(self.config, self.bus, self.store, self.engine, register, needs, self.printers)
            self.features[spec.name] = spec.attach(ctx)
            if sorted(registered) != sorted(spec.ops):
                raise ValueError(f"feature {spec.name!r} declares {sorted(spec.ops)} but serves {sorted(registered)}")
            log.info("controller feature %s attached", spec.name)

    def stop(self) -> None:
        """Stop the features (last attached first) while the bus still carries what they say on the way
        out, then the bus, then the store."""
        self._stopping.set()
        for feature in reversed(list(self.features.values())):
            feature.stop()
        self.bus.stop()
        self.store.close()

    def register_op(self, op: str, handler: OpHandler) -> None:
        """Let a feature (tidal windows, pickup, evaluation) add its operations to the controller."""
        if op in self.ops:
            raise ValueError(f"controller op {op!r} is registered twice")
        self.ops[op] = handler

    def _may_call(self, env: Envelope) -> None:
        """Before the data is read: is there such an op here, and may the requester's role call it?"""
        rule = OPS.get(env.op)
        if env.op not in self.ops or rule is None:
            raise ServiceError("unknown_op", f"the controller has no operation {env.op!r}")
        authorize(principal_of(self.config, env.sender), env.op, rule, None)

    def _dispatch(self, env: Envelope) -> Any:
        """Authorise what the checked data asks (a window's own window), then run the op once per (client, tx)."""
        handler, rule = self.ops[env.op], OPS[env.op]
        authorize(principal_of(self.config, env.sender), env.op, rule, env.data)
        try:
            if rule.effect == "read":
                return handler(env)
            return self.served.run(env, rule.effect, lambda: handler(env))
        except CodedError as exc:  # every feature's refusals, answered with their code in one place
            raise ServiceError(exc.code, str(exc)) from None

    # ------------------------------------------------------------------ state publishing
    def hall_info(self) -> q.HallInfo:
        """What a station needs to run from its own small file (:func:`hall_bus.controller.hall_info.hall_info`)."""
        return hall_info(self.config, self.engine, list(self.features))

    def publish_all(self) -> None:
        if self._hours_seen is None:
            self.check_hours()  # the first look: what is published now is the baseline
        self.bus.publish_state(
            topics.hall_state(self.hall), "hall.info", self.hall_info().model_dump(mode="json", exclude_none=True)
        )
        self._publish_change(
            Change(domains={d.id for d in self.config.domains}, windows={w.number for w in self.config.windows})
        )

    def _window_view(self, number: int) -> dict[str, Any]:
        w = self.engine.window(number)
        view = w.public()
        view["waiting"] = sum(self.engine.snapshot(d)["waiting"] for d in w.domains)
        return view

    def _window_model(self, number: int) -> q.WindowView:
        return q.WindowView.model_validate(self._window_view(number))

    def _publish_change(self, change: Change) -> None:
        """Events go out at once (inside a request, when its transaction commits). The retained queue
        and window states they touch are marked and republished when due (:meth:`_state_due`)."""
        with self._dirty_lock:
            self._dirty.domains |= set(change.domains)
            self._dirty.windows |= set(change.windows)
        if not self.bus.holding():  # inside a request the bus runs _state_due once the store committed
            self._state_due()
        for type_, data in change.events:
            self.bus.publish_event(topics.event(self.hall, type_), type_, data)

    def _state_due(self) -> None:
        """Republish the changed states now if no other request waits (a requester's answer then
        follows the state it changed), otherwise once the waiting ones are served or after
        :data:`STATE_EVERY_S`: under a burst the states are computed once per burst, not per ticket."""
        if self.bus.requests_waiting() == 0 or time.monotonic() - self._flushed_at >= STATE_EVERY_S:
            self._publish_state()

    def _publish_state(self) -> None:
        """Republish the states changed since the last time (the store lock first, as every writer
        takes it, so no two threads publish an older state after a newer one)."""
        with self.store.lock:
            with self._dirty_lock:
                change, self._dirty = self._dirty, Change()
                self._flushed_at = time.monotonic()
            if not change.domains and not change.windows:
                return
            windows = self.engine.windows()
            affected = set(change.windows) | {w.number for w in windows if set(w.domains) & change.domains}
            domains = set(change.domains)
            for w in windows:
                if w.number in affected:
                    domains |= set(w.domains)
            snaps = {d: self.engine.snapshot(d, windows) for d in sorted(change.domains)}
            waiting = {d: snaps[d]["waiting"] if d in snaps else self.engine.waiting_count(d) for d in domains}
            for domain in sorted(change.domains):
                self.bus.publish_state(topics.queue_state(self.hall, domain), "queue.snapshot", snaps[domain])
            for w in windows:
                if w.number in affected:
                    view = w.public()
                    view["waiting"] = sum(waiting[d] for d in w.domains)
                    self.bus.publish_state(topics.window_state(self.hall, w.number), "window.state", view)

    # ------------------------------------------------------------------ operations
    def _ticket_issue(self, env: Envelope) -> q.TicketIssued:
        req = model_of(env, q.TicketIssue)
        ticket, created = self.engine.issue(
            req.service,
            idempotency_key=f"{env.sender}:{req.idempotency_key}",
            priority=req.priority,
            age_years=req.age_years,
            identity_token=req.identity_token,
            appointment=req.appointment,
            channel=req.channel,
            issued_by=env.sender,
        )
        ahead, minutes = self.engine.position(ticket)
        return q.TicketIssued(
            ticket=_ticket(ticket),
            created=created,
            waiting_ahead=ahead,
            estimated_wait_min=None if minutes == float("inf") else minutes,
            service_name=self.config.service(ticket.service).name,
            domain_name=self.config.domain(ticket.domain).name,
            hall_name=self.config.name,
            phone_url=self.ticket_links.url_of(ticket.public()),
        )

    def _ticket_get(self, env: Envelope) -> q.TicketStatus:
        req = model_of(env, q.TicketGet)
        ticket = self.engine.ticket(req.code, req.day)
        ahead, minutes = self.engine.position(ticket)
        return q.TicketStatus(
            ticket=_ticket(ticket),
            waiting_ahead=ahead,
            estimated_wait_min=None if minutes == float("inf") else minutes,
        )

    def _actor(self, env: Envelope, staff: str | None) -> str:
        return f"{env.sender}/{staff}" if staff else env.sender

    def _window_call(self, env: Envelope) -> q.WindowCalled:
        req = model_of(env, q.WindowRequest)
        ticket, _ = self.engine.call_next(req.window, actor=self._actor(env, req.staff))
        if ticket is None:
            return q.WindowCalled(ticket=None, call=None)
        call = self.engine.call_event(ticket, self.engine.window(req.window), recall=False)
        return q.WindowCalled(ticket=Anything.model_validate(ticket.public()), call=Anything.model_validate(call))

    def _window_recall(self, env: Envelope) -> q.WindowRecalled:
        req = model_of(env, q.WindowRequest)
        ticket, _ = self.engine.recall(req.window, self._actor(env, req.staff))
        call = self.engine.call_event(ticket, self.engine.window(req.window), recall=True)
        return q.WindowRecalled(ticket=_ticket(ticket), call=Anything.model_validate(call))

    def _window_op(self, env: Envelope, op: Callable[[int, str], tuple[Ticket, Change]]) -> q.WindowTicket:
        req = model_of(env, q.WindowRequest)
        ticket, _ = op(req.window, self._actor(env, req.staff))
        return q.WindowTicket(ticket=_ticket(ticket))

    def _window_transfer(self, env: Envelope) -> q.WindowTicket:
        req = model_of(env, q.WindowTransfer)
        ticket, _ = self.engine.transfer(
            req.window, to_domain=req.to_domain, to_window=req.to_window, actor=self._actor(env, req.staff)
        )
        return q.WindowTicket(ticket=_ticket(ticket))

    def _window_pause(self, env: Envelope) -> q.WindowOne:
        req = model_of(env, q.WindowPause)
        self.engine.pause(req.window, req.reason or "", actor=self._actor(env, req.staff))
        return q.WindowOne(window=self._window_model(req.window))

    def _window_resume(self, env: Envelope) -> q.WindowOne:
        req = model_of(env, q.WindowRequest)
        self.engine.resume(req.window, actor=self._actor(env, req.staff))
        return q.WindowOne(window=self._window_model(req.window))

    def _window_assign(self, env: Envelope) -> q.WindowAssigned:
        req = model_of(env, q.WindowAssign)
        applied, _ = self.engine.assign(
            req.window, req.domains, actor=f"{env.sender}/{req.actor}", reason=req.reason or ""
        )
        return q.WindowAssigned(window=self._window_model(req.window), applied_now=applied)

    def _windows_list(self, env: Envelope) -> q.WindowList:
        return q.WindowList(windows=[self._window_model(w.number) for w in self.engine.windows()])

    def _queue_snapshot(self, env: Envelope) -> q.QueueSnapshot:
        return q.QueueSnapshot(
            domains=[Anything.model_validate(self.engine.snapshot(d.id)) for d in self.config.domains]
        )

    def _audit_list(self, env: Envelope) -> q.AuditEntries:
        req = model_of(env, q.AuditList)
        return q.AuditEntries(entries=[Anything.model_validate(e) for e in self.engine.audit_log(req.limit)])

    def _appointment_lookup(self, env: Envelope) -> q.Appointment:
        req = model_of(env, q.AppointmentLookup)
        return q.Appointment.model_validate(self.engine.appointment(req.code))


def _ticket(ticket: Ticket) -> q.Ticket:
    """A ticket as it travels on the bus (no identity token), as its contract model."""
    return q.Ticket.model_validate(ticket.public())


def run_controller(config: HallConfig, host: str | None = None, port: int | None = None) -> HallController:
    bus = BusClient(config.hall_id, CLIENT_ID, bus_settings(config, CLIENT_ID, host, port))
    return HallController(config, bus).start()
