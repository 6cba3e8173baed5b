"""``hallkit locker-host``: run a bank of pickup lockers on the hall bus (commands from the controller only)."""

from __future__ import annotations

import argparse

from hall_bus.cli.common import add_host_options, add_station_option, config_of, fail, serve_until_stopped, station_id
from hall_bus.cli.main import CommandLine
from hall_bus.hosts.locker_host import run as start


def register(cli: CommandLine) -> None:
    p = cli.command(
        ("locker-host",), help="run a pickup locker bank (lock boards on RS485) on the hall bus", handler=run
    )
    add_host_options(p)
    add_station_option(p)
    p.add_argument(
        "--device", default=None, help="the [[devices]] id of the locker bank, e.g. lockers-a (with --station: its id)"
    )
    p.add_argument("--client-id", default=None, help="bus client id (default: the device id, e.g. lockers-a)")


def run(args: argparse.Namespace) -> int:
    own = station_id(args)
    device = args.device or own
    if device is None:
        return fail("--device is required (or --station of the locker bank's host)")
    config = config_of(args)
    try:
        host = start(config, device, args.host, args.port, args.client_id or own)
    except (KeyError, ValueError, RuntimeError) as exc:  # RuntimeError: no bus credentials for the client
        return fail(str(exc).strip('"'))
    dev = host.device
    banner = f"locker host {device}: boards {dev.boards} ({dev.state.value}) as bus client {host.bus.client_id}"
    return serve_until_stopped(host, banner)
