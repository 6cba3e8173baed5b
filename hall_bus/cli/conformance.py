"""``hallkit conformance <kind> --url URL``: the same checks against a simulator or the real device."""

from __future__ import annotations

import argparse

from devices.conformance import suite as conformance
from hall_bus.cli.common import fail
from hall_bus.cli.main import CommandLine


def register(cli: CommandLine) -> None:
    p = cli.command(
        ("conformance",),
        help="run a device kind's conformance checks against a URL",
        handler=run,
        description="Run the conformance checks of a device kind against any URL (simulator or device). "
        "Each check prints PASS or FAIL; a failure shows the bytes exchanged.",
    )
    p.add_argument("kind", help="idcard, locker, pad, caller, display, printer")
    p.add_argument("--url", required=True)
    p.add_argument("--baud", type=int, default=None)
    p.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="e.g. --opt board=2 --opt lock=5 --opt address=3",
    )


def run(args: argparse.Namespace) -> int:
    options = dict(o.partition("=")[::2] for o in args.opt)
    try:
        results = conformance.run(args.kind, args.url, args.baud, options)
    except KeyError as exc:
        return fail(exc.args[0], 2, "conformance")
    for r in results:
        if not r.ran:
            print(f"SKIP  {r.name}  (not run)")
            continue
        print(f"{'PASS' if r.passed else 'FAIL'}  {r.name}  ({r.seconds * 1000:.0f} ms)")
        if not r.passed:
            print(f"      {r.detail}")
            if r.transcript:
                print(r.transcript)
    failed = sum(not r.passed and r.ran for r in results)
    skipped = sum(not r.ran for r in results)
    print(
        f"{args.kind} at {args.url}: {len(results) - failed - skipped} passed, {failed} failed"
        + (f", {skipped} not run (the device did not answer as a {args.kind})" if skipped else "")
    )
    return 1 if failed else 0
