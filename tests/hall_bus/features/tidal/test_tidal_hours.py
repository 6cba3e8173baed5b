"""Tidal windows with hours per window (延时/错时): a window outside its hours is no capacity for the
load and the proposals, and the day planner plans the hours some window serves."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

from hall_bus import config as hallconfig
from hall_bus.controller.store import Store
from hall_bus.features.tidal.load import LoadModel
from hall_bus.features.tidal.planner import RecordedDay, open_hours_of
from hall_bus.features.tidal.settings import TidalSettings
from hall_bus.queue.engine import QueueEngine

TZ = ZoneInfo("Asia/Shanghai")
HALL = Path(__file__).parents[3] / "fixtures" / "schedule-hall.toml"


def test_a_window_outside_its_hours_is_no_capacity_and_the_lunch_window_carries_the_domain(tmp_path: Path) -> None:
    clock = [dt.datetime(2026, 11, 23, 12, 15, tzinfo=TZ).timestamp()]  # Monday lunch: only window 2 works
    engine = QueueEngine(hallconfig.load(HALL), Store(tmp_path / "hall.db"), clock=lambda: clock[0])
    for _ in range(4):
        engine.issue("s", idempotency_key=f"k-{random.getrandbits(64):x}")
    load = LoadModel(engine.config, engine, TidalSettings()).compute()
    assert {n: w.state for n, w in load.windows.items()} == {1: "closed", 2: "idle", 3: "closed"}
    assert load.domains["shebao"].windows == [2] and load.domains["shebao"].capacity == 1.0
    assert [w.number for w in load.windows_serving("shebao")] == [2]
    assert load.wait("shebao") == 40.0  # four 10-minute tickets before a new one, one window
    clock[0] += 90 * 60  # 13:45: window 1 is back
    load = LoadModel(engine.config, engine, TidalSettings()).compute()
    assert load.domains["shebao"].windows == [1, 2]


def test_the_day_planner_plans_the_hours_some_window_serves() -> None:
    config = hallconfig.load(HALL)

    def planned(day: dt.date) -> list[bool]:
        opens = dt.datetime.combine(day, dt.time(9), TZ).timestamp()
        return open_hours_of(config, RecordedDay(day.isoformat(), opens, 11, ()))  # 09:00 .. 20:00

    assert planned(dt.date(2026, 11, 23)) == [True] * 9 + [False] * 2  # Monday: the lunch window, closed at 17:30
    assert planned(dt.date(2026, 11, 26)) == [True] * 11  # Thursday: the evening window until 19:30
    assert planned(dt.date(2026, 11, 28)) == [True] * 3 + [False] * 8  # Saturday morning
