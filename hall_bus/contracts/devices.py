"""Bus contracts between the hall controller and device hosts (window terminals, locker banks).

* ``pad.evaluate`` is served by the window host on ``device/<pad_id>/request/pad.evaluate``. The host
  answers at once (``accepted``); the citizen's press, or the timeout, arrives later as the device
  event ``device/<pad_id>/event/evaluation`` of type ``pad.evaluation``. Level 1 is 非常满意 and 5 is
  非常不满意 (the national 好差评 scale, :mod:`hall_bus.vocabulary`); the two bad levels carry a reason.
* ``printer.print`` is served by the window host on ``device/<printer_id>/request/printer.print``: a
  receipt printed at the window (a 帮办代办 回执 or a case acceptance receipt), laid out by the host
  (drivers/escpos_docs.py). The host answers once the page is printed, or with the reason it was
  not: ``paper_out``, ``cover_open``, ``printer_offline``, ``printer_timeout``, ``printer_error``,
  ``print_unknown`` (no result in time: look at the printer before printing again). A repeated
  request (the same transaction) is answered from memory, never printed twice.
* ``print`` (``event/print``) is the controller's word on a print job it queued for a window
  (``mandate.print``, ``case.print_receipt`` answer at once with the job's id): printed, or the
  printer's code; the job, the window and the printer only, nothing of the citizen.
* ``device.state`` is the retained health of any device (see devices/base.py).
"""

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
    real,
    text,
)
from hall_bus.vocabulary import LEVELS, TICKET_CODE_PATTERN, TOKEN_PATTERN, Reason

__all__ = ["CONTRACTS", "LEVELS"]  # LEVELS: read it from hall_bus.vocabulary

# Spelled out for the type checker; tests/hall_bus/contracts/test_contract_literals.py keeps them equal to
# devices.identity.AGE_BANDS, drivers.idcard.SEX_CODES values and drivers.idcard.CARD_TYPES.
AgeBand = Literal["<18", "18-59", "60-69", "70+"]
Sex = Literal["male", "female", "unknown", "unspecified"]
CardType = Literal["resident", "J", "I"]


class PadEvaluate(Closed):
    ticket: str = text(pattern=TICKET_CODE_PATTERN)
    ticket_id: int = integer(min=1)
    window: int = integer(min=1, max=999)
    staff_name: str = text(max_len=32, default=None)
    staff_no: str = text(max_len=16, default=None)
    service_name: str = text(max_len=64, default=None)
    timeout_s: int = integer(min=5, max=600, default=60)


class PadAccepted(Closed):
    accepted: bool


class PadEvaluation(Closed):
    ticket: str = text(pattern=TICKET_CODE_PATTERN)
    ticket_id: int = integer(min=1)
    window: int = integer(min=1, max=999)
    level: int | None = integer(min=1, max=5)
    level_name: str | None = text()
    reason: Reason | None = None
    timed_out: bool
    at: float


LOCAL_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)"  # ISO 8601 with its offset


class ProxyReceiptPrint(Closed):
    """A 帮办代办委托单回执 (drivers.escpos_docs.ProxyReceiptDoc): nothing of the citizen on it."""

    kind: Literal["proxy_receipt"]
    hall_name: str = text(min_len=1, max_len=64)
    receipt_no: str = text(min_len=1, max_len=32)
    service_name: str = text(min_len=1, max_len=64)
    agent_name: str = text(max_len=32)
    agent_no: str = text(max_len=16)
    materials: list[str] = array(max_len=30)
    promised_date: str = text(pattern=r"\d{4}-\d{2}-\d{2}")
    contact_phone: str = text(max_len=32)
    issued_at: str = text(pattern=LOCAL_TIME)
    qr_url: str = text(max_len=512)


class CaseReceiptPrint(Closed):
    """A 办件受理回执 (drivers.escpos_docs.CaseReceiptDoc): the case number, its verification code and
    the phone page's link (which never holds the code); nothing of the citizen."""

    kind: Literal["case_receipt"]
    hall_name: str = text(min_len=1, max_len=64)
    case_no: str = text(min_len=1, max_len=32)
    service_name: str = text(max_len=64)
    code: str = text(pattern=r"[0-9A-Z]{4}-[0-9A-Z]{4}")
    accepted_at: str = text(pattern=LOCAL_TIME)
    contact_phone: str = text(max_len=32)
    qr_url: str = text(max_len=512)


class PrinterPrint(Closed):
    window: int = integer(min=1, max=999)
    lang: Literal["zh", "en"] = "zh"
    document: ProxyReceiptPrint | CaseReceiptPrint = Field(description="by its kind: proxy_receipt | case_receipt")


class PrinterPrinted(Closed):
    printed: bool
    state: str = text(description="the printer's state after the page: ready, or degraded (paper near end)")


PRINT_JOB = r"[0-9a-f]{16}"  # a print job's id (hall_bus.controller.window_print.job_id)


class PrintOutcome(Closed):
    """How a queued print job ended (the ``print`` event): no personal data."""

    job: str = text(pattern=PRINT_JOB, description="the id the op answered with")
    window: int = integer(min=1, max=999)
    printer: str = text(max_len=64, description="the printer's device id")
    printed: bool
    code: str | None = text(
        max_len=64,
        description="why not printed: paper_out, cover_open, printer_offline, printer_timeout, printer_error, "
        "printer_busy, print_unknown (no answer in time: look at the printer before printing again); null if printed",
    )
    message: str = text(max_len=300, description="a technician's detail (English), not for the clerk")


class DeviceState(Open):
    id: str = text()
    kind: str = text()
    state: Literal["connecting", "ready", "degraded", "offline", "error"]
    detail: str = text(default=None)
    since: float = real(default=None)


class CardRead(Closed):
    """The one message a card read puts on the bus; closed, so anything else (name, number) stays off it."""

    token: str = text(pattern=TOKEN_PATTERN)
    id_masked: str = text(max_len=18)
    age_band: AgeBand
    sex: Sex
    card_type: CardType


CONTRACTS = ContractSet(
    requests=[
        RequestContract(
            "pad.evaluate",
            PadEvaluate,
            PadAccepted,
            "Ask a window's evaluation pad (评价器) to collect a rating for a ticket.",
        ),
        RequestContract(
            "printer.print",
            PrinterPrint,
            PrinterPrinted,
            "Print a receipt on a window's receipt printer; answered once printed, or with why not.",
        ),
    ],
    states=[MessageContract("device.state", DeviceState, "A device's health (retained).")],
    events=[
        MessageContract("pad.evaluation", PadEvaluation, "The citizen's rating on a pad, or its timeout."),
        MessageContract("idcard.card", CardRead, "An ID card was read (token and masked number only)."),
        MessageContract("print", PrintOutcome, "A print job queued at a window's printer ended: printed or why not."),
    ],
)
