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

from hall_bus.cli.common import add_bus_options, bus_client, fail, print_json

STATE_ZH = {
    "depositing": "存件中",
    "deposited": "待取件",
    "collecting": "取件中",
    "returning": "退回中",
    "collected": "已取件",
    "returned": "已退回窗口",
    "cancelled": "已取消",
}


def register(cli) -> None:
    cli.describe(("pickup",), "24-hour self-service pickup lockers (24小时自助出件)")
    p = cli.command(
        ("pickup", "deposit"),
        help="deposit an item: open a free compartment, wait until the door is closed",
        handler=deposit,
    )
    p.add_argument("--case", required=True, help="case number (办件编号)")
    p.add_argument("--size", required=True, choices=("S", "M", "L"), help="compartment size needed")
    p.add_argument("--token", default=None, help="the citizen's identity token (default: the case's)")
    p.add_argument("--item", default="", help="item name shown to the citizen (default: the case title)")
    p.add_argument("--actor", default="staff", help="who deposits (audited)")
    p.add_argument("--window", type=int, default=None, help="the depositing window")
    p.add_argument("--wait", type=float, default=180.0, help="seconds to wait for the door to be closed (default 180)")
    add_bus_options(p)
    p = cli.command(
        ("pickup", "list"), help="items in the lockers, free compartments per size, faulty compartments", handler=list_
    )
    p.add_argument("--all", action="store_true", help="also collected, returned and cancelled items")
    add_bus_options(p)
    p = cli.command(("pickup", "overdue"), help="items not collected within [pickup] overdue_days", handler=overdue)
    p.add_argument("--days", type=float, default=None, help="override overdue_days")
    add_bus_options(p)
    p = cli.command(
        ("pickup", "return"), help="return an item to the window: open its compartment for staff", handler=return_
    )
    p.add_argument("item_id", type=int, help="item id (see hallkit pickup list)")
    p.add_argument("--reason", default="", help="why (audited), e.g. overdue")
    p.add_argument("--actor", default="staff", help="who takes it back (audited)")
    p.add_argument("--wait", type=float, default=180.0, help="seconds to wait for the door to be closed again")
    add_bus_options(p)
    p = cli.command(
        ("pickup", "notify"),
        help="send the citizen a new pickup code and QR (the old ones stop working)",
        handler=notify,
    )
    p.add_argument("item_id", type=int)
    p.add_argument("--actor", default="staff")
    add_bus_options(p)
    p = cli.command(("pickup", "fault-clear"), help="put a repaired compartment back into service", handler=fault_clear)
    p.add_argument("compartment", help="compartment number, e.g. A03")
    p.add_argument("--actor", default="staff")
    add_bus_options(p)


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "-"


def _line(item: dict) -> str:
    c = item["compartment"]
    extra = f"  ! {item['error']}" if item.get("error") else ""
    return (
        f"{item['item_id']:>5}  {item.get('case_no', item['case_no_masked']):<16} {c['no']:<4} {c['size']} {c['position']:<8} "
        f"{STATE_ZH.get(item['state'], item['state'])}{'/' + item['phase'] if item['phase'] else ''}  "
        f"{item['item_name']}  {_when(item['deposited_at'])}{extra}"
    )


def _request(client, args, op: str, data: dict):
    from hall_bus.bus.client import BusTimeout, RequestFailed

    try:
        return client.request(op, data, timeout=args.timeout)
    except RequestFailed as exc:
        raise SystemExit(fail(f"refused: {exc}", 1)) from None
    except BusTimeout:
        raise SystemExit(fail(f"{op}: no answer from the controller within {args.timeout:g} s", 3)) from None


def _wait_door(client, args, item: dict, done: set[str], op: str, data: dict) -> dict:
    deadline = time.monotonic() + args.wait
    out = {"item": item}
    while item["state"] not in done:
        if item["phase"] == "" and item["state"] in ("deposited", "cancelled") and item["error"]:
            break
        if time.monotonic() > deadline:
            raise SystemExit(
                fail(
                    f"item {item['item_id']}: door of {item['compartment']['no']} still open after {args.wait:g} s; "
                    "close it (the controller keeps waiting and raises an alarm)",
                    4,
                )
            )
        time.sleep(0.3)
        out = _request(client, args, op, data)
        item = out["items"][0] if "items" in out else out["item"]
    out["item"] = item
    return out


def deposit(args: argparse.Namespace) -> int:
    data = {"case_no": args.case, "size": args.size, "actor": args.actor}
    if args.token:
        data["identity_token"] = args.token
    if args.item:
        data["item_name"] = args.item
    if args.window:
        data["window"] = args.window
    with bus_client(args) as client:
        item = _request(client, args, "pickup.deposit.start", data)["item"]
        c = item["compartment"]
        print(
            f"柜格 {c['no']}（{c['position']}，{c['size']}）正在打开，请放入物品后关门 / compartment {c['no']} opening: "
            "put the item in and close the door",
            flush=True,
        )
        out = _wait_door(
            client,
            args,
            item,
            {"deposited", "cancelled"},
            "pickup.deposit.confirm",
            {"item_id": item["item_id"], "actor": args.actor},
        )
    item = out["item"]
    if args.json:
        print_json(out)
    if item["state"] != "deposited":
        return fail(
            f"deposit of case {args.case} failed: {item['error'] or item['state']}; choose again (hallkit pickup deposit)",
            1,
        )
    slip = out["slip"]
    print(
        f"已存件 / deposited: item {item['item_id']}, case {slip['case_no']}, {slip['item_name']}, "
        f"compartment {slip['compartment']} ({slip['position']}) at {_when(slip['deposited_at'])}; the citizen has been notified"
    )
    return 0


def list_(args: argparse.Namespace) -> int:
    data = (
        {"states": ["depositing", "deposited", "collecting", "returning", "collected", "returned", "cancelled"]}
        if args.all
        else {}
    )
    with bus_client(args) as client:
        out = _request(client, args, "pickup.list", data)
    if args.json:
        print_json(out)
        return 0
    print("free compartments: " + ", ".join(f"{k} {v}" for k, v in out["free"].items()))
    for f in out["faults"]:
        print(f"FAULT {f['compartment']}: {f['reason']} since {_when(f['at'])}")
    for item in out["items"]:
        print(_line(item))
    if not out["items"]:
        print("no items")
    return 0


def overdue(args: argparse.Namespace) -> int:
    data = {} if args.days is None else {"days": args.days}
    with bus_client(args) as client:
        out = _request(client, args, "pickup.overdue", data)
    if args.json:
        print_json(out)
        return 0
    print(f"{len(out['items'])} item(s) not collected within {out['days']:g} day(s)")
    for item in out["items"]:
        print(_line(item))
    return 0


def return_(args: argparse.Namespace) -> int:
    with bus_client(args) as client:
        item = _request(
            client, args, "pickup.return", {"item_id": args.item_id, "actor": args.actor, "reason": args.reason}
        )["item"]
        c = item["compartment"]
        print(
            f"柜格 {c['no']}（{c['position']}）正在打开，请取出物品后关门 / compartment {c['no']} opening: take the item out "
            "and close the door",
            flush=True,
        )
        out = _wait_door(client, args, item, {"returned"}, "pickup.status", {"item_id": args.item_id})
    item = out["item"]
    if item["state"] != "returned":
        return fail(f"return of item {args.item_id} failed: {item['error'] or item['state']}", 1)
    print(f"已退回窗口 / returned: item {args.item_id}, case {item.get('case_no', item['case_no_masked'])}")
    return 0


def notify(args: argparse.Namespace) -> int:
    with bus_client(args) as client:
        out = _request(client, args, "pickup.notify", {"item_id": args.item_id, "actor": args.actor})
    if not out["notified"]:
        return fail(
            f"item {args.item_id}: a new code was drawn but the notification failed (see the controller log)", 1
        )
    print(f"item {args.item_id}: new pickup code and QR sent; the earlier ones no longer work")
    return 0


def fault_clear(args: argparse.Namespace) -> int:
    with bus_client(args) as client:
        out = _request(client, args, "pickup.fault.clear", {"compartment": args.compartment, "actor": args.actor})
    print(f"{args.compartment}: {'back in service' if out['cleared'] else 'had no fault'}")
    return 0
