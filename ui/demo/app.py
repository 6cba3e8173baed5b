"""The demo's kiosk window: the app of ``ui.app`` on a demo hall, plus the demo's card keys.

F9 puts the next card of the simulated reader's deck on the reader, F10 takes it off: the demo knows
its reader is the simulator it configured (``sim://idcard?id=...``), so it reaches it by that id in
the simulator registry. F11 holds a phone with a fresh signed 居民码 (``simulators.resident_codes``)
of the same deck's next holder under the kiosk's scanner: the next 扫居民码 reads it. The production
kiosk (``hallkit kiosk``) has no such keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from devices.base import Device
from hall_bus.bus.client import BusClient
from hall_bus.config import HallConfig
from simulators import registry
from simulators.cards import DECK
from simulators.idcard import IdCardSimulator
from simulators.resident_codes import ResidentCodeIssuer
from ui.app import TABS, UiServices, build_app
from ui.kivy_env import prepare

log = logging.getLogger(__name__)

KEY_F9, KEY_F10, KEY_F11 = 290, 291, 292


class PhoneAtScanner:
    """The kiosk's scanner with a citizen's phone held under it: the code shown is read first."""

    def __init__(self, scanner: Any) -> None:
        object.__setattr__(self, "scanner", scanner)
        object.__setattr__(self, "shown", None)

    def show(self, code: str) -> None:
        object.__setattr__(self, "shown", code)

    def read_code(self, timeout: float) -> str | None:
        code = self.shown
        object.__setattr__(self, "shown", None)
        return code if code is not None else self.scanner.read_code(timeout)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.scanner, name)

    def __setattr__(self, name: str, value: Any) -> None:  # should_stop and the like belong to the scanner
        setattr(self.scanner, name, value)


def phone_key(services: UiServices) -> dict[int, Callable[[], None]]:
    """F11: a fresh 居民码 of the deck's next holder under the kiosk's scanner (none without a scanner)."""
    scanner = services.devices.get("scanner")
    if scanner is None:
        return {}
    phone = PhoneAtScanner(scanner)
    services.devices["scanner"] = phone
    issuer, state = ResidentCodeIssuer(), {"next": 0}

    def show() -> None:
        index = state["next"] % len(DECK)
        phone.show(issuer.issue_for_card(index))
        log.warning("demo: a phone with the 居民码 of card %d is under the scanner (tap 扫居民码)", index)
        state["next"] += 1

    return {KEY_F11: show}


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
    keys = {**(card_keys(reader_sim_id) if reader_sim_id else {}), **phone_key(services)}
    build_app(services, start_tab=start_tab, extra_keys=keys).run()
