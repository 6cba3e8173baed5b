"""Helpers of the booking tests: a controller on the test broker whose ``[booking]`` is made for the test: one service, slots all
day every day, so a test finds an open slot whatever the time; the hall's time zone is one where
it is not near midnight now (a slot today must still be ahead)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hall_bus import config as hallconfig
from hall_bus.config import HallConfig
from hall_bus.controller.service import HallController

ZONES = ("Asia/Shanghai", "Europe/London", "America/New_York", "Pacific/Auckland")


def calm_zone() -> str:
    """A time zone where the local time is between 01:00 and 22:00 (slots today are still ahead)."""
    now = dt.datetime.now(dt.UTC)
    return next(z for z in ZONES if 1 <= now.astimezone(ZoneInfo(z)).hour < 22)


def booking_config(tmp_hall: Path, booking: dict[str, Any], zone: str | None = None) -> HallConfig:
    data = tomllib.loads(tmp_hall.read_text(encoding="utf-8"))
    data["booking"] = booking
    data["hall"]["timezone"] = zone or calm_zone()
    data["hall"]["hours"]["holidays"] = []
    return hallconfig.parse(data, str(tmp_hall), base_dir=tmp_hall.parent)


ALL_DAY = {
    "days_ahead": 3,
    "cutoff_min": 0,
    "max_per_phone": 20,
    "services": [
        {
            "service": "budongchan-register",
            "slot_min": 10,
            "capacity": 2,
            "periods": [
                {
                    "days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
                    "times": ["00:00-24:00"],
                }
            ],
        }
    ],
}


def local_day(ctl: HallController, days: int = 0) -> str:
    return (ctl.engine.local().date() + dt.timedelta(days=days)).isoformat()
