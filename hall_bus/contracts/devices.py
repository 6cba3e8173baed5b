"""Bus contracts between the hall controller and device hosts (window terminals, locker banks).

* ``pad.evaluate`` is served by the window host on ``device/<pad_id>/request/pad.evaluate``. The host
  answers at once (``accepted``); the citizen's press, or the timeout, arrives later as the device
  event ``device/<pad_id>/event/evaluation`` of type ``pad.evaluation``. Level 1 is 非常满意 and 5 is
  非常不满意 (the national 好差评 scale, :mod:`hall_bus.vocabulary`); the two bad levels carry a reason.
* ``device.state`` is the retained health of any device (see devices/base.py).
"""

from __future__ import annotations

from typing import Literal

from hall_bus.contracts.base import Closed, ContractSet, MessageContract, Open, RequestContract, integer, real, text
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
        )
    ],
    states=[MessageContract("device.state", DeviceState, "A device's health (retained).")],
    events=[
        MessageContract("pad.evaluation", PadEvaluation, "The citizen's rating on a pad, or its timeout."),
        MessageContract("idcard.card", CardRead, "An ID card was read (token and masked number only)."),
    ],
)
