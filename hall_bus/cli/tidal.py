"""``hallkit tidal ...``: tidal windows (潮汐窗口) for managers (``tidal simulate`` is the simulators').

hallkit tidal load                      live load per domain and window
hallkit tidal proposals                 pending and recent proposals
hallkit tidal accept tp-12 [--actor A]  accept a proposal (the window moves when its ticket ends)
hallkit tidal reject tp-12 [--reason R] reject a proposal
hallkit tidal mode off|propose|auto     switch the mode
"""

from __future__ import annotations

import argparse
import datetime as dt

from pydantic import BaseModel

from hall_bus.cli.common import answer, bus_command, call, plain
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


def _wait(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def load(args: argparse.Namespace) -> int:
    return answer(args, call(args, "tidal.load", Empty(), Load), _print_load)


def _print_load(data: Load) -> None:
    t = data.totals
    print(
        f"tidal mode {data.mode}, policy {data.policy}, threshold {data.threshold_min:g} min; "
        f"{t.waiting} waiting, {t.windows_open} windows open, {t.windows_away} away from home"
    )
    print(f"{'domain':<18}{'waiting':>8}{'arr/h':>7}{'min/tkt':>8}{'windows':>9}{'wait':>7}{'proj.':>7}{'util':>7}")
    for d in data.domains:
        util = "—" if d.utilisation is None else f"{d.utilisation:.0%}"
        print(
            f"{d.name + ' ' + d.domain:<18}{d.waiting:>8}{d.arrival_rate_per_h:>7.0f}{d.handling_min:>8.1f}"
            f"{d.capacity:>9.1f}{_wait(d.expected_wait_min):>7}{_wait(d.projected_wait_min):>7}{util:>7}"
        )
    for w in data.windows:
        pending = f" -> {','.join(w.pending_domains)}" if w.pending_domains else ""
        away = " (away from home)" if w.away_from_home else ""
        print(f"  {w.name}: {w.state:<8} {','.join(w.domains)}{pending}{away}  last hour {w.utilisation_1h:.0%}")


def _print_proposal(p: Proposal) -> None:
    when = dt.datetime.fromtimestamp(p.created_at).strftime("%H:%M")
    decided = f" by {p.decided_by}" if p.decided_by else ""
    note = f" ({p.note})" if p.note else ""
    print(f"{p.id:>7} {when} {p.state:<8}{decided}{note}")
    print(f"        {p.reason}")
    print(f"        {p.reason_en}")


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
