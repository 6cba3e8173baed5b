"""Follow-up rules without a bus: the transition table, deadlines and the overdue list."""

from __future__ import annotations

import datetime as dt
from itertools import product
from pathlib import Path

from hall_bus import config as hallconfig
from hall_bus.features.evaluation import followup
from hall_bus.features.evaluation.workdays import WorkCalendar

ALLOWED = {
    ("open", "visited"),
    ("open", "appealed"),
    ("visited", "rectified"),
    ("visited", "appealed"),
    ("rectified", "closed"),
    ("appealed", "closed"),
    ("appealed", "open"),
}


def test_transition_table() -> None:
    for a, b in product(followup.STATES, repeat=2):
        assert followup.can_move(a, b) == ((a, b) in ALLOWED), (a, b)


def test_deadlines_on_the_hall_calendar(hall_toml: Path) -> None:
    cal = WorkCalendar(hallconfig.load(hall_toml).hours)
    saturday = dt.date(2026, 11, 28)
    assert followup.deadlines(cal, saturday, 0, 1) == (dt.date(2026, 11, 30), dt.date(2026, 11, 30))  # from a day off
    assert followup.deadlines(cal, dt.date(2026, 9, 30), 1, 3) == (dt.date(2026, 10, 6), dt.date(2026, 10, 8))
    # the exchanged Saturday 10 Oct (调休) is a working day: Friday 9 Oct + 1 = Saturday 10 Oct
    assert followup.deadlines(cal, dt.date(2026, 10, 9), 1, 2) == (dt.date(2026, 10, 10), dt.date(2026, 10, 12))


def test_overdue_depends_on_state() -> None:
    case = {"state": "open", "visit_due": "2026-12-02", "rectify_due": "2026-12-10"}
    assert followup.overdue(case, dt.date(2026, 12, 2)) == []
    assert followup.overdue(case, dt.date(2026, 12, 3)) == ["return_visit"]
    assert followup.overdue(case, dt.date(2026, 12, 11)) == ["return_visit", "rectification"]
    assert followup.overdue(case | {"state": "visited"}, dt.date(2026, 12, 11)) == ["rectification"]
    for done in ("rectified", "closed", "appealed"):
        assert followup.overdue(case | {"state": done}, dt.date(2027, 6, 1)) == []
