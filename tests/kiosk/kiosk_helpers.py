"""Shared helpers for the kiosk flow tests: a real controller on mosquitto and a kiosk context."""

from __future__ import annotations

from hall_bus import config as hallconfig
from hall_bus.controller.service import HallController
from kiosk.flow import KioskContext
from kiosk.session import KioskSession


class FakeClock:
    """A settable clock for timeout tests (time itself is not under test)."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


def start_controller(tmp_hall, bus_factory, **replace) -> HallController:
    cfg = hallconfig.load(tmp_hall)
    if replace:
        import dataclasses

        cfg = dataclasses.replace(cfg, **replace)
    return HallController(cfg, bus_factory("controller")).start()


def kiosk(bus_factory, devices=None, clock=None, **kw) -> KioskSession:
    bus = bus_factory("kiosk-1")
    ctx = KioskContext(
        kiosk_id="kiosk-1",
        bus=bus,
        devices=dict(devices or {}),
        clock=clock or FakeClock(),
        salt=b"test-salt-for-kiosk-tests",
        **kw,
    )
    session = KioskSession(ctx)
    return session
