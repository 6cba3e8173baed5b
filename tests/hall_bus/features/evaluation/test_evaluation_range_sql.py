"""``report.range`` straight on the store: a year of ~10k finished tickets, every grouping against the
test's own count in plain Python, the query plan (an index, not a scan of every ticket), the time it
takes, and the ranges it refuses."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.controller.store import Store
from hall_bus.features.evaluation import ranges
from hall_bus.features.evaluation.settings import load as load_settings
from hall_bus.features.evaluation.store import EvaluationStore
from hall_bus.features.evaluation.workdays import WorkCalendar
from tests.hall_bus.features.evaluation.evaluation_day import TZ

HALL = "range-hall"
FIRST = dt.date(2026, 1, 1)
CLERKS = {1: "S0101", 2: "S0102", 3: "S0103"}


def _fill(store: Store, n: int = 10_000, seed: int = 7) -> list[dict]:
    """n tickets over 2026 (finished, a few no-shows and some of another hall); about 70% rated."""
    rng = random.Random(seed)
    tickets, evals, log = [], [], []
    for i in range(1, n + 1):
        day = FIRST + dt.timedelta(days=rng.randrange(365))
        finished_at = dt.datetime.combine(day, dt.time(9), TZ).timestamp() + rng.uniform(0, 8.5 * 3600)
        window = rng.choice([1, 2, 3, None])
        state = "no_show" if rng.random() < 0.05 else "finished"
        hall = "other-hall" if rng.random() < 0.02 else HALL
        service, domain = rng.choice(
            [("shebao-card", "shebao"), ("yibao-reimburse", "yibao"), ("gongan-hukou", "gongan")]
        )
        tickets.append(
            (
                i,
                hall,
                day.isoformat(),
                "A",
                i,
                f"A{i:05d}",
                service,
                domain,
                finished_at - 900,
                state,
                window,
                finished_at,
            )
        )
        rec = {"hall": hall, "day": day, "state": state, "window": window, "service": service, "domain": domain,
               "at": finished_at, "level": None, "clerk": CLERKS.get(window)}  # fmt: skip
        roll = rng.random()
        if state == "finished" and roll < 0.7:
            level = rng.choices([1, 2, 3, 4, 5], weights=[80, 8, 5, 4, 3])[0]
            staff = "S0199" if window == 2 and rng.random() < 0.3 else CLERKS.get(window)  # a relief clerk
            rec.update(level=level, clerk=staff)
            evals.append((i, hall, day.isoformat(), f"A{i:05d}", window, staff, service, domain, "rated", level))
        elif state == "finished" and roll < 0.8:  # the pad timed out: not evaluated, the row names who served
            staff = "S0199" if window == 2 and rng.random() < 0.3 else CLERKS.get(window)
            rec["clerk"] = staff
            evals.append((i, hall, day.isoformat(), f"A{i:05d}", window, staff, service, domain, "not_evaluated", None))
        log.append(rec)
    with store.transaction() as db:
        db.executemany(
            "INSERT INTO tickets (id, hall, day, prefix, number, code, service, domain, issued_at, state, window, "
            "finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            tickets,
        )
        db.executemany(
            "INSERT INTO evaluations (ticket_id, hall, day, code, window, staff_no, service, domain, status, level) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            evals,
        )
    return log


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[dict]]:
    cfg = hallconfig.load(Path(__file__).resolve().parents[4] / "hall.toml")
    store = Store(tmp_path_factory.mktemp("range") / "h.db", durable=False)
    EvaluationStore(store, HALL, WorkCalendar(cfg.hours), TZ)  # the evaluation tables
    return store, _fill(store)


def _key(group: str, r: dict) -> str:
    return {
        "day": lambda: r["day"].isoformat(),
        "week": lambda: "{}-W{:02d}".format(*r["day"].isocalendar()[:2]),
        "month": lambda: r["day"].isoformat()[:7],
        "window": lambda: "" if r["window"] is None else str(r["window"]),
        "clerk": lambda: r["clerk"] or "",
        "domain": lambda: r["domain"],
        "service": lambda: r["service"],
        "hour": lambda: f"{dt.datetime.fromtimestamp(r['at'], TZ).hour:02d}",
    }[group]()


def expected(log: list[dict], group: str, first: dt.date, last: dt.date) -> dict[str, dict]:
    rows: dict[str, dict] = defaultdict(lambda: {"finished": 0, "levels": dict.fromkeys("12345", 0)})
    for r in log:
        if r["hall"] != HALL or r["state"] != "finished" or not first <= r["day"] <= last:
            continue
        row = rows[_key(group, r)]
        row["finished"] += 1
        if r["level"]:
            row["levels"][str(r["level"])] += 1
    for row in rows.values():
        row["evaluated"] = sum(row["levels"].values())
        row["not_evaluated"] = row["finished"] - row["evaluated"]
        row["very_satisfied_rate"] = round(row["levels"]["1"] / row["evaluated"], 4) if row["evaluated"] else None
        row["not_evaluated_rate"] = round(row["not_evaluated"] / row["finished"], 4)
        row["bad_reviews"] = row["levels"]["4"] + row["levels"]["5"]
    return dict(rows)


def _clerk_of(window: int) -> str | None:
    return CLERKS.get(window)


@pytest.mark.parametrize("group", ranges.GROUPS)
def test_every_grouping_counts_what_the_log_says(year, group: str) -> None:
    store, log = year
    first, last = dt.date(2026, 3, 1), dt.date(2026, 8, 31)
    got = ranges.report_range(store, HALL, first.isoformat(), last.isoformat(), group, _clerk_of, TZ)
    want = expected(log, group, first, last)
    assert [r["key"] for r in got["rows"]] == sorted(want)
    fields = ("finished", "evaluated", "not_evaluated", "levels", "very_satisfied_rate", "not_evaluated_rate")
    for row in got["rows"]:
        assert {f: row[f] for f in (*fields, "bad_reviews")} == {
            f: want[row["key"]][f] for f in (*fields, "bad_reviews")
        }
    total = expected(log, "domain", first, last)  # any partition sums to the same totals
    assert got["totals"]["finished"] == sum(r["finished"] for r in total.values())
    assert got["totals"]["evaluated"] == sum(r["evaluated"] for r in total.values())
    assert got["target"] == 0.99 and [lv["zh"] for lv in got["levels"]][0] == "非常满意"


def test_a_year_answers_well_under_a_second_through_the_index(year) -> None:
    store, log = year
    for group in ranges.GROUPS:
        plan = " ".join(r[-1] for r in store.db.execute("EXPLAIN QUERY PLAN " + ranges.query(group), {
            "hall": HALL, "first": "2026-01-01", "last": "2026-12-31"}))  # fmt: skip
        assert "SEARCH t USING INDEX" in plan and "SCAN t" not in plan, plan
        assert "SEARCH e USING INTEGER PRIMARY KEY" in plan, plan
    started = time.perf_counter()
    for group in ranges.GROUPS:
        got = ranges.report_range(store, HALL, "2026-01-01", "2026-12-31", group, _clerk_of, TZ)
        assert got["totals"]["finished"] == sum(1 for r in log if r["hall"] == HALL and r["state"] == "finished")
    assert time.perf_counter() - started < 1.0  # all eight groupings of ~10k tickets


def test_rates_follow_the_definitions_and_the_target() -> None:
    f = ranges.figures(finished=200, evaluated=100, levels=[99, 1, 0, 0, 0])
    assert (f["very_satisfied_rate"], f["good_rate"], f["not_evaluated_rate"], f["meets_target"]) == (
        0.99,
        1.0,
        0.5,
        True,
    )
    f = ranges.figures(finished=3, evaluated=0, levels=[0] * 5)
    assert (f["very_satisfied_rate"], f["meets_target"], f["not_evaluated_rate"]) == (None, None, 1.0)
    assert ranges.figures(10, 10, [9, 0, 0, 1, 0])["meets_target"] is False


def test_labels_name_windows_clerks_domains_services_weeks_months_and_hours(hall_toml: Path) -> None:
    cfg = hallconfig.load(hall_toml)
    label = ranges.labeller(cfg, load_settings(cfg))
    assert label("window", "1") == {"zh": "1号窗口", "en": "Window 1"}
    assert label("clerk", "S0101") == {"zh": "王芳（S0101）", "en": "王芳 (S0101)"}
    assert label("domain", "shebao") == {"zh": "社保", "en": "Social insurance"}
    assert label("service", "gongan-hukou") == {"zh": "户籍业务", "en": "Household registration"}
    assert label("week", "2026-W48") == {"zh": "2026年第48周", "en": "week 48 of 2026"}
    assert label("month", "2026-11") == {"zh": "2026年11月", "en": "Nov 2026"}
    assert label("hour", "09") == {"zh": "09:00-10:00", "en": "09:00-10:00"}
    assert label("day", "2026-11-24") is None and label("clerk", "")["en"] == "unknown"


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        ("2026-03-02", "2026-03-01", "invalid_range"),
        ("2026-02-30", "2026-03-01", "invalid_range"),
        ("2026-01-01", "2027-01-02", "range_too_long"),
    ],
)
def test_ranges_it_refuses(year, first: str, last: str, code: str) -> None:
    with pytest.raises(ranges.RangeError) as err:
        ranges.report_range(year[0], HALL, first, last, "day")
    assert err.value.code == code


def test_a_leap_year_fits_and_an_empty_range_has_zero_totals(year) -> None:
    got = ranges.report_range(year[0], HALL, "2028-01-01", "2028-12-31", "month")
    assert got["rows"] == [] and got["totals"]["finished"] == 0 and got["totals"]["very_satisfied_rate"] is None
