"""``hallkit window-host``: run a window's caller keypad, LED display and evaluation pad on the bus."""

from __future__ import annotations

import argparse

from hall_bus.cli.common import add_host_options, config_of, fail, serve_until_stopped
from hall_bus.cli.main import CommandLine
from hall_bus.hosts.window_host import run as start


def register(cli: CommandLine) -> None:
    p = cli.command(
        ("window-host",), help="run a window terminal's devices (caller, display, pad) on the hall bus", handler=run
    )
    add_host_options(p)
    p.add_argument("--window", type=int, required=True, help="the window number")


def run(args: argparse.Namespace) -> int:
    config = config_of(args)
    try:
        config.window(args.window)
    except KeyError as exc:
        return fail(str(exc))
    host = start(config, args.window, args.host, args.port)
    kinds = ", ".join(f"{k} {d.id} ({d.state.value})" for k, d in host.devices.items()) or "no devices"
    return serve_until_stopped(host, f"window {args.window}: {kinds}")
