"""The demo's kiosk window: the app of ``ui.app`` on a demo hall, plus the demo's card keys.

F9 puts the next card of the simulated reader's deck on the reader, F10 takes it off: the demo knows
its reader is the simulator it configured (``sim://idcard?id=...``), so it reaches it by that id in
the simulator registry. The production kiosk (``hallkit kiosk``) has no such keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from devices.base import Device
from hall_bus.bus.client import BusClient
from hall_bus.config import HallConfig
from simulators import registry
from simulators.cards import DECK
from simulators.idcard import IdCardSimulator
from ui.app import TABS, UiServices, build_app
from ui.kivy_env import prepare

log = logging.getLogger(__name__)

KEY_F9, KEY_F10 = 290, 291


class DemoHallLike(Protocol):
    config: HallConfig
    devices: dict[str, Device | None]

    def make_bus(self, client_id: str) -> BusClient: ...


def card_keys(reader_sim_id: str) -> dict[int, Callable[[], None]]:
    """F9/F10 for the simulated reader registered as ``reader_sim_id`` (none if there is no such one)."""
    try:
        sim = registry.instance(reader_sim_id)
    except KeyError:  # the hall's reader is not a simulator of this process
        return {}
    if not isinstance(sim, IdCardSimulator):
        return {}
    state = {"next": 0}

    def put() -> None:
        index = state["next"] % len(DECK)
        sim.insert(index)
        log.warning("demo: card %d of the simulated deck is on the reader (F10 takes it off)", index)
        state["next"] += 1

    return {KEY_F9: put, KEY_F10: sim.remove}


def run_app(
    hall: DemoHallLike,
    screens: Iterable[str] = TABS,
    start_tab: str | None = None,
    size: tuple[int, int] = (1080, 1920),
    fullscreen: bool = False,
    reader_sim_id: str = "",
) -> None:
    """Run the kiosk app (with the staff tabs) on a demo hall until its window is closed."""
    prepare(size=size, fullscreen=fullscreen)
    services = UiServices(hall.config, hall.make_bus, hall.devices, screens)
    build_app(services, start_tab=start_tab, extra_keys=card_keys(reader_sim_id) if reader_sim_id else {}).run()
