"""Working-day deadlines, and the daily report against an independent calculation on a simulated day."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.controller.store import Store
from hall_bus.features.evaluation import reports
from hall_bus.features.evaluation.chart import render
from hall_bus.features.evaluation.settings import load as load_settings
from hall_bus.features.evaluation.store import EvaluationStore
from hall_bus.features.evaluation.workdays import WorkCalendar
from hall_bus.queue.engine import QueueEngine
from tests.hall_bus.features.evaluation.evaluation_day import DAY, RELIEF, TZ, simulate_day


@pytest.fixture
def cfg(hall_toml: Path):
    return hallconfig.load(hall_toml)


def test_working_days_skip_weekends_holidays_and_count_exchanged_workdays(cfg) -> None:
    cal = WorkCalendar(cfg.hours)
    assert cal.add_working_days(dt.date(2026, 11, 20), 1) == dt.date(2026, 11, 23)  # Friday -> Monday
    assert cal.add_working_days(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 4)  # 1 Jan is a holiday, then a weekend
    assert cal.add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 6)  # 1, 2, 5 Oct holidays; 3, 4 weekend
    assert cal.is_working_day(dt.date(2026, 10, 10))  # a Saturday worked in exchange (调休)
    assert cal.add_working_days(dt.date(2026, 11, 23), 15) == dt.date(2026, 12, 14)


def test_followup_deadlines_across_weekend_and_holiday(tmp_path: Path, cfg) -> None:
    store = Store(tmp_path / "h.db")
    engine = QueueEngine(cfg, store)
    ev = EvaluationStore(store, cfg.hall_id, WorkCalendar(cfg.hours), TZ)
    thursday = dt.datetime(2026, 12, 31, 16, 0, tzinfo=TZ).timestamp()
    ticket = {"id": 1, "code": "A001", "day": "2026-12-31", "service": "shebao-card", "domain": "shebao"}
    with store.transaction() as db:  # a finished ticket to hang the evaluation on
        db.execute(
            "INSERT INTO tickets (id, hall, day, prefix, number, code, service, domain, issued_at, state) "
            "VALUES (1, ?, '2026-12-31', 'A', 1, 'A001', 'shebao-card', 'shebao', ?, 'finished')",
            (cfg.hall_id, thursday),
        )
    ev.rate(ticket, 1, "S0101", 5, "attitude", "pad", thursday)
    f = ev.followups()[0]
    assert (f["visit_due"], f["rectify_due"], f["state"]) == ("2027-01-04", "2027-01-22", "open")
    assert ev.overdue(f, dt.date(2027, 1, 4)) == []  # the due day itself is in time
    assert ev.overdue(f, dt.date(2027, 1, 5)) == ["return_visit"]
    assert ev.overdue(f, dt.date(2027, 1, 23)) == ["return_visit", "rectification"]
    assert engine  # (the engine created the core tables)


def test_settings_errors_name_the_key(tmp_path: Path, hall_toml: Path) -> None:
    text = hall_toml.read_text(encoding="utf-8").replace("rectify_days = 15", "rectify_days = 0")
    bad = tmp_path / "hall.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(hallconfig.ConfigError, match="evaluation.rectify_days"):
        load_settings(hallconfig.load(bad))


def expected(recs: list[dict], clerk_of) -> dict:
    """The figures of a group of tickets, from the test's own log (docs/evaluation.md definitions)."""
    called = [r for r in recs if "called" in r]
    served = [r for r in recs if "finished" in r]
    no_shows = [r for r in called if r["no_show"]]
    waits = sorted((r["called"] - r["issued"]) / 60 for r in called)
    rated = [r for r in served if "level" in r]
    share = lambda n, d: n / d if d else None  # noqa: E731
    followups: dict[str, int] = {}
    for r in rated:
        if r["level"] >= 4:
            followups[r["followup"]] = followups.get(r["followup"], 0) + 1
    return {
        "tickets": len(recs),
        "served": len(served),
        "no_shows": len(no_shows),
        "no_show_rate": share(len(no_shows), len(served) + len(no_shows)),
        "wait_mean_min": sum(waits) / len(waits) if waits else None,
        "wait_p90_min": waits[math.ceil(0.9 * len(waits)) - 1] if waits else None,
        "handling_mean_min": share(sum((r["finished"] - r["started"]) / 60 for r in served), len(served)),
        "evaluations": {str(k): sum(r["level"] == k for r in rated) for k in range(1, 6)},
        "evaluated": len(rated),
        "very_satisfied_rate": share(sum(r["level"] == 1 for r in rated), len(rated)),
        "good_rate": share(sum(r["level"] in (1, 2, 3) for r in rated), len(rated)),
        "not_evaluated_rate": share(len(served) - len(rated), len(served)),
        "bad_reviews": sum(r["level"] >= 4 for r in rated),
        "followups": followups,
    }


def assert_figures(got: dict, want: dict, where: str) -> None:
    assert set(got) == set(want), where
    for key, value in want.items():
        if not isinstance(value, float):
            assert got[key] == value, f"{where}: {key}"
        else:
            tol = 0.006 if key.endswith("_min") else 1e-4  # minutes are rounded to 0.01, shares to 0.0001
            assert got[key] == pytest.approx(value, abs=tol), f"{where}: {key}"


def test_report_matches_an_independent_calculation(tmp_path: Path, cfg) -> None:
    store = Store(tmp_path / "day.db", durable=False)
    log = simulate_day(cfg, store)
    staff = load_settings(cfg)
    clerk_of = lambda w: staff.clerk_of(w).staff_no  # noqa: E731
    report = reports.daily(store, cfg.hall_id, DAY, clerk_of=clerk_of, tz=TZ)
    assert len(log) == 300 and all("called" in r for r in log)  # the whole day was served
    rated = [r for r in log if "level" in r]
    assert {r["level"] for r in rated} == {1, 2, 3, 4, 5} and any("level" not in r for r in log if "finished" in r)
    assert any(r.get("followup") == "visited" for r in log) and any(r.get("followup") == "open" for r in log)
    assert_figures(report["overall"], expected(log, clerk_of), "overall")
    groups = {
        "window": lambda r: str(r["window"]),
        "clerk": lambda r: r.get("clerk") or clerk_of(r["window"]),  # no-shows count for the window's clerk
        "domain": lambda r: r["domain"],
        "service": lambda r: r["service"],
    }
    for group, key in groups.items():
        names = sorted({key(r) for r in log})
        assert sorted(report["by"][group]) == names, group
        for name in names:
            assert_figures(
                report["by"][group][name], expected([r for r in log if key(r) == name], clerk_of), f"{group} {name}"
            )
    assert RELIEF in report["by"]["clerk"] and "S0102" in report["by"]["clerk"]
    hourly: dict[int, list[float]] = {}
    for r in log:
        hourly.setdefault(dt.datetime.fromtimestamp(r["issued"], TZ).hour, []).append((r["called"] - r["issued"]) / 60)
    assert set(report["hourly_wait_mean_min"]) == set(hourly)
    for hour, waits in hourly.items():
        assert report["hourly_wait_mean_min"][hour] == pytest.approx(sum(waits) / len(waits), abs=0.006)
    png = render(report, tmp_path / "day.png")
    assert png.stat().st_size > 5000
