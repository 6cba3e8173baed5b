"""``hallkit cases ...``: the case store (办件) behind pickup and the kiosk's progress check.

hallkit cases show CASE           progress of one case
hallkit cases set CASE STATUS     move a case (staff), e.g. ready
"""

from __future__ import annotations

import argparse
import datetime as dt

from hall_bus.cli.common import answer, bus_command, call, given
from hall_bus.cli.main import CommandLine
from hall_bus.contracts.cases import Case, CaseList, CaseLookup, CaseOne, CaseUpdate

STATUSES = ("received", "processing", "ready", "deposited", "collected", "returned", "closed")


def register(cli: CommandLine) -> None:
    cli.describe(("cases",), "cases (办件): demo data, progress, status")
    p = bus_command(cli, ("cases", "show"), "progress of one case", show)
    p.add_argument("case_no")
    p = bus_command(cli, ("cases", "set"), "create or move a case", set_, actor="staff")
    p.add_argument("case_no")
    p.add_argument("status", choices=STATUSES)
    p.add_argument("--service", default=None, help="service id (needed to create a case)")
    p.add_argument("--token", default=None, help="the citizen's identity token (64 hex)")
    p.add_argument("--title", default=None)


def _print(*cases: Case) -> None:
    for case in cases:
        print(f"{case.case_no}  {case.title}  {case.status_zh} ({case.status})")
        for s in case.steps:
            print(f"  {dt.datetime.fromtimestamp(s.at):%Y-%m-%d %H:%M:%S}  {s.status}")


def show(args: argparse.Namespace) -> int:
    out = call(args, "case.lookup", CaseLookup(case_no=args.case_no.upper()), CaseList)
    return answer(args, out, lambda o: _print(*o.cases))


def set_(args: argparse.Namespace) -> int:
    req = CaseUpdate(
        case_no=args.case_no.upper(),
        status=args.status,
        actor=args.actor,
        **given(service=args.service, identity_token=args.token, title=args.title),
    )
    return answer(args, call(args, "case.update", req, CaseOne), lambda o: _print(o.case))
