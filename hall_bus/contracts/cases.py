"""Bus contracts of the case store: ``case.lookup`` (kiosk progress, 办件进度), ``case.update`` (staff),
``case.receipt`` (the verification code printed on the receipt), ``case.print_receipt`` (that receipt
printed at a window: queued at once, its end told by the ``print`` event of
:mod:`hall_bus.contracts.devices`), ``case.progress`` (the phone page: case number plus that code) and the ``case``
event published on every status change."""

from __future__ import annotations

from typing import Literal

from hall_bus.contracts.base import Closed, ContractSet, MessageContract, Open, RequestContract, array, integer, text
from hall_bus.contracts.devices import PRINT_JOB
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


class CaseReceiptRequest(Closed):
    case_no: str = text(pattern=CASE_NO)


class CaseReceipt(Closed):
    case_no: str = text()
    code: str = text(pattern=r"[0-9A-Z]{4}-[0-9A-Z]{4}", description="the verification code, as printed")
    page_url: str = text(max_len=512, description="the phone page that asks for the code")


class CasePrintReceipt(Closed):
    case_no: str = text(pattern=CASE_NO)
    window: int = integer(min=1, max=999, description="the window whose receipt printer prints it")
    lang: Literal["zh", "en"] = "zh"
    actor: str = text(min_len=1, max_len=64)


class CaseReceiptQueued(Closed):
    """The receipt was sent to the window's printer; the ``print`` event with this job says how it ended."""

    queued: bool
    job: str = text(pattern=PRINT_JOB, description="the print job's id (the same for a repeated request)")
    case_no: str = text()
    window: int = integer(min=1, max=999)
    printer: str = text(description="the printer's device id")


class CaseProgress(Closed):
    case_no: str = text(pattern=CASE_NO)
    code: str = text(min_len=1, max_len=16, description="the verification code from the receipt, as typed")


class CaseEvent(Closed):
    case_no: str = text()
    service: str = text()
    status: Status
    status_zh: str = text()
    at: float


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
        RequestContract(
            "case.receipt",
            CaseReceiptRequest,
            CaseReceipt,
            "The verification code to print on a case's receipt, and the phone page that asks for it (staff).",
        ),
        RequestContract(
            "case.print_receipt",
            CasePrintReceipt,
            CaseReceiptQueued,
            "Print a case's acceptance receipt (受理回执: its verification code and the phone page's QR) on a "
            "window's receipt printer: answered at once with the job (no_printer, printer_offline, printer_busy "
            "when it cannot be sent); the ``print`` event tells how the job ended (paper_out, cover_open ...).",
        ),
        RequestContract(
            "case.progress",
            CaseProgress,
            CaseOne,
            "A case's progress for the phone page, given its number and the code from its receipt; "
            "wrong codes are counted and lock the case for a while.",
        ),
    ],
    events=[MessageContract("case", CaseEvent, "A case changed status (no personal data).")],
)
