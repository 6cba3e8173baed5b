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

from typing import Annotated, Literal, get_args

from hall_bus.contracts.base import (
    Anything,
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
from hall_bus.vocabulary import ID_PATTERN, TOKEN_PATTERN

CASE_NO = r"[A-Za-z0-9][A-Za-z0-9-]{3,31}"
KIOSK = ID_PATTERN
SESSION = r"[0-9a-f]{16,32}"
Action = Literal[
    "deposited",
    "notified",
    "opened",
    "collected",
    "returned",
    "door_left_open",
    "open_failed",
    "open_abandoned",
]
ACTIONS: tuple[Action, ...] = get_args(Action)
Size = Literal["S", "M", "L"]
Phase = Literal["", "opening", "awaiting_close"]
# The case states of hall_bus.features.pickup.store.STATES (tests/hall_bus/contracts/test_contract_literals.py).
State = Literal["depositing", "deposited", "collecting", "returning", "collected", "returned", "cancelled"]
Door = Literal["open", "closed"]


class Compartment(Closed):
    no: str = text()
    bank: str = text()
    size: Size
    position: str = text()


class Item(Open):
    item_id: int = integer(min=1)
    case_no_masked: str = text()
    item_name: str = text()
    service_name: str = text()
    compartment: Compartment
    state: State
    phase: Phase
    door_open_s: float | None
    alarm: bool
    error: str = text()
    deposited_at: float | None
    collected_at: float | None
    case_no: str = text(default=None)


class Slip(Closed):
    hall_name: str = text()
    case_no: str = text()
    item_name: str = text()
    compartment: str = text()
    position: str = text()
    deposited_at: float | None


class SessionView(Closed):
    session_id: str = text()
    kiosk: str = text()
    method: str = text()
    expires_at: float
    items: list[Item] = array()


class DepositStart(Closed):
    case_no: str = text(pattern=CASE_NO)
    size: Size
    identity_token: str = text(pattern=TOKEN_PATTERN, default=None)
    item_name: str = text(max_len=64, default=None)
    actor: str = text(min_len=1, max_len=64)
    window: int = integer(min=1, max=999, default=None)


class ItemOne(Closed):
    item: Item


class ItemActor(Closed):
    item_id: int = integer(min=1)
    actor: str = text(min_len=1, max_len=64)


class Deposited(Closed):
    item: Item
    slip: Slip


class Identify(Closed):
    kiosk: str = text(pattern=KIOSK)
    method: Literal["card", "code", "qr"]
    token: str = text(pattern=TOKEN_PATTERN, default=None)
    code: str = text(pattern=r"\d{4,12}", default=None)
    qr: str = text(max_len=512, default=None)


class OpenItems(Closed):
    kiosk: str = text(pattern=KIOSK)
    session_id: str = text(pattern=SESSION)
    item_ids: list[Annotated[int, integer(min=1)]] = array(min_len=1, max_len=20)


class Status(Closed):
    session_id: str = text(pattern=SESSION, default=None)
    item_id: int = integer(min=1, default=None)


class StatusView(Closed):
    session: Anything | None = None
    items: list[Item] = array()


class ListRequest(Closed):
    states: list[State] = array(default=None)
    limit: int = integer(min=1, max=1000, default=200)


class Fault(Closed):
    compartment: str = text()
    reason: str = text()
    at: float


class ListView(Closed):
    items: list[Item] = array()
    faults: list[Fault] = array()
    free: dict[str, Annotated[int, integer(min=0)]] = array()


class Overdue(Closed):
    days: float = real(min=0, default=None)


class OverdueView(Closed):
    days: float
    items: list[Item] = array()


class Return(Closed):
    item_id: int = integer(min=1)
    actor: str = text(min_len=1, max_len=64)
    reason: str = text(max_len=200, default=None)


class Notified(Closed):
    item: Item
    notified: bool


class FaultClear(Closed):
    compartment: str = text(max_len=16)
    actor: str = text(min_len=1, max_len=64)


class Cleared(Closed):
    cleared: bool


class PickupEvent(Open):
    action: Action
    item_id: int = integer(min=1)
    compartment: str = text()
    position: str = text()
    at: float


# ---------------------------------------------------------------------- locker host
class LockerOpen(Closed):
    board: int = integer(min=1, max=64)
    lock: int = integer(min=1, max=32)
    reason: str = text(max_len=64)
    pickup_id: str = text(min_len=4, max_len=64)
    expires_at: float
    auth: str = text(pattern=r"[0-9a-f]{64}")


class LockerOpened(Closed):
    opened: bool
    door: Door
    fired_at: float
    repeated: bool


class LockerStatus(Closed):
    board: int = integer(min=1, max=64)
    pickup_id: str = text(min_len=4, max_len=64, default=None)


class LockerState(Closed):
    board: int
    doors: dict[str, Door] = array()
    op: Anything | None = None


class DoorEvent(Closed):
    board: int
    lock: int
    door: Door
    at: float


CONTRACTS = ContractSet(
    requests=[
        RequestContract(
            "pickup.deposit.start",
            DepositStart,
            ItemOne,
            "Staff deposit: choose a free compartment of the size (or larger), open it, wait for the door to close.",
        ),
        RequestContract(
            "pickup.deposit.confirm",
            ItemActor,
            Deposited,
            "Where a deposit stands; once the door is closed the item is bound, coded and notified (idempotent).",
        ),
        RequestContract(
            "pickup.identify",
            Identify,
            SessionView,
            "A citizen at a kiosk identifies by ID card token, pickup code or notification QR.",
        ),
        RequestContract(
            "pickup.open",
            OpenItems,
            SessionView,
            "Open the compartments of the chosen items of a verified session (the controller opens, never the kiosk).",
        ),
        RequestContract(
            "pickup.status",
            Status,
            StatusView,
            "Where the items of a session (or one item) stand: opening, door open (how long), collected, failed.",
        ),
        RequestContract(
            "pickup.list", ListRequest, ListView, "Items in the lockers (manager); no identity tokens, no codes."
        ),
        RequestContract(
            "pickup.overdue",
            Overdue,
            OverdueView,
            "Deposited items not collected within overdue_days (or the given days).",
        ),
        RequestContract(
            "pickup.return",
            Return,
            ItemOne,
            "Return-to-window: open the item's compartment for staff; door closed = back at the window.",
        ),
        RequestContract(
            "pickup.notify",
            ItemActor,
            Notified,
            "Send the citizen a new pickup code and QR (the earlier ones stop working).",
        ),
        RequestContract(
            "pickup.fault.clear",
            FaultClear,
            Cleared,
            "Put a compartment whose door failed back into service after it was repaired.",
        ),
        RequestContract(
            "locker.open",
            LockerOpen,
            LockerOpened,
            "Fire one lock (controller only). Idempotent per "
            "pickup_id: a repeat returns the first result, never fires twice.",
        ),
        RequestContract(
            "locker.status",
            LockerStatus,
            LockerState,
            "Door sensors of one board, and what became of an earlier open (by pickup_id).",
        ),
    ],
    events=[
        MessageContract("pickup", PickupEvent, "A pickup item changed (deposited, opened, collected ...)."),
        MessageContract("locker.door", DoorEvent, "A locker door opened or closed."),
    ],
)
