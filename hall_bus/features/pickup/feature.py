"""Controller feature: 24-hour self-service pickup (24小时自助出件) with smart lockers.

``attach(controller)`` reads ``[pickup]`` and ``[[lockers]]`` (ConfigError names file and key),
keeps the pickup tables in the controller's store, registers the ``pickup.*`` operations
(contracts in :mod:`hall_bus.pickup.contracts`), listens to the door events of every locker bank,
starts the locker worker and resumes any step a previous controller left open.

Who may do what (the sender of the request envelope):

* kiosks (``[[kiosks]]`` ids) identify citizens and open *their own* sessions' items - never a
  compartment by number; the kiosk named in the data must be the sender;
* staff clients (window terminals, manager) deposit, list, return and clear faults; kiosks may not.

Requests that may open a door (deposit, open, return) are refused when expired (bus client) and
when their ``(sender, tx)`` was executed before, even by an earlier controller process (store).
"""

from __future__ import annotations

import logging
from typing import Any

from hall_bus.bus import topics
from hall_bus.bus.client import MessageHandler, ServiceError
from hall_bus.bus.envelope import Envelope, model_of
from hall_bus.config import ConfigError
from hall_bus.contracts import pickup as pickup_contracts
from hall_bus.contracts import registry
from hall_bus.contracts.pickup import (
    DepositStart,
    DoorEvent,
    FaultClear,
    Identify,
    ItemActor,
    ListRequest,
    OpenItems,
    Overdue,
    Return,
    Status,
)
from hall_bus.controller.features import FeatureContext, FeatureSpec, OpHandler
from hall_bus.features.cases.feature import CasesFeature
from hall_bus.features.pickup.config import from_config
from hall_bus.features.pickup.lockers import BusLockerPort
from hall_bus.features.pickup.notify import make_notifier
from hall_bus.features.pickup.records import PickupRecords
from hall_bus.features.pickup.security import hall_secret
from hall_bus.features.pickup.service import PickupService
from hall_bus.features.pickup.store import MIGRATIONS

log = logging.getLogger(__name__)


class PickupFeature:
    def __init__(self, controller: FeatureContext) -> None:
        self.controller = controller
        config = controller.config
        self.hall = controller.hall
        self.settings = from_config(config)
        self.kiosks = {k.id for k in config.kiosks}
        cases_feature = controller.features["cases"]
        assert isinstance(cases_feature, CasesFeature)  # declared in SPEC.requires
        self.secret = hall_secret(config.data_dir)
        self.lockers = BusLockerPort(
            controller.bus, self.hall, self.secret, open_timeout_s=self.settings.open_timeout_s
        )
        records = PickupRecords(
            self.hall,
            config.name,
            self.settings,
            controller.store,
            cases_feature.cases,
            self.secret,
            publish=lambda data: controller.bus.publish_event(topics.event(self.hall, "pickup"), "pickup", data),
            clock=controller.engine.clock,
            service_names={s.id: s.name for s in config.services},
        )
        self.service = PickupService(records, self.lockers)
        try:
            self.service.notifier = make_notifier(self.settings.notifier, self.hall)
        except (ImportError, AttributeError, TypeError) as exc:
            raise ConfigError(
                config.source, "pickup.notifier", f"cannot build {self.settings.notifier!r}: {exc}"
            ) from None
        ops: dict[str, tuple[OpHandler, str, bool]] = {
            "pickup.deposit.start": (self._deposit_start, "staff", True),
            "pickup.deposit.confirm": (self._deposit_confirm, "staff", False),
            "pickup.identify": (self._identify, "kiosk", False),
            "pickup.open": (self._open, "kiosk", True),
            "pickup.status": (self._status, "any", False),
            "pickup.list": (self._list, "staff", False),
            "pickup.overdue": (self._overdue, "staff", False),
            "pickup.return": (self._return, "staff", True),
            "pickup.notify": (self._notify, "staff", False),
            "pickup.fault.clear": (self._fault_clear, "staff", False),
        }
        for op, (fn, who, opens) in ops.items():
            controller.register_op(op, self._guard(op, fn, who, opens))
        for device in sorted({b.device for b in self.settings.banks}):
            controller.bus.subscribe(f"{topics.device_root(self.hall, device)}/event/door", self._door(device))
        if self.settings.banks:
            self.service.start()

    # ------------------------------------------------------------------ plumbing
    def _guard(self, op: str, fn: OpHandler, who: str, opens_door: bool) -> OpHandler:
        def run(env: Envelope) -> Any:
            if who == "kiosk":
                if env.sender not in self.kiosks:
                    raise ServiceError("forbidden", f"{op} is for kiosks; {env.sender!r} is not a kiosk of this hall")
                req = model_of(env, registry().requests[op].request)  # Identify or OpenItems
                if not isinstance(req, Identify | OpenItems) or req.kiosk != env.sender:
                    raise ServiceError("forbidden", f"a kiosk speaks for itself: data.kiosk must be {env.sender!r}")
            elif who == "staff" and env.sender in self.kiosks:
                raise ServiceError("forbidden", f"{op} is for staff; kiosk {env.sender} may not use it")
            if not self.settings.banks:
                raise ServiceError("unavailable", "no [[lockers]] are configured in this hall")
            return fn(env)  # at most once per (client, tx), also across restarts: the controller's ServedLog

        return run

    def _door(self, device: str) -> MessageHandler:
        def on_event(topic: str, env: Envelope) -> None:
            if env.type != "locker.door":
                return
            ev = env.model if isinstance(env.model, DoorEvent) else None
            if ev is not None:
                self.service.door_event(device, ev.board, ev.lock, ev.door == "open")

        return on_event

    def _actor(self, env: Envelope, actor: str) -> str:
        return f"{env.sender}/{actor}"

    def _audited(self, env: Envelope, actor: str, target: str, answer: dict[str, Any]) -> dict[str, Any]:
        """A staff action on the pickup lockers also goes to the hall's audit log (``audit.list``), in
        the transaction of the request (pickup keeps its own detailed ``pickup_audit`` too)."""
        self.controller.engine.audit(self._actor(env, actor), env.op, target, {})
        return answer

    # ------------------------------------------------------------------ ops
    def _deposit_start(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, DepositStart)
        started = self.service.deposit_start(
            req.case_no,
            req.size,
            self._actor(env, req.actor),
            identity_token=req.identity_token,
            item_name=req.item_name or "",
            window=req.window,
        )
        return self._audited(env, req.actor, f"case {req.case_no}", started)

    def _deposit_confirm(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, ItemActor)
        done = self.service.deposit_confirm(req.item_id, self._actor(env, req.actor))
        return self._audited(env, req.actor, f"item {req.item_id}", done)

    def _identify(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, Identify)
        return self.service.identify(req.kiosk, req.method, token=req.token, code=req.code, qr=req.qr)

    def _open(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, OpenItems)
        return self.service.open(req.kiosk, req.session_id, req.item_ids)

    def _status(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, Status)
        return self.service.status(req.session_id, req.item_id, staff=env.sender not in self.kiosks)

    def _list(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, ListRequest)
        return self.service.list_items([str(s) for s in req.states] if req.states else None, req.limit)

    def _overdue(self, env: Envelope) -> dict[str, Any]:
        return self.service.overdue(model_of(env, Overdue).days)

    def _return(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, Return)
        done = self.service.return_item(req.item_id, self._actor(env, req.actor), req.reason or "")
        return self._audited(env, req.actor, f"item {req.item_id}", done)

    def _notify(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, ItemActor)
        return self.service.renotify(req.item_id, self._actor(env, req.actor))

    def _fault_clear(self, env: Envelope) -> dict[str, Any]:
        req = model_of(env, FaultClear)
        cleared = {"cleared": self.service.clear_fault(req.compartment, self._actor(env, req.actor))}
        return self._audited(env, req.actor, f"compartment {req.compartment}", cleared)

    def stop(self) -> None:
        self.service.stop()


SPEC = FeatureSpec(
    name="pickup",
    summary="24小时自助出件: deposit, pickup and return through smart lockers",
    attach=PickupFeature,
    ops=(
        "pickup.deposit.start",
        "pickup.deposit.confirm",
        "pickup.identify",
        "pickup.open",
        "pickup.status",
        "pickup.list",
        "pickup.overdue",
        "pickup.return",
        "pickup.notify",
        "pickup.fault.clear",
    ),
    contracts=pickup_contracts.CONTRACTS,
    requires=("cases",),
    migrations=tuple(MIGRATIONS),
)
