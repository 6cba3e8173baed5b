"""The ``booking_hall`` fixture: start controllers with a test ``[booking]`` (see booking_harness)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hall_bus.controller.service import HallController
from tests.hall_bus.features.booking.booking_harness import ALL_DAY, booking_config


@pytest.fixture
def booking_hall(tmp_hall: Path, bus_factory) -> Iterator[Callable[..., HallController]]:
    started: list[HallController] = []

    def start(booking: dict[str, Any] | None = None) -> HallController:
        cfg = booking_config(tmp_hall, booking or ALL_DAY)
        ctl = HallController(cfg, bus_factory("controller")).start()
        started.append(ctl)
        return ctl

    yield start
    for ctl in started:
        ctl.stop()
