"""Bad-review follow-up cases (差评整改): states, the workflow's steps, deadlines and what is overdue.

A case opens ``open`` for every rating of level 4 or 5. Deadlines are counted in working days of the
hall's calendar from the day of the rating: a return visit (回访) and a rectification (整改). The
deadline day itself is still in time.

    open -> visited -> rectified -> closed
    open | visited -> appealed -> closed | open

The web console and the CLI move a case by steps (:data:`STEPS`), each refused out of order with its
own error code (:func:`refusal`): a return visit comes first (``visit_required``), then the
rectification (``rectification_required``), then the close. Assigning the case to a staff member
and adding a note change no state; a closed case takes notes only. A return visit whose result is
``unreachable`` (群众联系不上) is recorded but leaves the case ``open``: the visit is still owed.
``followup.update`` (the CLI's generic move along :data:`TRANSITIONS`) answers ``invalid_transition``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hall_bus.errors import CodedError
from hall_bus.features.evaluation.workdays import WorkCalendar

STATES = ("open", "visited", "rectified", "closed", "appealed")
TRANSITIONS: dict[str, set[str]] = {
    "open": {"visited", "appealed"},
    "visited": {"rectified", "appealed"},
    "rectified": {"closed"},
    "appealed": {"closed", "open"},
    "closed": set(),
}
STEPS = ("assign", "note", "visit", "rectify", "close")
STEP_STATE = {"visit": "visited", "rectify": "rectified", "close": "closed"}  # where a step moves a case
VISIT_RESULTS = ("satisfied", "basically_satisfied", "dissatisfied", "unreachable")  # 回访结果
UNREACHABLE = "unreachable"

# The SQL twin of :func:`overdue` (over ``f``, the followups table, and the parameter ``:today``).
OVERDUE_SQL = (
    "((f.state = 'open' AND f.visit_due < :today) OR (f.state IN ('open', 'visited') AND f.rectify_due < :today))"
)


def deadlines(calendar: WorkCalendar, day: dt.date, visit_days: int, rectify_days: int) -> tuple[dt.date, dt.date]:
    """(return visit due, rectification due) for a bad review given on ``day``."""
    return calendar.add_working_days(day, visit_days), calendar.add_working_days(day, rectify_days)


def can_move(state: str, to: str) -> bool:
    return to in TRANSITIONS[state]


class StepRefused(CodedError):
    """A step of the workflow done out of order; ``code`` says which step is missing or done."""


def refusal(state: str, step: str) -> StepRefused | None:
    """Why ``step`` may not be done on a case in ``state``; None when it may."""
    if step == "note":
        return None
    if state == "closed":
        return StepRefused("followup_closed", "the follow-up is closed; it takes notes only")
    if step == "assign":
        return None
    if state == "appealed" and step in ("visit", "rectify"):
        return StepRefused("followup_appealed", "the follow-up is under appeal: close it or reopen it first")
    if step == "visit" and state != "open":
        return StepRefused("already_visited", "the return visit (回访) is already recorded")
    if step == "rectify" and state == "open":
        return StepRefused("visit_required", "the return visit (回访) comes before the rectification (整改)")
    if step == "rectify" and state == "rectified":
        return StepRefused("already_rectified", "the rectification (整改) is already recorded")
    if step == "close" and state == "open":
        return StepRefused(
            "visit_required", "a follow-up is closed only after its return visit (回访) and rectification (整改)"
        )
    if step == "close" and state == "visited":
        return StepRefused("rectification_required", "a follow-up is closed only after its rectification (整改)")
    return None


def next_state(state: str, step: str, result: str | None = None) -> str:
    """The state after an allowed ``step`` (an unreachable citizen leaves the visit owed)."""
    if step == "visit" and result == UNREACHABLE:
        return state
    return STEP_STATE.get(step, state)


def overdue(case: dict[str, Any], today: dt.date) -> list[str]:
    """Which deadlines a case (``state``, ``visit_due``, ``rectify_due``) has missed on ``today``."""
    late = []
    if case["state"] == "open" and today > dt.date.fromisoformat(case["visit_due"]):
        late.append("return_visit")
    if case["state"] in ("open", "visited") and today > dt.date.fromisoformat(case["rectify_due"]):
        late.append("rectification")
    return late
