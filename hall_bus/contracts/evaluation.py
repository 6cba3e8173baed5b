"""Bus contracts of the evaluation feature (docs/evaluation.md)."""

from __future__ import annotations

from typing import Literal

from hall_bus.contracts.base import (
    Closed,
    ContractSet,
    MessageContract,
    Open,
    RequestContract,
    array,
    integer,
    optional,
    text,
)
from hall_bus.vocabulary import TICKET_CODE_PATTERN, Reason

DAY = r"\d{4}-\d{2}-\d{2}"
# The follow-up states of hall_bus.features.evaluation.followup.STATES (tests/hall_bus/contracts/test_contract_literals.py).
FollowupState = Literal["open", "visited", "rectified", "closed", "appealed"]


class Evaluation(Open):
    ticket: str = text()
    status: str = text()
    level: int | None
    channel: str | None = text()


class Followup(Open):
    id: int
    ticket: str = text()
    state: str = text()
    visit_due: str = text()
    rectify_due: str = text()
    overdue: list[str] = array()


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


class Followups(Closed):
    followups: list[Followup] = array()


class FollowupUpdate(Closed):
    id: int = integer(min=1)
    state: FollowupState
    note: str = text(max_len=500, default="")
    actor: str = text(min_len=1, max_len=64)


class FollowupOne(Closed):
    followup: Followup


class ReportDaily(Closed):
    date: str = text(pattern=DAY, default=None)


class Report(Open):
    hall: str = text()
    day: str = text()


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
            "report.daily",
            ReportDaily,
            Report,
            "The daily report: tickets, waits, handling, no-shows and evaluations by window, clerk, domain, service.",
        ),
    ],
    events=[MessageContract("evaluation", EvaluationEvent, "A ticket was rated (pad, kiosk or QR).")],
)
