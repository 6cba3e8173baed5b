"""``hallkit sim KIND``: run a device simulator standalone and print the URL to give a driver."""
from __future__ import annotations

import argparse
import sys


def register(cli) -> None:
    p = cli.command(("sim",), help="run a device simulator on a pty or a TCP port",
                    handler=run, description="Run a device simulator standalone. It prints the URL to give a driver "
                    "(a pty path, or socket://127.0.0.1:PORT) and serves until stopped (Ctrl-C).")
    p.add_argument("kind", help="idcard, locker, pad, caller, display, printer")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (default)")
    where.add_argument("--tcp", type=int, metavar="PORT", default=None, help="serve on a TCP port (0: any free port)")
    p.add_argument("--fault", default="", help="fault plan, e.g. 'delay=0.2,corrupt=1,no_card' (see docs/devices.md)")
    p.add_argument("--baud", type=int, default=None, help="line rate to emulate (default: the device's own, e.g. 115200 for idcard)")
    p.add_argument("--no-line-rate", action="store_true", help="answer as fast as possible")
    p.add_argument("--out", default=None, metavar="DIR", help="where simulators that produce files write them "
                   "(the printer: one PNG per ticket)")
    p.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE",
                   help="simulator option (repeatable), e.g. --opt boards=1,2 --opt out=tickets/")


def run(args: argparse.Namespace) -> int:
    from . import registry
    from .base import serve_pty, serve_tcp

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
    print(f"{args.kind} simulator at {device.baudrate} baud; give the URL above to a driver; Ctrl-C stops", file=sys.stderr, flush=True)
    from hall_bus.cliutil import wait_until_stopped

    wait_until_stopped()
    served.stop()
    return 0
