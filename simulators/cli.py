"""``hallkit sim KIND`` (a device simulator standalone, printing the URL to give a driver) and
``hallkit tidal simulate`` (one hall day of the traffic simulator)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hall_bus.cli.common import fail


def register(cli: Any) -> None:
    p = cli.command(
        ("sim",),
        help="run a device simulator on a pty or a TCP port",
        handler=run,
        description="Run a device simulator standalone. It prints the URL to give a driver "
        "(a pty path, or socket://127.0.0.1:PORT) and serves until stopped (Ctrl-C).",
    )
    p.add_argument("kind", help="idcard, locker, pad, caller, display, printer")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (default)")
    where.add_argument("--tcp", type=int, metavar="PORT", default=None, help="serve on a TCP port (0: any free port)")
    p.add_argument("--fault", default="", help="fault plan, e.g. 'delay=0.2,corrupt=1,no_card' (see docs/devices.md)")
    p.add_argument(
        "--baud",
        type=int,
        default=None,
        help="line rate to emulate (default: the device's own, e.g. 115200 for idcard)",
    )
    p.add_argument("--no-line-rate", action="store_true", help="answer as fast as possible")
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="where simulators that produce files write them (the printer: one PNG per ticket)",
    )
    p.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="simulator option (repeatable), e.g. --opt boards=1,2 --opt out=tickets/",
    )

    p = cli.command(
        ("tidal", "simulate"),
        help="simulate a hall day with a tidal policy (prints waits, utilisation, moves)",
        handler=simulate,
        description="Simulate one hall day from a scenario file, driving the real queue engine in simulated "
        "time. Strategies: a tidal policy name (threshold, flexible), static (no moves) or pooled "
        "(every window serves every domain). The last line is "
        "'mean_wait_min=<x> p90_wait_min=<y> moves=<k>'.",
    )
    p.add_argument("--scenario", required=True, help="scenario TOML, e.g. simulators/scenarios/city.toml")
    p.add_argument(
        "--policy", default=None, help="threshold | flexible | static | pooled (default: the scenario's [tidal] policy)"
    )
    p.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> int:
    from simulators import registry
    from simulators.base import serve_pty, serve_tcp

    query = {"fault": args.fault, "line_rate": "0" if args.no_line_rate else "1"}
    if args.baud:
        query["baud"] = str(args.baud)
    if args.out:
        query["out"] = args.out
    for opt in args.opt:
        key, eq, value = opt.partition("=")
        if not eq or not key:
            print(f"hallkit sim: --opt {opt!r} is not KEY=VALUE", file=sys.stderr)
            return 2
        query[key] = value
    try:
        device = registry.create(args.kind, query)
    except (KeyError, ValueError) as exc:
        print(f"hallkit sim: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    served = serve_tcp(device, args.tcp) if args.tcp is not None else serve_pty(device)
    print(served.url, flush=True)
    print(
        f"{args.kind} simulator at {device.baudrate} baud; give the URL above to a driver; Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    from hall_bus.cli.common import wait_until_stopped

    wait_until_stopped()
    served.stop()
    return 0


def simulate(args: argparse.Namespace) -> int:
    from hall_bus.config import ConfigError
    from simulators.hall_traffic import report
    from simulators.hall_traffic import simulate as run_day
    from simulators.traffic_scenario import load_scenario

    try:
        scenario = load_scenario(args.scenario)
    except ConfigError as exc:
        return fail(str(exc))
    policy = args.policy or scenario.tidal.get("policy", "threshold")
    try:
        result = run_day(scenario, policy, seed=args.seed)
    except ValueError as exc:
        return fail(str(exc))
    for line in report(result, scenario.config):
        print(line)
    return 0
