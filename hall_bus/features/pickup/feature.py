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
from hall_bus.bus.client import ServiceError
from hall_bus.bus.envelope import Envelope
from hall_bus.config import ConfigError
from hall_bus.controller.features import FeatureContext, FeatureSpec
from hall_bus.features.cases.feature import CasesFeature
from hall_bus.features.pickup.config import from_config
from hall_bus.features.pickup.lockers import BusLockerPort
from hall_bus.features.pickup.notify import make_notifier
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
        self.service = PickupService(
            self.hall,
            config.name,
            self.settings,
            controller.store,
            cases_feature.cases,
            self.lockers,
            self.secret,
            publish=lambda data: controller.bus.publish_event(topics.event(self.hall, "pickup"), "pickup", data),
            clock=controller.engine.clock,
            service_names={s.id: s.name for s in config.services},
        )
        try:
            self.service.notifier = make_notifier(self.settings.notifier, self.hall)
        except (ImportError, AttributeError, TypeError) as exc:
            raise ConfigError(
                config.source, "pickup.notifier", f"cannot build {self.settings.notifier!r}: {exc}"
            ) from None
        ops = {
            "pickup.deposit.start": (self._deposit_start, "staff", True),
            "pickup.deposit.confirm": (self._deposit_confirm, "staff", False),
            "pickup.identify": (self._identify, "kiosk", False),
            "pickup.open": (self._open, "kiosk", True),
            "pickup.status": (self._status, "any", False),
            "pickup.list": (
                lambda env: self.service.list_items(env.data.get("states"), env.data["limit"]),
                "staff",
                False,
            ),
            "pickup.overdue": (lambda env: self.service.overdue(env.data.get("days")), "staff", False),
            "pickup.return": (self._return, "staff", True),
            "pickup.notify": (lambda env: self.service.renotify(env.data["item_id"], self._actor(env)), "staff", False),
            "pickup.fault.clear": (
                lambda env: {"cleared": self.service.clear_fault(env.data["compartment"], self._actor(env))},
                "staff",
                False,
            ),
        }
        for op, (fn, who, opens) in ops.items():
            controller.register_op(op, self._guard(op, fn, who, opens))
        for device in sorted({b.device for b in self.settings.banks}):
            controller.bus.subscribe(f"{topics.device_root(self.hall, device)}/event/door", self._door(device))
        if self.settings.banks:
            self.service.start()

    # ------------------------------------------------------------------ plumbing
    def _guard(self, op: str, fn, who: str, opens_door: bool):
        def run(env: Envelope) -> Any:
            if who == "kiosk":
                if env.sender not in self.kiosks:
                    raise ServiceError("forbidden", f"{op} is for kiosks; {env.sender!r} is not a kiosk of this hall")
                if env.data.get("kiosk") != env.sender:
                    raise ServiceError("forbidden", f"a kiosk speaks for itself: data.kiosk must be {env.sender!r}")
            elif who == "staff" and env.sender in self.kiosks:
                raise ServiceError("forbidden", f"{op} is for staff; kiosk {env.sender} may not use it")
            if not self.settings.banks:
                raise ServiceError("unavailable", "no [[lockers]] are configured in this hall")
            if opens_door:
                self.service.check_tx(env.sender, env.tx, op, env.expires_at)
            return fn(env)

        return run

    def _door(self, device: str):
        def on_event(topic: str, env: Envelope) -> None:
            d = env.data if isinstance(env.data, dict) else {}
            if env.type == "locker.door" and {"board", "lock", "door"} <= set(d):
                self.service.door_event(device, int(d["board"]), int(d["lock"]), d["door"] == "open")

        return on_event

    def _actor(self, env: Envelope) -> str:
        return f"{env.sender}/{env.data['actor']}"

    # ------------------------------------------------------------------ ops
    def _deposit_start(self, env: Envelope) -> dict:
        d = env.data
        return self.service.deposit_start(
            d["case_no"],
            d["size"],
            self._actor(env),
            identity_token=d.get("identity_token"),
            item_name=d.get("item_name", ""),
            window=d.get("window"),
        )

    def _deposit_confirm(self, env: Envelope) -> dict:
        return self.service.deposit_confirm(env.data["item_id"], self._actor(env))

    def _identify(self, env: Envelope) -> dict:
        d = env.data
        return self.service.identify(d["kiosk"], d["method"], token=d.get("token"), code=d.get("code"), qr=d.get("qr"))

    def _open(self, env: Envelope) -> dict:
        return self.service.open(env.data["kiosk"], env.data["session_id"], env.data["item_ids"])

    def _status(self, env: Envelope) -> dict:
        return self.service.status(
            env.data.get("session_id"), env.data.get("item_id"), staff=env.sender not in self.kiosks
        )

    def _return(self, env: Envelope) -> dict:
        return self.service.return_item(env.data["item_id"], self._actor(env), env.data.get("reason", ""))

    def stop(self) -> None:
        self.service.stop()


SPEC = FeatureSpec(
    name="pickup",
    summary="24小时自助出件: deposit, pickup and return through smart lockers",
    attach=PickupFeature,
    requires=("cases",),
    migrations=tuple(MIGRATIONS),
)
