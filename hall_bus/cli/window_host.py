"""``hallkit window-host``: run a window's caller keypad, LED display and evaluation pad on the bus."""

from __future__ import annotations

import argparse
import re

from hall_bus.cli.common import add_host_options, add_station_option, config_of, fail, serve_until_stopped, station_id
from hall_bus.cli.main import CommandLine
from hall_bus.hosts.window_host import run as start


def register(cli: CommandLine) -> None:
    p = cli.command(
        ("window-host",),
        help="run a window terminal's devices (caller, display, pad, receipt printer) on the hall bus",
        handler=run,
    )
    add_host_options(p)
    add_station_option(p)
    p.add_argument(
        "--window", type=int, default=None, help="the window number (with --station: from its id window-<n>)"
    )


def run(args: argparse.Namespace) -> int:
    window = args.window
    if window is None:
        own = re.fullmatch(r"window-(\d+)", station_id(args) or "")
        if own is None:
            return fail("--window is required (or --station of a window PC, whose id is window-<n>)")
        window = int(own.group(1))
    config = config_of(args)
    try:
        config.window(window)
    except KeyError as exc:
        return fail(f"no window {exc} in the hall")
    host = start(config, window, args.host, args.port)
    devices = {**host.devices, **({"printer": host.printer} if host.printer else {})}
    kinds = ", ".join(f"{k} {d.id} ({d.state.value})" for k, d in devices.items()) or "no devices"
    return serve_until_stopped(host, f"window {window}: {kinds}")
