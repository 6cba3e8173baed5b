"""The staffing planner (排班建议): its replay by hand, a plan from a recorded simulated day that holds
on other days, and ``hallkit tidal plan``."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from hall_bus.cli import main as cli
from hall_bus.features.tidal import planner
from simulators.hall_traffic import HallDay
from simulators.traffic_scenario import Scenario, load_scenario
from tests.helpers import ROOT

DATE = "2026-03-10"


@pytest.fixture(scope="module")
def quiet_street(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The street centre on a quieter day (half its citizens): a day five windows can serve within 15 min."""
    text = (ROOT / "simulators" / "scenarios" / "street.toml").read_text(encoding="utf-8")
    text = re.sub(r"^daily = (\d+)", lambda m: f"daily = {int(m.group(1)) // 2}", text, flags=re.M)
    path = tmp_path_factory.mktemp("planner") / "street_half.toml"
    path.write_text(text, encoding="utf-8")
    return path


def recorded(sc: Scenario, seed: int) -> tuple[HallDay, planner.RecordedDay]:
    day = HallDay(sc, "static", seed)
    day.run()
    return day, planner.record_from_store(day.store.db, sc.config, DATE)


def test_replay_by_hand(quiet_street: Path):
    sc = load_scenario(quiet_street)
    day = planner.RecordedDay(DATE, 1_000_000.0, 2, ())
    t0 = day.opens
    arrivals = tuple(planner.Arrival("shebao", "shebao-pension", t0 + i, 10.0) for i in range(3))
    day = planner.RecordedDay(DATE, t0, 2, arrivals)
    one = [{1: ("shebao",)}, {1: ("shebao",)}]
    assert [round(w, 2) for w in planner.replay_hall(sc.config, day, one)] == [
        0.0,
        round(10 - 1 / 60, 2),
        round(20 - 2 / 60, 2),
    ]
    two = [{1: ("shebao",), 2: ("shebao", "minzheng")}, {}]
    assert [round(w, 2) for w in planner.replay_hall(sc.config, day, two)] == [0.0, 0.0, round(10 - 2 / 60, 2)]


def test_a_plan_from_one_recorded_day_meets_its_target_on_other_days(quiet_street: Path):
    sc = load_scenario(quiet_street)
    _, day = recorded(sc, seed=1)
    result = planner.plan(sc.config, day, target_p90_min=15.0, resamples=24)
    open_hours = sum(planner.open_hours_of(sc.config, day))
    assert result.window_hours < len(sc.config.windows) * open_hours  # fewer window-hours than all open
    for h, staff in enumerate(result.staffing):  # every domain has a window in every open hour, by skill
        if planner.open_hours_of(sc.config, day)[h]:
            assert {d for doms in staff.values() for d in doms} == {d.domain for d in sc.domains}
        for w, doms in staff.items():
            assert set(doms) <= set(sc.config.window(w).skills)
    outcome = planner.outcome(sc.config, result)
    assert planner.p90(planner.Outcome.flat(outcome.replayed)) <= 15.0
    schedule = planner.schedule(sc.config, result)
    p90s = [HallDay(sc, "static", seed, roster=schedule).run().overall()["p90"] for seed in range(2, 8)]
    assert sum(p <= 15.0 for p in p90s) >= 5, p90s  # other days, the real engine, its calling rule
    assert sum(p90s) / len(p90s) <= 15.0, p90s


def test_cli_plan_prints_the_table_and_draws_the_chart(quiet_street: Path, tmp_path: Path, capsys):
    sc = load_scenario(quiet_street)
    day, _ = recorded(sc, seed=1)
    db = tmp_path / "hall.db"
    with sqlite3.connect(db) as target:
        day.store.db.backup(target)
    args = ["tidal", "plan", "--config", str(quiet_street), "--db", str(db), "--date", DATE, "--resamples", "4"]
    assert cli.main([*args, "--chart", str(tmp_path / "plan.svg")]) == 0
    out = capsys.readouterr().out
    assert "staffing plan for 2026-03-10" in out and "window-hours:" in out and "the recorded day:" in out
    assert re.search(r"^09:00 ", out, flags=re.M)
    svg = (tmp_path / "plan.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "<rect" in svg and "polyline" in svg
    assert cli.main([*args, "--chart", str(tmp_path / "plan.png")]) == 0
    assert (tmp_path / "plan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert cli.main([*args[:-2], "--date", "2026-03-09"]) == 2  # nothing recorded that day
    assert "no staffed tickets on 2026-03-09" in capsys.readouterr().err
