"""Bus contracts of the case store: ``case.lookup`` (kiosk progress, 办件进度) and ``case.update`` (staff)."""

from __future__ import annotations

from typing import Literal

from hall_bus.contracts.base import Closed, ContractSet, Open, RequestContract, array, text
from hall_bus.vocabulary import TOKEN_PATTERN

CASE_NO = r"[A-Za-z0-9][A-Za-z0-9-]{3,31}"
# The statuses of hall_bus.features.cases.store.STATUSES (tests/hall_bus/contracts/test_contract_literals.py).
Status = Literal["received", "processing", "ready", "deposited", "collected", "returned", "closed"]


class Step(Closed):
    status: Status
    at: float


class Case(Open):
    case_no: str = text()
    service: str = text()
    service_name: str = text()
    title: str = text()
    status: Status
    status_zh: str = text()
    detail: str = text()
    created_at: float
    updated_at: float
    steps: list[Step] = array()


class CaseLookup(Closed):
    case_no: str = text(pattern=CASE_NO, default=None)
    identity_token: str = text(pattern=TOKEN_PATTERN, default=None)


class CaseList(Closed):
    cases: list[Case] = array()


class CaseUpdate(Closed):
    case_no: str = text(pattern=CASE_NO)
    status: Status
    actor: str = text(min_len=1, max_len=64)
    service: str = text(max_len=32, default=None)
    identity_token: str = text(pattern=TOKEN_PATTERN, default=None)
    title: str = text(max_len=64, default=None)
    note: str = text(max_len=200, default=None)


class CaseOne(Closed):
    case: Case


CONTRACTS = ContractSet(
    requests=[
        RequestContract(
            "case.lookup",
            CaseLookup,
            CaseList,
            "Progress of a case by number, or of a citizen's cases by identity token; no personal data in the answer.",
        ),
        RequestContract(
            "case.update", CaseUpdate, CaseOne, "Create a case (with its service) or move it to a new status (staff)."
        ),
    ]
)
