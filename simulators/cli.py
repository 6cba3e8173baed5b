"""``hallkit sim KIND`` (a device simulator standalone, printing the URL to give a driver) and
``hallkit tidal simulate`` (one hall day of the traffic simulator)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hall_bus.cli.common import fail
from simulators.registry import KNOWN_KINDS

KINDS = (*KNOWN_KINDS, "scanner")


def register(cli: Any) -> None:
    p = cli.command(
        ("sim",),
        help="run a device simulator on a pty or a TCP port",
        handler=run,
        description="Run a device simulator standalone. It prints the URL to give a driver "
        "(a pty path, or socket://127.0.0.1:PORT; for the scanner http://127.0.0.1:PORT/stream.mjpg) and "
        "serves until stopped (Ctrl-C). `hallkit sim KIND --options` lists a kind's options and faults; "
        "an unknown option or fault is refused with the valid ones.",
    )
    p.add_argument("kind", help=f"one of: {', '.join(KINDS)}")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (default; not the scanner)")
    where.add_argument(
        "--tcp",
        type=int,
        metavar="PORT",
        default=None,
        help="serve on a TCP port (0: any free port; the scanner's HTTP)",
    )
    p.add_argument("--fault", default="", help="fault plan, e.g. 'delay=0.2,corrupt=1,no_card' (see docs/devices.md)")
    p.add_argument(
        "--baud",
        type=int,
        default=None,
        help="the device's line rate (default: its own, e.g. 115200 for idcard); a driver at another rate reads "
        "garbage, as on a real UART",
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
    p.add_argument("--options", action="store_true", help="list the kind's options and faults, then exit")

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
    from simulators.base import FaultPlan, serve_pty, serve_tcp

    if args.kind not in KINDS:
        return _refuse(f"no simulator of kind {args.kind!r} (kinds: {', '.join(KINDS)})")
    query: dict[str, str] = {}
    for opt in args.opt:
        key, eq, value = opt.partition("=")
        if not eq or not key:
            return _refuse(f"--opt {opt!r} is not KEY=VALUE")
        query[key] = value
    if args.kind == "scanner":
        return _scanner(args, query)
    cls = registry.kind_class(args.kind)
    if args.options:
        print(f"options of the {args.kind} simulator (--opt KEY=VALUE, or sim://{args.kind}?KEY=VALUE):")
        for key, what in sorted(cls.options().items()):
            print(f"  {key}: {what}")
        print(f"faults (--fault, or fault=): {FaultPlan.valid(cls.FAULTS)}")
        return 0
    if args.fault:
        query["fault"] = args.fault
    if args.no_line_rate:
        query["line_rate"] = "0"
    if args.baud:
        query["baud"] = str(args.baud)
    if args.out:
        query["out"] = args.out
    try:
        device = registry.create(args.kind, query)
    except (KeyError, ValueError) as exc:
        return _refuse(str(exc.args[0] if exc.args else exc))
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


SCANNER_OPTIONS = {
    "width": "frame width in pixels (default 2592)",
    "height": "frame height in pixels (default 1944)",
    "fps": "frames a second (default 10)",
    "seed": "the desk scene's random seed",
    "script": "what the person does, e.g. move:1.0,still:2.5 (repeats)",
}


def _scanner(args: argparse.Namespace, query: dict[str, str]) -> int:
    """The document camera: the desk scene as an MJPEG stream over HTTP (it has no serial line)."""
    from simulators.desk_scene import DeskScene
    from simulators.scanner_stream import MjpegStream
    from simulators.schemes.camera_sim import DEFAULT_SCRIPT

    if args.options:
        print("options of the scanner simulator (--opt KEY=VALUE):")
        for key, what in SCANNER_OPTIONS.items():
            print(f"  {key}: {what}")
        print("faults: none (a camera has no line to break; cover the lens)")
        return 0
    if args.pty or args.fault or args.baud or args.out:
        return _refuse("the scanner is a camera stream: it takes --tcp PORT and --opt only")
    unknown = sorted(set(query) - set(SCANNER_OPTIONS))
    if unknown:
        return _refuse(
            f"the scanner simulator has no option {', '.join(unknown)} (valid: {', '.join(SCANNER_OPTIONS)})"
        )
    try:
        scene = DeskScene(
            int(query.get("width", 2592)),
            int(query.get("height", 1944)),
            float(query.get("fps", 10)),
            seed=int(query.get("seed", 0)),
            script=query.get("script", DEFAULT_SCRIPT),
        )
    except ValueError as exc:
        return _refuse(f"scanner: {exc}")
    stream = MjpegStream(scene, port=args.tcp or 0).start()
    print(stream.url, flush=True)
    print(
        "scanner (document camera) stream; give the URL above to hallkit scan session --url; Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    from hall_bus.cli.common import wait_until_stopped

    wait_until_stopped()
    stream.stop()
    return 0


def _refuse(message: str) -> int:
    print(f"hallkit sim: {message}", file=sys.stderr)
    return 2


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
