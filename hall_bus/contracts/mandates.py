"""Bus contracts of 帮办代办 (assisted and proxy service): ``mandate.create``, ``mandate.update``,
``mandate.list`` (the ledger, 台账), ``mandate.get``, ``mandate.print`` (the 回执 printed at a window:
queued at once, its end told by the ``print`` event of :mod:`hall_bus.contracts.devices`) and
the ``mandate`` event published on every change (number and state only: the phone page follows it).

A mandate (委托单) names the citizen only by an identity token (a salted hash, as cases do), never by
a name or an ID number. Its states: received → processing → done, or processing → escalated (to a
higher level, with a note) → done; received, processing and escalated may also end returned (退回).
A move out of that order is refused with ``mandate_order``, any move of a finished mandate with
``mandate_closed``, an escalation without a note with ``escalation_note``.
"""

from __future__ import annotations

from typing import Literal

from hall_bus.contracts.base import Closed, ContractSet, MessageContract, RequestContract, array, integer, text
from hall_bus.contracts.devices import PRINT_JOB
from hall_bus.vocabulary import ID_PATTERN, TOKEN_PATTERN

DAY = r"\d{4}-\d{2}-\d{2}"
MANDATE_NO = r"DB-\d{8}-\d{4}"
STAFF_NO = r"[A-Za-z0-9]{1,16}"
# The states of hall_bus.features.mandates.store.STATES.
State = Literal["received", "processing", "escalated", "done", "returned"]


class Step(Closed):
    state: State
    at: float
    actor: str = text()
    note: str = text()


class Mandate(Closed):
    mandate_no: str = text(pattern=MANDATE_NO)
    service: str = text()
    service_name: str = text()
    identity_token: str = text(pattern=TOKEN_PATTERN)
    agent: str = text(description="the 代办员's staff_no")
    agent_name: str = text()
    materials: list[str] = array()
    promised_date: str = text(pattern=DAY)
    state: State
    state_zh: str = text()
    note: str = text(description="the latest note (the escalation's reason)")
    overdue: bool
    created_at: float
    updated_at: float
    history: list[Step] = array()
    follow_url: str = text(max_len=512, description="the signed phone link printed in the receipt's QR")


class MandateCreate(Closed):
    service: str = text(pattern=ID_PATTERN)
    identity_token: str = text(pattern=TOKEN_PATTERN)
    agent: str = text(pattern=STAFF_NO, description="the 代办员 (a staff_no of [[staff]])")
    materials: list[str] = array(min_len=1, max_len=30)
    promised_date: str = text(pattern=DAY, description="the hall's local date the mandate is promised by")
    actor: str = text(min_len=1, max_len=64)
    note: str = text(max_len=200, default=None)


class MandateUpdate(Closed):
    mandate_no: str = text(pattern=MANDATE_NO)
    state: State
    actor: str = text(min_len=1, max_len=64)
    note: str = text(max_len=200, default=None)


class MandateGet(Closed):
    mandate_no: str = text(pattern=MANDATE_NO)


class MandateOne(Closed):
    mandate: Mandate


class MandateListRequest(Closed):
    state: State = text(default=None)
    agent: str = text(pattern=STAFF_NO, default=None)
    service: str = text(pattern=ID_PATTERN, default=None)
    from_day: str = text(pattern=DAY, default=None, description="created on or after (local date)")
    to_day: str = text(pattern=DAY, default=None, description="created on or before (local date)")
    overdue: bool = False


class MandateList(Closed):
    mandates: list[Mandate] = array(max_len=5000)


class MandatePrint(Closed):
    mandate_no: str = text(pattern=MANDATE_NO)
    window: int = integer(min=1, max=999, description="the window whose receipt printer prints the 回执")
    lang: Literal["zh", "en"] = "zh"
    actor: str = text(min_len=1, max_len=64)


class MandatePrintQueued(Closed):
    """The 回执 was sent to the window's printer; the ``print`` event with this job says how it ended."""

    queued: bool
    job: str = text(pattern=PRINT_JOB, description="the print job's id (the same for a repeated request)")
    mandate_no: str = text(pattern=MANDATE_NO)
    window: int = integer(min=1, max=999)
    printer: str = text(description="the printer's device id")


class MandateEvent(Closed):
    mandate_no: str = text(pattern=MANDATE_NO)
    state: State
    at: float


CONTRACTS = ContractSet(
    requests=[
        RequestContract(
            "mandate.create",
            MandateCreate,
            MandateOne,
            "Record a 委托单 (service, identity token, agent, materials, promised date); answers it with its "
            "number and the signed link printed on the 回执.",
        ),
        RequestContract(
            "mandate.update",
            MandateUpdate,
            MandateOne,
            "Move a mandate to its next state (mandate_order, mandate_closed, escalation_note when refused).",
        ),
        RequestContract("mandate.list", MandateListRequest, MandateList, "The ledger (台账), filtered, newest first."),
        RequestContract("mandate.get", MandateGet, MandateOne, "One mandate with its history."),
        RequestContract(
            "mandate.print",
            MandatePrint,
            MandatePrintQueued,
            "Print a mandate's 回执 on a window's receipt printer: answered at once with the job (no_printer, "
            "printer_offline, printer_busy when it cannot be sent); the ``print`` event tells how the job ended "
            "(paper_out, cover_open ...).",
        ),
    ],
    events=[MessageContract("mandate", MandateEvent, "A mandate was recorded or moved (its number and state only).")],
)
