"""``hallkit report daily|range`` and ``hallkit followup list|update|assign|note|visit|rectify|close``."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hall_bus.cli.common import answer, bus_command, call, config_of, fail, given
from hall_bus.cli.main import CommandLine
from hall_bus.config import ConfigError
from hall_bus.contracts.evaluation import (
    Followup,
    FollowupAssign,
    FollowupClose,
    FollowupList,
    FollowupNote,
    FollowupOne,
    FollowupRectify,
    Followups,
    FollowupStep,
    FollowupUpdate,
    FollowupVisit,
    RangeReport,
    Report,
    ReportDaily,
    ReportRange,
)
from hall_bus.features.evaluation import export, ranges, reports, settings
from hall_bus.features.evaluation.followup import STATES, VISIT_RESULTS


def register(cli: CommandLine) -> None:
    cli.describe(("report",), "hall reports (好差评, waits, no-shows)")
    p = bus_command(cli, ("report", "daily"), "a day's figures by window, clerk, domain and service", daily)
    p.add_argument("--date", default=None, help="YYYY-MM-DD (default today)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--chart", default=None, metavar="OUT.png", help="also draw the day's waits and ratings")
    p.add_argument(
        "--db", default=None, help="read the controller's store file directly instead of asking over the bus"
    )
    p = bus_command(cli, ("report", "range"), "好差评 over a date range (up to a year), grouped", report_range)
    p.add_argument("--from", dest="from_day", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="to_day", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--group", choices=ranges.GROUPS, default="day")
    p.add_argument("--csv", default=None, metavar="OUT.csv", help="also write the report as CSV (UTF-8, Excel)")
    p.add_argument("--xlsx", default=None, metavar="OUT.xlsx", help="also write the report as an Excel workbook")
    p.add_argument("--db", default=None, help="read the controller's store file instead of asking over the bus")
    cli.describe(("followup",), "bad-review follow-ups (差评整改)")
    p = bus_command(cli, ("followup", "list"), "follow-ups, or only the overdue ones", followup_list)
    p.add_argument("--overdue", action="store_true")
    p.add_argument("--state", default=None, choices=STATES)
    p = bus_command(cli, ("followup", "update"), "move a follow-up on with a note", followup_update, actor="manager")
    p.add_argument("id", type=int)
    p.add_argument("state", choices=STATES)
    p.add_argument("--note", default="")
    steps: list[tuple[str, str, str | None]] = [
        ("assign", "give a follow-up to a staff member", "assignee"),
        ("note", "add a note", None),
        ("visit", "record the return visit (回访) and its result", "result"),
        ("rectify", "record the rectification (整改): --note says what was done", None),
        ("close", "close a rectified (or appealed) follow-up", None),
    ]
    for step, text, extra in steps:
        p = bus_command(cli, ("followup", step), text, followup_step, actor="manager")
        p.set_defaults(step=step)
        p.add_argument("id", type=int)
        if extra == "assignee":
            p.add_argument("assignee", help="staff_no of a [[staff]] entry")
        elif extra == "result":
            p.add_argument("result", choices=VISIT_RESULTS)
        p.add_argument("--note", default="", required=step in ("note", "rectify"))


def _offline(args: argparse.Namespace) -> dict[str, Any] | int:
    """The report straight from the controller's store file (read-only), without the bus."""
    config = config_of(args)
    try:
        staff = settings.load(config)
    except ConfigError as exc:
        return fail(str(exc))
    try:
        store = reports.ReadOnlyStore(args.db)
    except (OSError, ValueError, sqlite3.Error) as exc:
        return fail(f"--db: {exc}")
    day = args.date or dt.datetime.now(config.tz()).date().isoformat()
    try:
        return reports.daily(
            store,
            config.hall_id,
            day,
            tz=config.tz(),
            clerk_of=lambda w: s.staff_no if (s := staff.clerk_of(w)) else None,
        )
    except sqlite3.Error as exc:
        return fail(f"--db {args.db}: {exc}")
    finally:
        store.close()


def report_range(args: argparse.Namespace) -> int:
    req = ReportRange(from_day=args.from_day, to_day=args.to_day, group=args.group)
    if args.db:
        got = _offline_range(args, req)
        if isinstance(got, int):
            return got
        answer_ = got
    else:
        answer_ = call(args, "report.range", req, RangeReport).model_dump(mode="json")
    for path, write in ((args.csv, export.report_csv), (args.xlsx, export.report_xlsx)):
        if path:
            try:
                Path(path).write_bytes(write(answer_))
            except OSError as exc:
                return fail(f"{path}: {exc}")
    if args.json:
        print(json.dumps(answer_, ensure_ascii=False, indent=2))
        return 0
    print(export.title(answer_))
    print("\t".join(export.headers(answer_)))
    for key, label, counts, rates in export._lines(answer_):
        print("\t".join([key, label, *map(str, counts), *("-" if r is None else f"{r:.2%}" for r in rates)]))
    print(f"非常满意率目标 target {answer_['target']:.0%}")
    return 0


def _offline_range(args: argparse.Namespace, req: ReportRange) -> dict[str, Any] | int:
    config = config_of(args)
    try:
        staff = settings.load(config)
        store = reports.ReadOnlyStore(args.db)
    except ConfigError as exc:
        return fail(str(exc))
    except (OSError, ValueError, sqlite3.Error) as exc:
        return fail(f"--db: {exc}")
    try:
        return ranges.report_range(
            store,
            config.hall_id,
            req.from_day,
            req.to_day,
            req.group,
            clerk_of=lambda w: s.staff_no if (s := staff.clerk_of(w)) else None,
            tz=config.tz(),
            label=ranges.labeller(config, staff),
        )
    except ranges.RangeError as exc:
        return fail(f"{exc.code}: {exc}")
    except sqlite3.Error as exc:
        return fail(f"--db {args.db}: {exc}")
    finally:
        store.close()


COLUMNS = [
    "tickets",
    "served",
    "no_show_rate",
    "wait_mean_min",
    "wait_p90_min",
    "handling_mean_min",
    "evaluated",
    "very_satisfied_rate",
    "good_rate",
    "not_evaluated_rate",
    "bad_reviews",
]
HEADERS = [
    "tickets",
    "served",
    "no-show",
    "wait min",
    "p90 min",
    "handle min",
    "rated",
    "very sat.",
    "good",
    "not rated",
    "bad",
]


def _rows(report: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    yield "overall", "hall", report["overall"]
    for group, items in report["by"].items():
        for name, fig in items.items():
            yield group, name, fig


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column.endswith("_rate"):
        return f"{value:.2%}"
    return str(value)


def _followups(fig: dict[str, Any]) -> str:
    """Follow-up states of a group's bad reviews, e.g. ``open=1;visited=2``."""
    return ";".join(f"{state}={n}" for state, n in sorted(fig["followups"].items()))


def daily(args: argparse.Namespace) -> int:
    if args.date:
        try:
            dt.date.fromisoformat(args.date)
        except ValueError:
            return fail(f"--date {args.date!r}: expected YYYY-MM-DD")
    # The figures are the contract's open part (Report names only hall and day), read like the offline report.
    report = _offline(args) if args.db else call(args, "report.daily", ReportDaily(**given(date=args.date)), Report)
    if isinstance(report, Report):
        report = report.model_dump(mode="json", exclude_unset=True)
    if isinstance(report, int):
        return report
    if args.chart:
        from hall_bus.features.evaluation.chart import render  # Pillow: loaded only to draw

        try:
            render(report, args.chart)
        except OSError as exc:
            return fail(f"--chart {args.chart}: {exc}")
    if args.format == "json" or args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["group", "name"] + COLUMNS + [f"level_{i}" for i in range(1, 6)] + ["followups"])
        for group, name, fig in _rows(report):
            w.writerow(
                [group, name]
                + [fig[c] for c in COLUMNS]
                + [fig["evaluations"][str(i)] for i in range(1, 6)]
                + [_followups(fig)]
            )
        sys.stdout.write(buf.getvalue())
    else:
        print(f"{report['hall']} {report['day']}")
        print(f"{'group':<8}{'name':<22}" + "".join(f"{h:>11}" for h in HEADERS))
        for group, name, fig in _rows(report):
            cells = "".join(f"{_cell(c, fig[c]):>11}" for c in COLUMNS)
            print(f"{group:<8}{name[:21]:<22}{cells}")
        o = report["overall"]
        print(f"差评 bad reviews: {o['bad_reviews']}; 整改 follow-ups: {_followups(o) or 'none'}")
    return 0


class _FollowupLine(BaseModel):
    """What the list prints of a follow-up beyond its contract's named fields."""

    day: str
    window: int | None
    level: int | None
    reason: str | None


def followup_list(args: argparse.Namespace) -> int:
    req = FollowupList(overdue=args.overdue, **given(state=args.state))
    return answer(args, call(args, "followup.list", req, Followups), _print_followups)


def _line(f: Followup) -> str:
    more = _FollowupLine.model_validate(f.model_extra or {})
    late = f" OVERDUE: {', '.join(f.overdue)}" if f.overdue else ""
    return (
        f"#{f.id} {more.day} {f.ticket} window {more.window} level {more.level} ({more.reason}) {f.state}; "
        f"visit by {f.visit_due}, rectify by {f.rectify_due}{late}"
    )


def _print_followups(out: Followups) -> None:
    for f in out.followups:
        print(_line(f))
    if not out.followups:
        print("no follow-ups")
    if out.summary and out.followups:
        s = out.summary
        rate = "-" if s.real_name_closed_rate is None else f"{s.real_name_closed_rate:.0%}"
        print(
            f"open {s.open}, overdue {s.overdue}, closed {s.closed}; real-name closed {s.real_name_closed}/{s.real_name} ({rate})"
        )


def followup_update(args: argparse.Namespace) -> int:
    req = FollowupUpdate(id=args.id, state=args.state, note=args.note, actor=args.actor)
    out = call(args, "followup.update", req, FollowupOne)
    print(f"#{args.id} is now {out.followup.state}")
    return 0


STEP_MODELS: dict[str, type[FollowupStep]] = {
    "assign": FollowupAssign,
    "note": FollowupNote,
    "visit": FollowupVisit,
    "rectify": FollowupRectify,
    "close": FollowupClose,
}


def followup_step(args: argparse.Namespace) -> int:
    fields = given(assignee=getattr(args, "assignee", None), result=getattr(args, "result", None))
    req = STEP_MODELS[args.step](id=args.id, note=args.note, actor=args.actor, **fields)
    out = call(args, f"followup.{args.step}", req, FollowupOne)
    print(f"#{args.id} is now {out.followup.state}")
    return 0
