"""``hallkit pickup ...``: 24-hour pickup lockers for staff and managers (docs/pickup.md).

hallkit pickup deposit --case C --size M [--token T] [--item NAME]   open a free compartment, wait for the door
hallkit pickup list [--all]                                          items in the lockers, free compartments, faults
hallkit pickup overdue [--days N]                                    items not collected in time
hallkit pickup return ITEM [--reason R]                              open the compartment to take an item back
hallkit pickup notify ITEM                                           send a new code and QR to the citizen
hallkit pickup fault-clear A03                                       put a repaired compartment back into service
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable

from hall_bus.cli.common import answer, bus_client, bus_command, call, fail, given, plain, print_json, request
from hall_bus.cli.main import CommandLine
from hall_bus.contracts.pickup import (
    Cleared,
    Deposited,
    DepositStart,
    FaultClear,
    Item,
    ItemActor,
    ItemOne,
    ListRequest,
    ListView,
    Notified,
    Overdue,
    OverdueView,
    Return,
    State,
    Status,
    StatusView,
)

STATE_ZH = {
    "depositing": "存件中",
    "deposited": "待取件",
    "collecting": "取件中",
    "returning": "退回中",
    "collected": "已取件",
    "returned": "已退回窗口",
    "cancelled": "已取消",
}


def register(cli: CommandLine) -> None:
    cli.describe(("pickup",), "24-hour self-service pickup lockers (24小时自助出件)")
    help_text = "deposit an item: open a free compartment, wait until the door is closed"
    p = bus_command(cli, ("pickup", "deposit"), help_text, deposit, actor="staff")
    p.add_argument("--case", required=True, help="case number (办件编号)")
    p.add_argument("--size", required=True, choices=("S", "M", "L"), help="compartment size needed")
    p.add_argument("--token", default=None, help="the citizen's identity token (default: the case's)")
    p.add_argument("--item", default="", help="item name shown to the citizen (default: the case title)")
    p.add_argument("--window", type=int, default=None, help="the depositing window")
    p.add_argument("--wait", type=float, default=180.0, help="seconds to wait for the door to be closed (default 180)")
    help_text = "items in the lockers, free compartments per size, faulty compartments"
    p = bus_command(cli, ("pickup", "list"), help_text, list_)
    p.add_argument("--all", action="store_true", help="also collected, returned and cancelled items")
    p = bus_command(cli, ("pickup", "overdue"), "items not collected within [pickup] overdue_days", overdue)
    p.add_argument("--days", type=float, default=None, help="override overdue_days")
    help_text = "return an item to the window: open its compartment for staff"
    p = bus_command(cli, ("pickup", "return"), help_text, return_, actor="staff")
    p.add_argument("item_id", type=int, help="item id (see hallkit pickup list)")
    p.add_argument("--reason", default="", help="why (audited), e.g. overdue")
    p.add_argument("--wait", type=float, default=180.0, help="seconds to wait for the door to be closed again")
    help_text = "send the citizen a new pickup code and QR (the old ones stop working)"
    p = bus_command(cli, ("pickup", "notify"), help_text, notify, actor="staff")
    p.add_argument("item_id", type=int)
    help_text = "put a repaired compartment back into service"
    p = bus_command(cli, ("pickup", "fault-clear"), help_text, fault_clear, actor="staff")
    p.add_argument("compartment", help="compartment number, e.g. A03")


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "-"


def _case_no(item: Item) -> str:
    return item.case_no if item.case_no is not None else item.case_no_masked


def _line(item: Item) -> str:
    c = item.compartment
    extra = f"  ! {item.error}" if item.error else ""
    return (
        f"{item.item_id:>5}  {_case_no(item):<16} {c.no:<4} {c.size} {c.position:<8} "
        f"{STATE_ZH.get(item.state, item.state)}{'/' + item.phase if item.phase else ''}  "
        f"{item.item_name}  {_when(item.deposited_at)}{extra}"
    )


def _wait_door(args: argparse.Namespace, item: Item, done: set[str], poll: Callable[[], Item]) -> Item:
    """Ask ``poll`` for the item every 0.3 s until it reaches a state of ``done`` (or failed)."""
    deadline = time.monotonic() + args.wait
    while item.state not in done:
        if item.phase == "" and item.state in ("deposited", "cancelled") and item.error:
            break
        if time.monotonic() > deadline:
            raise SystemExit(
                fail(
                    f"item {item.item_id}: door of {item.compartment.no} still open after {args.wait:g} s; "
                    "close it (the controller keeps waiting and raises an alarm)",
                    4,
                )
            )
        time.sleep(0.3)
        item = poll()
    return item


def deposit(args: argparse.Namespace) -> int:
    req = DepositStart(
        case_no=args.case,
        size=args.size,
        actor=args.actor,
        **given(identity_token=args.token, item_name=args.item, window=args.window or None),
    )
    confirmed: Deposited | None = None
    with bus_client(args) as client:
        item = request(client, args, "pickup.deposit.start", req, ItemOne).item
        c = item.compartment
        print(
            f"柜格 {c.no}（{c.position}，{c.size}）正在打开，请放入物品后关门 / compartment {c.no} opening: "
            "put the item in and close the door",
            flush=True,
        )

        def confirm() -> Item:
            nonlocal confirmed
            confirm_req = ItemActor(item_id=item.item_id, actor=args.actor)
            confirmed = request(client, args, "pickup.deposit.confirm", confirm_req, Deposited)
            return confirmed.item

        item = _wait_door(args, item, {"deposited", "cancelled"}, confirm)
    if args.json:
        print_json(plain(confirmed) if confirmed is not None else {"item": plain(item)})
    if item.state != "deposited" or confirmed is None:
        return fail(
            f"deposit of case {args.case} failed: {item.error or item.state}; choose again (hallkit pickup deposit)",
            1,
        )
    slip = confirmed.slip
    print(
        f"已存件 / deposited: item {item.item_id}, case {slip.case_no}, {slip.item_name}, "
        f"compartment {slip.compartment} ({slip.position}) at {_when(slip.deposited_at)}; the citizen has been notified"
    )
    return 0


ALL_STATES: list[State] = ["depositing", "deposited", "collecting", "returning", "collected", "returned", "cancelled"]


def list_(args: argparse.Namespace) -> int:
    req = ListRequest(states=ALL_STATES) if args.all else ListRequest()
    return answer(args, call(args, "pickup.list", req, ListView), _print_list)


def _print_list(out: ListView) -> None:
    print("free compartments: " + ", ".join(f"{k} {v}" for k, v in out.free.items()))
    for f in out.faults:
        print(f"FAULT {f.compartment}: {f.reason} since {_when(f.at)}")
    for item in out.items:
        print(_line(item))
    if not out.items:
        print("no items")


def overdue(args: argparse.Namespace) -> int:
    return answer(args, call(args, "pickup.overdue", Overdue(**given(days=args.days)), OverdueView), _print_overdue)


def _print_overdue(out: OverdueView) -> None:
    print(f"{len(out.items)} item(s) not collected within {out.days:g} day(s)")
    for item in out.items:
        print(_line(item))


def return_(args: argparse.Namespace) -> int:
    with bus_client(args) as client:
        req = Return(item_id=args.item_id, actor=args.actor, reason=args.reason)
        item = request(client, args, "pickup.return", req, ItemOne).item
        c = item.compartment
        print(
            f"柜格 {c.no}（{c.position}）正在打开，请取出物品后关门 / compartment {c.no} opening: take the item out "
            "and close the door",
            flush=True,
        )
        status = Status(item_id=args.item_id)
        item = _wait_door(
            args, item, {"returned"}, lambda: request(client, args, "pickup.status", status, StatusView).items[0]
        )
    if item.state != "returned":
        return fail(f"return of item {args.item_id} failed: {item.error or item.state}", 1)
    print(f"已退回窗口 / returned: item {args.item_id}, case {_case_no(item)}")
    return 0


def notify(args: argparse.Namespace) -> int:
    out = call(args, "pickup.notify", ItemActor(item_id=args.item_id, actor=args.actor), Notified)
    if not out.notified:
        return fail(
            f"item {args.item_id}: a new code was drawn but the notification failed (see the controller log)", 1
        )
    print(f"item {args.item_id}: new pickup code and QR sent; the earlier ones no longer work")
    return 0


def fault_clear(args: argparse.Namespace) -> int:
    out = call(args, "pickup.fault.clear", FaultClear(compartment=args.compartment, actor=args.actor), Cleared)
    print(f"{args.compartment}: {'back in service' if out.cleared else 'had no fault'}")
    return 0
