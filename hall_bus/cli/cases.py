"""``hallkit cases ...``: the case store (办件) behind pickup and the kiosk's progress check.

hallkit cases show CASE           progress of one case
hallkit cases set CASE STATUS     move a case (staff), e.g. ready
"""

from __future__ import annotations

import argparse
import datetime as dt

from hall_bus.cli.common import add_bus_options, call, print_json

STATUSES = ("received", "processing", "ready", "deposited", "collected", "returned", "closed")


def register(cli) -> None:
    cli.describe(("cases",), "cases (办件): demo data, progress, status")
    p = cli.command(("cases", "show"), help="progress of one case", handler=show)
    p.add_argument("case_no")
    add_bus_options(p)
    p = cli.command(("cases", "set"), help="create or move a case", handler=set_)
    p.add_argument("case_no")
    p.add_argument("status", choices=STATUSES)
    p.add_argument("--service", default=None, help="service id (needed to create a case)")
    p.add_argument("--token", default=None, help="the citizen's identity token (64 hex)")
    p.add_argument("--title", default=None)
    p.add_argument("--actor", default="staff")
    add_bus_options(p)


def _print(case: dict) -> None:
    print(f"{case['case_no']}  {case['title']}  {case['status_zh']} ({case['status']})")
    for s in case["steps"]:
        print(f"  {dt.datetime.fromtimestamp(s['at']):%Y-%m-%d %H:%M:%S}  {s['status']}")


def show(args: argparse.Namespace) -> int:
    out = call(args, "case.lookup", {"case_no": args.case_no.upper()})
    if args.json:
        print_json(out)
        return 0
    for case in out["cases"]:
        _print(case)
    return 0


def set_(args: argparse.Namespace) -> int:
    data = {"case_no": args.case_no.upper(), "status": args.status, "actor": args.actor}
    for key, value in (("service", args.service), ("identity_token", args.token), ("title", args.title)):
        if value:
            data[key] = value
    out = call(args, "case.update", data)
    if args.json:
        print_json(out)
        return 0
    _print(out["case"])
    return 0
