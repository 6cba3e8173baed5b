"""``hallkit tidal ...``: tidal windows (潮汐窗口) for managers (``tidal simulate`` is the simulators').

hallkit tidal load                      live load per domain and window
hallkit tidal proposals                 pending and recent proposals
hallkit tidal accept tp-12 [--actor A]  accept a proposal (the window moves when its ticket ends)
hallkit tidal reject tp-12 [--reason R] reject a proposal
hallkit tidal mode off|propose|auto     switch the mode
hallkit tidal plan [--date D] [--chart F] staffing plan (排班建议) from a recorded day in the hall's store
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

from pydantic import BaseModel

from hall_bus.cli.common import answer, bus_command, call, config_of, fail, plain, print_json
from hall_bus.cli.main import CommandLine
from hall_bus.contracts.base import Empty
from hall_bus.contracts.tidal import (
    Accept,
    Accepted,
    Load,
    ModeChanged,
    ModeSet,
    Proposal,
    Proposals,
    ProposalsRequest,
    Reject,
    Rejected,
)
from hall_bus.features.tidal import plan_report, planner


def register(cli: CommandLine) -> None:
    cli.describe(("tidal",), "tidal windows (潮汐窗口): load, proposals, modes and the hall traffic simulator")
    bus_command(cli, ("tidal", "load"), "live load per domain and window", load)
    p = bus_command(cli, ("tidal", "proposals"), "pending and recent proposals", proposals)
    p.add_argument("--recent", type=int, default=10, help="how many decided proposals to show (default 10)")
    help_text = "accept a proposal (the window moves when its current ticket ends)"
    p = bus_command(cli, ("tidal", "accept"), help_text, accept, actor="manager")
    p.add_argument("proposal_id", help="proposal id, e.g. tp-12")
    p = bus_command(cli, ("tidal", "reject"), "reject a proposal", reject, actor="manager")
    p.add_argument("proposal_id", help="proposal id, e.g. tp-12")
    p.add_argument("--reason", default="", help="why (audited)")
    p = bus_command(cli, ("tidal", "mode"), "switch the tidal mode: off, propose or auto", mode, actor="manager")
    p.add_argument("mode", choices=("off", "propose", "auto"))
    p = cli.command(("tidal", "plan"), "staffing plan (排班建议): windows per domain per hour for a wait target", plan)
    p.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    p.add_argument("--db", default=None, help="the controller's store file (default: data_dir/<hall id>.db)")
    p.add_argument("--date", default=None, help="the recorded day, YYYY-MM-DD (default yesterday)")
    p.add_argument("--target", type=float, default=15.0, help="p90 wait target in minutes (default 15)")
    p.add_argument("--resamples", type=int, default=12, help="days drawn from the recorded one (default 12)")
    p.add_argument("--chart", default=None, metavar="OUT.svg|OUT.png", help="also draw the plan")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")


def _wait(x: float | None) -> str:
    """A wait in minutes with its unit; ``—`` when there is no estimate (no open window)."""
    return "—" if x is None else f"{x:.0f} min"


def load(args: argparse.Namespace) -> int:
    return answer(args, call(args, "tidal.load", Empty(), Load), _print_load)


def _print_load(data: Load) -> None:
    t = data.totals
    print(
        f"tidal mode {data.mode}, policy {data.policy}, threshold {data.threshold_min:g} min; "
        f"{t.waiting} waiting, {t.windows_open} windows open, {t.windows_away} away from home"
    )
    print(
        f"{'domain':<18}{'waiting':>8}{'wait':>9}{'in ' + f'{data.horizon_min:g}' + ' min':>11}"
        f"{'windows':>9}{'busy':>7}{'arr/h':>7}{'min/tkt':>8}"
    )
    for d in data.domains:
        util = "—" if d.utilisation is None else f"{min(1.0, d.utilisation):.0%}"
        print(
            f"{d.name + ' ' + d.domain:<18}{d.waiting:>8}{_wait(d.expected_wait_min):>9}"
            f"{_wait(d.projected_wait_min):>11}{len(d.windows):>9}{util:>7}{d.arrival_rate_per_h:>7.0f}"
            f"{d.handling_min:>8.1f}"
        )
    print("wait: what a ticket taken now would wait (the figure the kiosk and the hall display show);")
    print("busy: share of the last hour its windows had a citizen at the counter, of the time they were open")
    for w in data.windows:
        pending = f" -> {','.join(w.pending_domains)}" if w.pending_domains else ""
        away = " (away from home)" if w.away_from_home else ""
        print(f"  {w.name}: {w.state:<8} {','.join(w.domains)}{pending}{away}  busy {w.utilisation_1h:.0%} last hour")


def _print_proposal(p: Proposal) -> None:
    when = dt.datetime.fromtimestamp(p.created_at).strftime("%H:%M")
    decided = f" by {p.decided_by}" if p.decided_by else ""
    note = f" ({p.note})" if p.note else ""
    print(f"{p.id:>7} {when} {p.state:<8}{decided}{note}")
    print(f"        {p.reason}")
    print(f"        {p.reason_en}")
    before, after = p.metrics.model_dump().get("wait_before_min"), p.metrics.model_dump().get("wait_after_min")
    if isinstance(before, dict) and isinstance(after, dict):
        change = ", ".join(f"{d} {_wait(before.get(d))} -> {_wait(after.get(d))}" for d in before)
        print(f"        expected: {change}")


def proposals(args: argparse.Namespace) -> int:
    req = ProposalsRequest(recent=max(0, min(200, args.recent)))
    return answer(args, call(args, "tidal.proposals", req, Proposals), _print_proposals)


def _print_proposals(data: Proposals) -> None:
    print(f"tidal mode {data.mode}, policy {data.policy}: {len(data.pending)} pending")
    for p in data.pending:
        _print_proposal(p)
    if data.recent:
        print("recent:")
        for p in data.recent:
            _print_proposal(p)


def accept(args: argparse.Namespace) -> int:
    req = Accept(proposal_id=args.proposal_id, actor=args.actor)
    return answer(args, call(args, "tidal.accept", req, Accepted), _accepted)


class _WindowName(BaseModel):
    """What the answer shows of the accepted proposal's window (free-form in the contract)."""

    name: str


def _accepted(data: Accepted) -> None:
    p, w = data.proposal, _WindowName.model_validate(plain(data.window))
    when = "now" if p.applied_now else "when its current ticket ends"
    print(f"{p.id} accepted: {w.name} serves {','.join(p.to_domains)} {when}")


def reject(args: argparse.Namespace) -> int:
    req = Reject(proposal_id=args.proposal_id, actor=args.actor, reason=args.reason)
    return answer(args, call(args, "tidal.reject", req, Rejected), lambda out: print(f"{out.proposal.id} rejected"))


def mode(args: argparse.Namespace) -> int:
    out = call(args, "tidal.mode", ModeSet(mode=args.mode, actor=args.actor), ModeChanged)
    return answer(args, out, lambda o: print(f"tidal mode {o.previous} -> {o.mode}"))


def plan(args: argparse.Namespace) -> int:
    """Read the recorded day read-only from the store, plan, print the table (and draw the chart)."""
    config = config_of(args)
    path = Path(args.db) if args.db else Path(config.data_dir) / f"{config.hall_id}.db"
    if not path.is_file():
        return fail(f"--db: no store file {path}", command="tidal plan")
    day = args.date or (dt.datetime.now(config.tz()).date() - dt.timedelta(days=1)).isoformat()
    if not 1 <= args.target <= 480 or not 0 <= args.resamples <= 100:
        return fail("--target must be 1..480 minutes and --resamples 0..100", command="tidal plan")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            recorded = planner.record_from_store(db, config, day)
        finally:
            db.close()
    except (sqlite3.Error, ValueError) as exc:
        return fail(f"{path}: {exc}", command="tidal plan")
    result = planner.plan(config, recorded, args.target, resamples=args.resamples)
    outcome = planner.outcome(config, result)
    if args.json:
        t = plan_report.table(config, result, outcome)
        print_json(
            {
                "day": day,
                "target_p90_min": args.target,
                "window_hours": result.window_hours,
                "staffing": [{str(w): list(d) for w, d in s.items()} for s in result.staffing],
                "unmet": result.unmet,
                **dataclasses.asdict(t),
            }
        )
    else:
        print("\n".join(plan_report.lines(config, result, outcome)))
    if args.chart:
        try:
            plan_report.write_chart(config, result, outcome, Path(args.chart))
        except (OSError, ValueError) as exc:
            return fail(f"--chart: {exc}", command="tidal plan")
        if not args.json:
            print(f"chart written to {args.chart}")
    return 0
