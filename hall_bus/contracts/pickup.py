"""Bus contracts of 24-hour pickup.

Controller operations (``hallkit/<hall>/controller/request/<op>``):

=========================  ====================  ===============================================
op                         who                   what
=========================  ====================  ===============================================
``pickup.deposit.start``   window / manager      choose a free compartment of the size, open it
``pickup.deposit.confirm`` window / manager      door closed? -> item deposited (idempotent)
``pickup.identify``        kiosk                 card token, code or QR -> session and items
``pickup.open``            kiosk                 open the chosen items of a session
``pickup.status``          any                   items of a session, or one item
``pickup.list``            staff                 items in the lockers (no identity, no codes)
``pickup.overdue``         staff                 deposited items older than overdue_days
``pickup.return``          staff                 open to take an item back to the window
``pickup.notify``          staff                 send a new code and QR (the old ones stop working)
``pickup.fault.clear``     staff                 put a compartment back into service
=========================  ====================  ===============================================

Locker host operations (``hallkit/<hall>/device/<locker>/request/<op>``), accepted from the
controller only: ``locker.open`` and ``locker.status``. Door changes come as the device event
``device/<locker>/event/door`` of type ``locker.door``. Hall events ``event/pickup`` of type
``pickup`` carry ``action``: deposited, notified, opened, collected, returned, door_left_open,
open_failed, open_abandoned.
"""
from __future__ import annotations

from hall_bus.bus.envelope import event_contract, request_contract
from hall_bus.contracts.schema import Bool, Enum, Int, List, Map, Num, Obj, Str
from hall_bus.features.pickup.store import STATES

CASE_NO = r"[A-Za-z0-9][A-Za-z0-9-]{3,31}"
TOKEN = r"[0-9a-f]{64}"
KIOSK = r"[a-z0-9][a-z0-9_-]{0,31}"
SESSION = r"[0-9a-f]{16,32}"
ACTOR = Str(min_len=1, max_len=64)
SIZE = Enum("S", "M", "L")
PHASE = Enum("", "opening", "awaiting_close")
ACTIONS = ("deposited", "notified", "opened", "collected", "returned", "door_left_open", "open_failed",
           "open_abandoned")

COMPARTMENT = Obj(no=Str(), bank=Str(), size=SIZE, position=Str())
ITEM = Obj(
    extra=True,
    item_id=Int(min=1), case_no_masked=Str(), item_name=Str(), service_name=Str(), compartment=COMPARTMENT,
    state=Enum(*STATES), phase=PHASE, door_open_s=Num(nullable=True), alarm=Bool(), error=Str(),
    deposited_at=Num(nullable=True), collected_at=Num(nullable=True), case_no=Str(optional=True),
)
SLIP = Obj(hall_name=Str(), case_no=Str(), item_name=Str(), compartment=Str(), position=Str(), deposited_at=Num(nullable=True))
SESSION_VIEW = Obj(session_id=Str(), kiosk=Str(), method=Str(), expires_at=Num(), items=List(ITEM))

request_contract(
    "pickup.deposit.start",
    Obj(case_no=Str(pattern=CASE_NO), size=SIZE, identity_token=Str(pattern=TOKEN, optional=True),
        item_name=Str(max_len=64, optional=True), actor=ACTOR, window=Int(min=1, max=999, optional=True)),
    Obj(item=ITEM),
    "Staff deposit: choose a free compartment of the size (or larger), open it, wait for the door to close.",
)
request_contract(
    "pickup.deposit.confirm",
    Obj(item_id=Int(min=1), actor=ACTOR),
    Obj(item=ITEM, slip=SLIP),
    "Where a deposit stands; once the door is closed the item is bound, coded and notified (idempotent).",
)
request_contract(
    "pickup.identify",
    Obj(kiosk=Str(pattern=KIOSK), method=Enum("card", "code", "qr"), token=Str(pattern=TOKEN, optional=True),
        code=Str(pattern=r"\d{4,12}", optional=True), qr=Str(max_len=512, optional=True)),
    SESSION_VIEW,
    "A citizen at a kiosk identifies by ID card token, pickup code or notification QR.",
)
request_contract(
    "pickup.open",
    Obj(kiosk=Str(pattern=KIOSK), session_id=Str(pattern=SESSION), item_ids=List(Int(min=1), min_len=1, max_len=20)),
    SESSION_VIEW,
    "Open the compartments of the chosen items of a verified session (the controller opens, never the kiosk).",
)
request_contract(
    "pickup.status",
    Obj(session_id=Str(pattern=SESSION, optional=True), item_id=Int(min=1, optional=True)),
    Obj(session=Obj(extra=True, optional=True, nullable=True), items=List(ITEM)),
    "Where the items of a session (or one item) stand: opening, door open (how long), collected, failed.",
)
request_contract(
    "pickup.list",
    Obj(states=List(Enum(*STATES), optional=True), limit=Int(min=1, max=1000, default=200)),
    Obj(items=List(ITEM), faults=List(Obj(compartment=Str(), reason=Str(), at=Num())),
        free=Map(Int(min=0))),
    "Items in the lockers (manager); no identity tokens, no codes.",
)
request_contract(
    "pickup.overdue",
    Obj(days=Num(min=0, optional=True)),
    Obj(days=Num(), items=List(ITEM)),
    "Deposited items not collected within overdue_days (or the given days).",
)
request_contract(
    "pickup.return",
    Obj(item_id=Int(min=1), actor=ACTOR, reason=Str(max_len=200, optional=True)),
    Obj(item=ITEM),
    "Return-to-window: open the item's compartment for staff; door closed = back at the window.",
)
request_contract(
    "pickup.notify",
    Obj(item_id=Int(min=1), actor=ACTOR),
    Obj(item=ITEM, notified=Bool()),
    "Send the citizen a new pickup code and QR (the earlier ones stop working).",
)
request_contract(
    "pickup.fault.clear",
    Obj(compartment=Str(max_len=16), actor=ACTOR),
    Obj(cleared=Bool()),
    "Put a compartment whose door failed back into service after it was repaired.",
)
event_contract(
    "pickup",
    Obj(extra=True, action=Enum(*ACTIONS), item_id=Int(min=1), compartment=Str(), position=Str(), at=Num()),
)

# ---------------------------------------------------------------------- locker host
DOOR = Enum("open", "closed")
OP_RECORD = Obj(pickup_id=Str(), board=Int(), lock=Int(), fired_at=Num(), opened=Bool())

request_contract(
    "locker.open",
    Obj(board=Int(min=1, max=64), lock=Int(min=1, max=32), reason=Str(max_len=64), pickup_id=Str(min_len=4, max_len=64),
        expires_at=Num(), auth=Str(pattern=r"[0-9a-f]{64}")),
    Obj(opened=Bool(), door=DOOR, fired_at=Num(), repeated=Bool()),
    "Fire one lock (controller only). Idempotent per pickup_id: a repeat returns the first result, never fires twice.",
)
request_contract(
    "locker.status",
    Obj(board=Int(min=1, max=64), pickup_id=Str(min_len=4, max_len=64, optional=True)),
    Obj(board=Int(), doors=Map(DOOR), op=Obj(optional=True, nullable=True, extra=True)),
    "Door sensors of one board, and what became of an earlier open (by pickup_id).",
)
event_contract("locker.door", Obj(board=Int(), lock=Int(), door=DOOR, at=Num()))
