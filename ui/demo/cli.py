"""``hallkit demo``: the whole demo hall in one command."""

from __future__ import annotations

import argparse
from typing import Any

from ui.cli import add_window_options, window_of


def register(cli: Any) -> None:
    p = cli.command(
        ("demo",),
        help="run the demo hall: broker, controller, device simulators, arrivals and the kiosk UI",
        handler=_run,
        description="Run the demo hall: embedded broker, hall controller, device simulators, "
        "a generated stream of citizens and clerks, and the kiosk UI (or --headless for a fixed time).",
    )
    p.add_argument("--headless", action="store_true", help="no screen: run for --duration seconds and print a summary")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of a headless run (default 30)")
    p.add_argument("--config", default=None, help="hall.toml (default: the demo hall's)")
    p.add_argument(
        "--broker",
        choices=("embedded", "mosquitto"),
        default="embedded",
        help="embedded (amqtt, zero install; default) or mosquitto",
    )
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help="broker port (default: a free one; hallkit commands with the same hall.toml find it)",
    )
    p.add_argument(
        "--speed", type=float, default=60.0, help="hall time per real time (default 60: a minute per second)"
    )
    p.add_argument(
        "--arrivals",
        type=float,
        default=None,
        help="citizens per hall minute at the peak (default: what the windows keep up with)",
    )
    p.add_argument(
        "--staff",
        choices=("window", "tabs", "none"),
        default="window",
        help="the staff screens (hall display, window terminal, manager): in a second window (default), "
        "as tabs beside the kiosk, or not at all; the kiosk window itself shows citizen screens only",
    )
    add_window_options(p)
    p.add_argument(
        "--web-port", type=int, default=None, help="port of the staff web console (default 8080 when free, else any)"
    )
    p.add_argument("--seed", type=int, default=None, help="random seed for a repeatable run")
    p.add_argument("--verbose-calls", action="store_true", help="print every ticket and call also while the UI runs")


def _run(args: argparse.Namespace) -> int:
    from ui.demo.hall import run

    if not args.headless:
        args.size = window_of(args)  # a bad --size is told before the hall starts
    return run(args)
