"""Shared helpers for the kiosk flow tests: a real controller on mosquitto and a kiosk context."""

from __future__ import annotations

import re
from pathlib import Path

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


def close_the_hall(tmp_hall: Path) -> None:
    """Make the test hall one whose windows never open: no hours of the hall or of any window, and
    no appointments (booking periods outside every window's hours are refused)."""
    text = tmp_hall.read_text(encoding="utf-8").replace("always_open = true", "always_open = false")
    text = text.replace('weekdays = ["09:00-12:00", "13:30-17:30"]', "weekdays = []")
    text = re.sub(r"(?m)^(appointment_)?hours = \{.*$", "", text)
    text += '\n[features]\nenabled = ["cases", "pickup", "tidal", "evaluation", "mandates"]\n'
    tmp_hall.write_text(text, encoding="utf-8")


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
