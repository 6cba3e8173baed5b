"""Bad-review follow-up cases (差评整改): states, allowed moves, deadlines and what is overdue.

A case opens ``open`` for every rating of level 4 or 5. Deadlines are counted in working days of the
hall's calendar from the day of the rating: a return visit (回访) and a rectification (整改). The
deadline day itself is still in time.

    open -> visited -> rectified -> closed
    open | visited -> appealed -> closed | open
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hall_bus.features.evaluation.workdays import WorkCalendar

STATES = ("open", "visited", "rectified", "closed", "appealed")
TRANSITIONS: dict[str, set[str]] = {
    "open": {"visited", "appealed"},
    "visited": {"rectified", "appealed"},
    "rectified": {"closed"},
    "appealed": {"closed", "open"},
    "closed": set(),
}


def deadlines(calendar: WorkCalendar, day: dt.date, visit_days: int, rectify_days: int) -> tuple[dt.date, dt.date]:
    """(return visit due, rectification due) for a bad review given on ``day``."""
    return calendar.add_working_days(day, visit_days), calendar.add_working_days(day, rectify_days)


def can_move(state: str, to: str) -> bool:
    return to in TRANSITIONS[state]


def overdue(case: dict[str, Any], today: dt.date) -> list[str]:
    """Which deadlines a case (``state``, ``visit_due``, ``rectify_due``) has missed on ``today``."""
    late = []
    if case["state"] == "open" and today > dt.date.fromisoformat(case["visit_due"]):
        late.append("return_visit")
    if case["state"] in ("open", "visited") and today > dt.date.fromisoformat(case["rectify_due"]):
        late.append("rectification")
    return late
