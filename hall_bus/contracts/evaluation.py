"""Bus contracts of the evaluation feature (docs/evaluation.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hall_bus.contracts.base import (
    Closed,
    ContractSet,
    MessageContract,
    Open,
    RequestContract,
    array,
    integer,
    optional,
    real,
    text,
)
from hall_bus.vocabulary import TICKET_CODE_PATTERN, Reason

DAY = r"\d{4}-\d{2}-\d{2}"
# The follow-up states of hall_bus.features.evaluation.followup.STATES (tests/hall_bus/contracts/test_contract_literals.py).
FollowupState = Literal["open", "visited", "rectified", "closed", "appealed"]
# The return-visit results of hall_bus.features.evaluation.followup.VISIT_RESULTS.
VisitResult = Literal["satisfied", "basically_satisfied", "dissatisfied", "unreachable"]
# The groupings of hall_bus.features.evaluation.ranges.GROUPS.
ReportGroup = Literal["day", "week", "month", "window", "clerk", "domain", "service", "hour"]
STAFF_NO = r"[A-Za-z0-9_-]{1,16}"


class Evaluation(Open):
    ticket: str = text()
    status: str = text()
    level: int | None
    channel: str | None = text()


class HistoryEntry(Open):
    """One thing done to a follow-up: who (``sender/actor``), when, which step, the state after it."""

    at: float
    actor: str = text()
    action: str = text(description="assign | note | visit | rectify | close | update")
    state: str = text()
    note: str = text(max_len=500)


class Followup(Open):
    id: int
    ticket: str = text()
    state: str = text()
    visit_due: str = text(description="return visit (回访) due, end of that working day")
    rectify_due: str = text(description="rectification (整改) due, end of that working day")
    overdue: list[str] = array(description="missed deadlines today: return_visit, rectification")
    assignee: str | None = text(max_len=16)
    assignee_name: str | None = text()
    real_name: bool = optional("the ticket was taken with an identity (实名)")
    visit_result: str | None = text()
    history: list[HistoryEntry] = array(default=[])


class EvaluationSubmit(Closed):
    ticket: str = text(pattern=TICKET_CODE_PATTERN)
    day: str = text(pattern=DAY, default=None)
    level: int = integer(min=1, max=5)
    reason: Reason = optional()
    channel: Literal["kiosk", "qr"] = "kiosk"


class EvaluationRecorded(Closed):
    recorded: bool
    evaluation: Evaluation


class EvaluationGet(Closed):
    ticket: str = text(pattern=TICKET_CODE_PATTERN)
    day: str = text(pattern=DAY, default=None)


class EvaluationView(Closed):
    evaluation: Evaluation
    rateable: bool


class FollowupList(Closed):
    state: FollowupState = optional()
    overdue: bool = False
    from_day: str = text(pattern=DAY, default=None, description="bad reviews of tickets of this day or later")
    to_day: str = text(pattern=DAY, default=None)
    assignee: str = text(pattern=STAFF_NO, default=None)
    limit: int = integer(min=1, max=200, default=100, description="newest first; the bus carries 256 KiB at most")
    before_id: int = integer(min=1, default=None, description="the next page: follow-ups with a smaller id")


class FollowupSummary(Closed):
    """Over the day range asked (any state): the real-name (实名) bad reviews must all reach closed."""

    total: int
    open: int = integer(description="not closed yet")
    overdue: int
    closed: int
    real_name: int
    real_name_closed: int
    real_name_closed_rate: float | None = real(min=0, max=1)


class Followups(Closed):
    followups: list[Followup] = array()
    summary: FollowupSummary = optional()


class FollowupUpdate(Closed):
    id: int = integer(min=1)
    state: FollowupState
    note: str = text(max_len=500, default="")
    actor: str = text(min_len=1, max_len=64)


class FollowupOne(Closed):
    followup: Followup


class FollowupStep(Closed):
    id: int = integer(min=1)
    note: str = text(max_len=500, default="")
    actor: str = text(min_len=1, max_len=64, description="the staff id the web console or CLI names (audited)")


class FollowupAssign(FollowupStep):
    assignee: str = text(pattern=STAFF_NO, description="staff_no of a [[staff]] entry")


class FollowupNote(FollowupStep):
    note: str = text(min_len=1, max_len=500)


class FollowupVisit(FollowupStep):
    result: VisitResult


class FollowupRectify(FollowupStep):
    note: str = text(min_len=1, max_len=500, description="what was rectified (整改措施)")


class FollowupClose(FollowupStep):
    pass


class ReportDaily(Closed):
    date: str = text(pattern=DAY, default=None)


class Report(Open):
    hall: str = text()
    day: str = text()


class ReportRange(Closed):
    from_day: str = text(pattern=DAY)
    to_day: str = text(pattern=DAY, description="inclusive; at most 366 days after from_day")
    group: ReportGroup = "day"


class Label(Closed):
    zh: str = text()
    en: str = text()


class LevelName(Closed):
    level: int = integer(min=1, max=5)
    zh: str = text()
    en: str = text()


class RangeFigures(Closed):
    finished: int = integer(description="tickets served (办结)")
    evaluated: int
    not_evaluated: int = integer(description="未评价")
    levels: dict[str, int] = Field(description="counts per level '1' (非常满意) .. '5' (非常不满意)")
    very_satisfied_rate: float | None = real(min=0, max=1, description="非常满意率 = level 1 / evaluated")
    good_rate: float | None = real(min=0, max=1, description="好评率 = levels 1-3 / evaluated")
    not_evaluated_rate: float | None = real(min=0, max=1, description="未评价率 = not evaluated / finished")
    bad_reviews: int
    meets_target: bool | None
    channels: dict[str, int] = Field(
        default_factory=dict,
        description="ratings per channel: pad (the window's 评价器), kiosk, qr (the ticket's page)",
    )


class RangeRow(RangeFigures):
    key: str = text(description="day, 2026-W48, 2026-11, window number, staff_no, domain, service, hour 09")
    label: Label | None


class RangeReport(Closed):
    hall: str = text()
    from_day: str = text(pattern=DAY)
    to_day: str = text(pattern=DAY)
    group: ReportGroup
    target: float = real(min=0, max=1, description="the 非常满意率 target (99%)")
    levels: list[LevelName] = array(max_len=5)
    rows: list[RangeRow] = array(max_len=1000)
    totals: RangeFigures


class EvaluationEvent(Closed):
    """The public evaluation event: closed, so that no name or identity can ride along."""

    ticket: str = text(pattern=TICKET_CODE_PATTERN)
    window: int | None = integer(min=1, max=999)
    staff_no: str | None = text(max_len=16)
    service: str = text(max_len=64)
    domain: str = text(max_len=64)
    channel: Literal["pad", "kiosk", "qr"]
    level: int | None = integer(min=1, max=5)
    reason: Reason | None
    at: float


CONTRACTS = ContractSet(
    requests=[
        RequestContract(
            "evaluation.submit",
            EvaluationSubmit,
            EvaluationRecorded,
            "Rate a finished ticket at the kiosk or by the QR on the ticket (counts only if the pad did not rate it).",
        ),
        RequestContract(
            "evaluation.get", EvaluationGet, EvaluationView, "A ticket's evaluation, and whether it can still be rated."
        ),
        RequestContract(
            "followup.list",
            FollowupList,
            Followups,
            "Bad-review follow-ups (差评整改), optionally only the overdue ones.",
        ),
        RequestContract("followup.update", FollowupUpdate, FollowupOne, "Move a follow-up on, with a note (audited)."),
        RequestContract(
            "followup.assign", FollowupAssign, FollowupOne, "Assign a follow-up to a staff member (audited)."
        ),
        RequestContract("followup.note", FollowupNote, FollowupOne, "Add a note to a follow-up (audited)."),
        RequestContract(
            "followup.visit",
            FollowupVisit,
            FollowupOne,
            "Record the return visit (回访) and its result; unreachable leaves the visit owed (audited).",
        ),
        RequestContract(
            "followup.rectify",
            FollowupRectify,
            FollowupOne,
            "Record the rectification (整改), after the return visit (audited).",
        ),
        RequestContract(
            "followup.close",
            FollowupClose,
            FollowupOne,
            "Close a follow-up after its rectification, or an appealed one (audited).",
        ),
        RequestContract(
            "report.daily",
            ReportDaily,
            Report,
            "The daily report: tickets, waits, handling, no-shows and evaluations by window, clerk, domain, service.",
        ),
        RequestContract(
            "report.range",
            ReportRange,
            RangeReport,
            "好差评 over any date range up to a year, by day, week, month, window, clerk, domain, service or hour.",
        ),
    ],
    events=[MessageContract("evaluation", EvaluationEvent, "A ticket was rated (pad, kiosk or QR).")],
)
