"""Bus contracts between the hall controller and device hosts (window terminals, locker banks).

Both sides import this module, so the requester and the server agree on one contract.

* ``pad.evaluate`` is served by the window host on ``device/<pad_id>/request/pad.evaluate``. The host
  answers at once (``accepted``); the citizen's press, or the timeout, arrives later as the device
  event ``device/<pad_id>/event/evaluation`` of type ``pad.evaluation``. Level 1 is 非常满意 and 5 is
  非常不满意 (the national 好差评 scale); the two bad levels carry a reason.
* ``device.state`` is the retained health of any device (see devices/base.py).
"""
from __future__ import annotations

from drivers import idcard as sam
from devices import identity
from hall_bus.bus.envelope import event_contract, request_contract, state_contract
from hall_bus.contracts.schema import Bool, Enum, Int, Num, Obj, Str

LEVELS = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}
LEVELS_EN = {1: "very satisfied", 2: "satisfied", 3: "basically satisfied", 4: "dissatisfied", 5: "very dissatisfied"}
BAD_LEVELS = (4, 5)
REASONS = ("attitude", "efficiency", "process", "result", "other")
REASONS_ZH = {"attitude": "服务态度", "efficiency": "办事效率", "process": "办事流程", "result": "办理结果", "other": "其他"}

TICKET_CODE = r"[A-Z]{1,2}\d{3,4}"

request_contract(
    "pad.evaluate",
    Obj(ticket=Str(pattern=TICKET_CODE), ticket_id=Int(min=1), window=Int(min=1, max=999),
        staff_name=Str(max_len=32, optional=True), staff_no=Str(max_len=16, optional=True),
        service_name=Str(max_len=64, optional=True), timeout_s=Int(min=5, max=600, default=60)),
    Obj(accepted=Bool()),
    "Ask a window's evaluation pad (评价器) to collect a rating for a ticket.",
)
event_contract(
    "pad.evaluation",
    Obj(ticket=Str(pattern=TICKET_CODE), ticket_id=Int(min=1), window=Int(min=1, max=999),
        level=Int(min=1, max=5, nullable=True), level_name=Str(nullable=True),
        reason=Enum(*REASONS, nullable=True, optional=True), timed_out=Bool(), at=Num()),
)
state_contract(
    "device.state",
    Obj(extra=True, id=Str(), kind=Str(), state=Enum("connecting", "ready", "degraded", "offline", "error"),
        detail=Str(optional=True), since=Num(optional=True)),
)
# The one message a card read puts on the bus; extra=False keeps anything else (name, number) off it.
event_contract("idcard.card", Obj(extra=False, token=Str(pattern=r"[0-9a-f]{64}"), id_masked=Str(max_len=18),
                                  age_band=Enum(*identity.AGE_BANDS), sex=Enum(*sam.SEX_CODES.values()),
                                  card_type=Enum(*sam.CARD_TYPES)))
