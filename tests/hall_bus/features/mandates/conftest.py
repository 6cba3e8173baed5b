"""The ``mandate_hall`` fixture: the demo hall's controller on the test broker, and helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hall_bus import config as hallconfig
from hall_bus.controller.service import HallController

TOKEN = "0123456789abcdef" * 4  # the citizen's identity token (a salted hash): never a name or ID number


def promised(ctl: HallController, days: int = 10) -> str:
    return (ctl.engine.local().date() + dt.timedelta(days=days)).isoformat()


def new_mandate(client: Any, ctl: HallController, **over: Any) -> dict[str, Any]:
    data = {
        "service": "shebao-transfer",
        "identity_token": TOKEN,
        "agent": "S0102",
        "materials": ["身份证复印件", "参保缴费凭证（原件）"],
        "promised_date": promised(ctl),
        "actor": "S0102",
        **over,
    }
    answer: dict[str, Any] = client.request("mandate.create", data, timeout=5)["mandate"]
    return answer


@pytest.fixture
def mandate_hall(tmp_hall: Path, bus_factory: Any) -> Iterator[HallController]:
    ctl = HallController(hallconfig.load(tmp_hall), bus_factory("controller")).start()
    yield ctl
    ctl.stop()
