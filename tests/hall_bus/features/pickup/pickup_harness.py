"""A pickup hall for the tests: a real controller on mosquitto, a real locker host driving the locker
simulator through the sim:// serial scheme (on its own bus client, as `hallkit locker-host` runs),
a kiosk's bus client and a window terminal's."""

from __future__ import annotations

import dataclasses
import itertools
import threading
from pathlib import Path

from devices.identity import identity_token
from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.bus.client import BusError, RequestFailed
from hall_bus.controller.service import HallController
from hall_bus.features.pickup.notify import memory_outbox
from hall_bus.hosts.locker_host import LockerHost
from simulators import registry
from tests.helpers import wait_for

_n = itertools.count(1)
TOKEN_SALT = b"pickup-test-salt-0123456789abcdef"


def token_of(id_number: str) -> str:
    return identity_token(id_number, TOKEN_SALT)


class PickupHall:
    def __init__(
        self, tmp_hall: Path, bus_factory, pickup: dict | None = None, sim: str = "", more_kiosks: tuple[str, ...] = ()
    ) -> None:
        self.bus_factory = bus_factory
        cfg = hallconfig.load(tmp_hall)
        extra = dict(cfg.extra)
        extra["pickup"] = {**extra.get("pickup", {}), "status_poll_s": 0.3, "notifier": "memory", **(pickup or {})}
        kiosks = cfg.kiosks + tuple(hallconfig.Kiosk(k, k) for k in more_kiosks)
        self.config = dataclasses.replace(cfg, extra=extra, kiosks=kiosks)
        self.sim_name = f"locker-{cfg.hall_id}-{next(_n)}"
        q = f"boards=1,2&id={self.sim_name}&auto_close_s=none&fire_ms=20" + (f"&{sim}" if sim else "")
        self.url = f"sim://locker?{q}"
        self.events: list[dict] = []
        self._ev_lock = threading.Lock()
        self.controller: HallController | None = None
        self.host: LockerHost | None = None
        self.notifier = memory_outbox(cfg.hall_id)  # where the controller's notifications land
        self.kiosk = bus_factory("kiosk-1")
        self.staff = bus_factory("window-6")
        self.staff.subscribe(topics.event(cfg.hall_id, "pickup"), self._on_event)

    # ------------------------------------------------------------------ parts
    def start_controller(self) -> HallController:
        self.controller = HallController(self.config, self.bus_factory("controller")).start()
        # serving once it answers: its subscriptions are made asynchronously, and a test that publishes a
        # raw request (no retries) right after a restart would otherwise race the SUBSCRIBE to the broker
        wait_for(self._controller_answers, what="controller answering")
        return self.controller

    def _controller_answers(self) -> bool:
        try:
            self.staff.request("pickup.list", {"limit": 1}, timeout=1.0)
        except RequestFailed:
            pass  # an answer all the same
        except BusError:
            return False
        return True

    def stop_controller(self) -> None:
        self.controller.stop()
        self.controller = None

    def start_host(self) -> LockerHost:
        self.host = LockerHost(
            self.config, "lockers-a", self.bus_factory("lockers-a"), url=self.url, poll_s=0.1
        ).start()
        if self.controller is not None:  # serving once it answers (its subscription is live at the broker)
            wait_for(self._host_answers, what="locker host answering")
        return self.host

    def _host_answers(self) -> bool:
        try:
            self.controller.bus.request(
                "locker.status",
                {"board": 1},
                timeout=1.0,
                topic=topics.device_request(self.config.hall_id, "lockers-a", "locker.status"),
            )
            return True
        except BusError:
            return False

    def stop_host(self) -> None:
        self.host.stop()
        self.host.bus.stop()
        self.host = None

    def start(self) -> PickupHall:
        self.start_host()
        self.start_controller()
        return self

    @property
    def feature(self):
        return self.controller.features["pickup"]

    @property
    def sim(self):
        return registry.instance(self.sim_name)

    def _on_event(self, topic: str, env) -> None:
        with self._ev_lock:
            self.events.append(env.data)

    def actions(self, item_id: int | None = None) -> list[str]:
        with self._ev_lock:
            return [e["action"] for e in self.events if item_id is None or e["item_id"] == item_id]

    # ------------------------------------------------------------------ steps
    def case(self, case_no: str, id_number: str = "11010119480312103X") -> str:
        token = token_of(id_number)
        self.staff.request(
            "case.update",
            {
                "case_no": case_no,
                "status": "ready",
                "actor": "S0106",
                "service": "shebao-card",
                "identity_token": token,
            },
        )
        return token

    def compartment(self, item: dict):
        return (
            self.controller.features["pickup"].settings.compartment(item["compartment"]["no"])
            if self.controller
            else None
        )

    def deposit(self, case_no: str, size: str = "S", id_number: str = "11010119480312103X") -> dict:
        """Staff deposits an item for a new case; returns {item, code, qr, comp}."""
        self.case(case_no, id_number)
        item = self.staff.request(
            "pickup.deposit.start", {"case_no": case_no, "size": size, "actor": "S0106", "window": 6}
        )["item"]
        comp = self.compartment(item)
        wait_for(lambda: self.sim.door_open(comp.board, comp.lock), what="deposit door open")
        self.sim.close_door(comp.board, comp.lock)
        n = self.notifier.for_item(item["item_id"])
        wait_for(lambda: self.item(item["item_id"])["state"] == "deposited", what="deposited")
        return {"item": item, "code": n.code, "qr": n.qr, "comp": comp}

    def item(self, item_id: int) -> dict:
        return self.staff.request("pickup.status", {"item_id": item_id})["items"][0]

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
        if self.host:
            self.host.stop()
