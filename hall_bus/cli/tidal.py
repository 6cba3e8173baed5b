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

from hall_bus.cli.common import add_bus_options, call, print_json


def register(cli) -> None:
    cli.describe(("tidal",), "tidal windows (潮汐窗口): load, proposals, modes and the hall traffic simulator")
    p = cli.command(("tidal", "load"), help="live load per domain and window", handler=load)
    add_bus_options(p)
    p = cli.command(("tidal", "proposals"), help="pending and recent proposals", handler=proposals)
    p.add_argument("--recent", type=int, default=10, help="how many decided proposals to show (default 10)")
    add_bus_options(p)
    p = cli.command(
        ("tidal", "accept"), help="accept a proposal (the window moves when its current ticket ends)", handler=accept
    )
    p.add_argument("proposal_id", help="proposal id, e.g. tp-12")
    p.add_argument("--actor", default="manager", help="who decides (audited)")
    add_bus_options(p)
    p = cli.command(("tidal", "reject"), help="reject a proposal", handler=reject)
    p.add_argument("proposal_id", help="proposal id, e.g. tp-12")
    p.add_argument("--actor", default="manager", help="who decides (audited)")
    p.add_argument("--reason", default="", help="why (audited)")
    add_bus_options(p)
    p = cli.command(("tidal", "mode"), help="switch the tidal mode: off, propose or auto", handler=mode)
    p.add_argument("mode", choices=("off", "propose", "auto"))
    p.add_argument("--actor", default="manager", help="who switches (audited)")
    add_bus_options(p)


def _wait(x) -> str:
    return "—" if x is None else f"{x:.1f}"


def load(args: argparse.Namespace) -> int:
    data = call(args, "tidal.load", {})
    if args.json:
        print_json(data)
        return 0
    print(
        f"tidal mode {data['mode']}, policy {data['policy']}, threshold {data['threshold_min']:g} min; "
        f"{data['totals']['waiting']} waiting, {data['totals']['windows_open']} windows open, "
        f"{data['totals']['windows_away']} away from home"
    )
    print(f"{'domain':<18}{'waiting':>8}{'arr/h':>7}{'min/tkt':>8}{'windows':>9}{'wait':>7}{'proj.':>7}{'util':>7}")
    for d in data["domains"]:
        util = "—" if d["utilisation"] is None else f"{d['utilisation']:.0%}"
        print(
            f"{d['name'] + ' ' + d['domain']:<18}{d['waiting']:>8}{d['arrival_rate_per_h']:>7.0f}{d['handling_min']:>8.1f}"
            f"{d['capacity']:>9.1f}{_wait(d['expected_wait_min']):>7}{_wait(d['projected_wait_min']):>7}{util:>7}"
        )
    for w in data["windows"]:
        pending = f" -> {','.join(w['pending_domains'])}" if w["pending_domains"] else ""
        away = " (away from home)" if w["away_from_home"] else ""
        print(
            f"  {w['name']}: {w['state']:<8} {','.join(w['domains'])}{pending}{away}  last hour {w['utilisation_1h']:.0%}"
        )
    return 0


def _print_proposal(p: dict) -> None:
    when = dt.datetime.fromtimestamp(p["created_at"]).strftime("%H:%M")
    decided = f" by {p['decided_by']}" if p.get("decided_by") else ""
    note = f" ({p['note']})" if p.get("note") else ""
    print(f"{p['id']:>7} {when} {p['state']:<8}{decided}{note}")
    print(f"        {p['reason']}")
    print(f"        {p['reason_en']}")


def proposals(args: argparse.Namespace) -> int:
    data = call(args, "tidal.proposals", {"recent": max(0, min(200, args.recent))})
    if args.json:
        print_json(data)
        return 0
    print(f"tidal mode {data['mode']}, policy {data['policy']}: {len(data['pending'])} pending")
    for p in data["pending"]:
        _print_proposal(p)
    if data["recent"]:
        print("recent:")
        for p in data["recent"]:
            _print_proposal(p)
    return 0


def accept(args: argparse.Namespace) -> int:
    data = call(args, "tidal.accept", {"proposal_id": args.proposal_id, "actor": args.actor})
    if args.json:
        print_json(data)
        return 0
    p, w = data["proposal"], data["window"]
    when = "now" if p["applied_now"] else "when its current ticket ends"
    print(f"{p['id']} accepted: {w['name']} serves {','.join(p['to_domains'])} {when}")
    return 0


def reject(args: argparse.Namespace) -> int:
    data = call(args, "tidal.reject", {"proposal_id": args.proposal_id, "actor": args.actor, "reason": args.reason})
    if args.json:
        print_json(data)
        return 0
    print(f"{data['proposal']['id']} rejected")
    return 0


def mode(args: argparse.Namespace) -> int:
    data = call(args, "tidal.mode", {"mode": args.mode, "actor": args.actor})
    if args.json:
        print_json(data)
        return 0
    print(f"tidal mode {data['previous']} -> {data['mode']}")
    return 0
