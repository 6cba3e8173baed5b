"""Working-day deadlines, and the daily report against an independent calculation on a simulated day."""
from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devices import config as hallconfig
from hall_bus.evaluation import reports
from hall_bus.evaluation.chart import render
from hall_bus.evaluation.settings import load as load_settings
from hall_bus.evaluation.store import EvaluationStore
from hall_bus.evaluation.workdays import WorkCalendar
from hall_bus.queue_engine import QueueEngine
from hall_bus.store import Store

TZ = ZoneInfo("Asia/Shanghai")


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
        db.execute("INSERT INTO tickets (id, hall, day, prefix, number, code, service, domain, issued_at, state) "
                   "VALUES (1, ?, '2026-12-31', 'A', 1, 'A001', 'shebao-card', 'shebao', ?, 'finished')", (cfg.hall_id, thursday))
    ev.rate(ticket, 1, "S0101", 5, "attitude", "pad", thursday)
    f = ev.followups()[0]
    assert (f["visit_due"], f["state"]) == ("2027-01-04", "open")
    assert ev.overdue(f, dt.date(2027, 1, 4)) == []  # the due day itself is in time
    assert ev.overdue(f, dt.date(2027, 1, 5)) == ["return_visit"]
    assert engine  # (the engine created the core tables)


def test_settings_errors_name_the_key(tmp_path: Path, hall_toml: Path) -> None:
    text = hall_toml.read_text(encoding="utf-8").replace("rectify_days = 15", "rectify_days = 0")
    bad = tmp_path / "hall.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(hallconfig.ConfigError, match="evaluation.rectify_days"):
        load_settings(hallconfig.load(bad))


def simulate_day(cfg, store: Store, seed: int = 4):
    """A day of tickets driven through the real engine with a fake clock; returns what happened."""
    import dataclasses

    cfg = dataclasses.replace(cfg, hours=dataclasses.replace(cfg.hours, always_open=True))  # no lunch break in this day
    day = dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ)
    clock = [day.timestamp()]
    engine = QueueEngine(cfg, store, clock=lambda: clock[0])
    ev = EvaluationStore(store, cfg.hall_id, WorkCalendar(cfg.hours), TZ)
    rng = random.Random(seed)
    services = [s.id for s in cfg.services if not s.self_service]
    log = []  # independent record: per ticket id, the facts the report must reproduce
    arrivals = sorted(rng.uniform(0, 7.5 * 3600) for _ in range(240))
    t_next = 0
    while t_next < len(arrivals) or any(w.current for w in engine.windows()) or engine.waiting():
        now = clock[0] - day.timestamp()
        while t_next < len(arrivals) and arrivals[t_next] <= now:
            tk, _ = engine.issue(rng.choice(services), idempotency_key=f"k{t_next}")
            log.append({"id": tk.id, "issued": clock[0], "domain": tk.domain, "service": tk.service})
            t_next += 1
        for w in engine.windows():
            if w.paused:
                continue
            if w.current is None:
                t, _ = engine.call_next(w.number)
                if t:
                    rec = next(r for r in log if r["id"] == t.id)
                    rec.update(called=clock[0], window=w.number, end=clock[0] + rng.uniform(120, 900),
                               no_show=rng.random() < 0.06)
            else:
                rec = next(r for r in log if r["id"] == w.current.id)
                if clock[0] >= rec["end"]:
                    if rec["no_show"]:
                        engine.no_show(w.number)
                    else:
                        if w.current.state == "called":
                            engine.start(w.number)
                            rec["started"] = clock[0]
                            rec["end"] = clock[0] + rng.uniform(180, 1200)
                            continue
                        engine.finish(w.number)
                        rec["finished"] = clock[0]
                        r = rng.random()
                        if r < 0.8:
                            level = rng.choices([1, 2, 3, 4, 5], [60, 25, 8, 5, 2])[0]
                            reason = "efficiency" if level >= 4 else None
                            ticket = {"id": rec["id"], "code": "X", "day": "2026-11-24", "service": rec["service"], "domain": rec["domain"]}
                            ev.rate(ticket, w.number, None, level, reason, "pad", clock[0])
                            rec["level"] = level
        clock[0] += 30
    return log


def test_report_matches_an_independent_calculation(tmp_path: Path, cfg) -> None:
    store = Store(tmp_path / "day.db", durable=False)
    log = simulate_day(cfg, store)
    report = reports.daily(store, cfg.hall_id, "2026-11-24", tz=TZ)
    o = report["overall"]
    served = [r for r in log if "finished" in r]
    waits = sorted((r["called"] - r["issued"]) / 60 for r in log if "called" in r)
    rated = [r for r in served if "level" in r]
    assert o["tickets"] == len(log) == 240
    assert o["served"] == len(served)
    assert o["no_shows"] == sum(1 for r in log if r.get("no_show") and "called" in r)
    assert o["wait_mean_min"] == pytest.approx(sum(waits) / len(waits), abs=0.01)
    assert o["wait_p90_min"] == pytest.approx(waits[math.ceil(0.9 * len(waits)) - 1], abs=0.01)
    assert o["handling_mean_min"] == pytest.approx(sum((r["finished"] - r["started"]) / 60 for r in served) / len(served), abs=0.01)
    assert o["evaluated"] == len(rated)
    assert o["very_satisfied_rate"] == pytest.approx(sum(r["level"] == 1 for r in rated) / len(rated), abs=0.005)
    assert o["good_rate"] == pytest.approx(sum(r["level"] <= 3 for r in rated) / len(rated), abs=0.005)
    assert o["not_evaluated_rate"] == pytest.approx((len(served) - len(rated)) / len(served), abs=0.005)
    assert o["bad_reviews"] == sum(r["level"] >= 4 for r in rated) == o["followups"].get("open", 0)
    w1 = [r for r in log if r.get("window") == 1]
    assert report["by"]["window"]["1"]["tickets"] == len(w1)
    assert sum(d["tickets"] for d in report["by"]["domain"].values()) == 240
    png = render(report, tmp_path / "day.png")
    assert png.stat().st_size > 5000
