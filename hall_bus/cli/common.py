"""Shared pieces of the ``hallkit`` commands: --config/--station/--host/--port options, a bus client and its
requests, the ``--json`` or text answer, one-line failures, device hosts run until stopped, and
devices opened for one technician command."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel

from devices.base import Device, DeviceError
from hall_bus import config as hallconfig
from hall_bus.bus import endpoint
from hall_bus.bus.client import BusClient, BusTimeout, RequestFailed
from hall_bus.bus.connect import bus_settings
from hall_bus.bus.credentials import CredentialsError
from hall_bus.cli.main import CommandLine, Handler
from hall_bus.config import ConfigError, HallConfig
from hall_bus.contracts.queue import HallInfo
from hall_bus.hosts.host import DeviceHost
from hall_bus.ops.station import StationError, fetch_layout, read_station, station_config, station_file

D = TypeVar("D", bound=Device)
M = TypeVar("M", bound=BaseModel)


# ---------------------------------------------------------------------- options and config
def add_bus_options(parser: argparse.ArgumentParser) -> None:
    """The options of a command that asks the controller: those of :func:`add_host_options`, --timeout, --json."""
    add_host_options(parser)
    add_station_option(parser)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the controller (default 5)")
    parser.add_argument("--json", action="store_true", help="print the raw response data as JSON")


def add_host_options(parser: argparse.ArgumentParser) -> None:
    """--config, --host and --port of a long-running process on the bus (controller, device host)."""
    parser.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    parser.add_argument("--host", default=None, help="broker host (default: [bus] host of hall.toml)")
    parser.add_argument("--port", type=int, default=None, help="broker port (default: [bus] port of hall.toml)")


def add_station_option(parser: argparse.ArgumentParser) -> None:
    """--station DIR: run as a station configured by its own small file (hall_bus/ops/station.py)."""
    parser.add_argument(
        "--station",
        default=None,
        metavar="DIR",
        help="a station's directory (station.toml, the hall CA, its own password) instead of --config: "
        "the hall's layout comes from the controller, the bus login is the station's (docs/deploy.md)",
    )


def bus_command(
    cli: CommandLine,
    path: tuple[str, ...],
    help: str,
    handler: Handler,
    actor: str | None = None,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A command that talks to the controller: the bus options, and ``--actor`` (audited) when it
    has a default ``actor``; returns the parser for the command's own arguments."""
    p = cli.command(path, help=help, handler=handler, description=description)
    if actor is not None:
        p.add_argument("--actor", default=actor, help=f"who does it (audited; default {actor})")
    add_bus_options(p)
    return p


def load_config(args: argparse.Namespace) -> HallConfig:
    return hallconfig.load(args.config or hallconfig.default_path())


def config_of(args: argparse.Namespace) -> HallConfig:
    """The hall.toml of ``--config``, or with ``--station`` the station's file and the layout the
    controller publishes; SystemExit with one line if it cannot be read."""
    try:
        if getattr(args, "station", None):
            if args.config:
                raise SystemExit(fail("give --config (hall.toml) or --station (a station's directory), not both"))
            return station_config(read_station(station_file(args.station)), layout_of(args))
        return load_config(args)
    except ConfigError as exc:
        raise SystemExit(fail(str(exc))) from None


def layout_of(args: argparse.Namespace) -> HallInfo:
    """The hall's layout for ``--station``: a request command waits its --timeout, a long-running one
    (no --timeout) until the controller publishes it, saying so on stderr while it waits."""
    station = read_station(station_file(args.station))
    timeout = getattr(args, "timeout", None)
    try:
        return fetch_layout(station, timeout, waiting=lambda why: print(f"hallkit: {why}", file=sys.stderr, flush=True))
    except (StationError, CredentialsError, OSError) as exc:
        raise SystemExit(fail(str(exc), 1)) from None


def station_id(args: argparse.Namespace) -> str | None:
    """The bus client id of ``--station`` (None without it): a station logs in as itself."""
    station = getattr(args, "station", None)
    return read_station(station_file(station)).station.id if station else None


# ---------------------------------------------------------------------- output
def fail(message: str, rc: int = 2, command: str = "") -> int:
    """Print ``hallkit[ command]: message`` on stderr and return ``rc``."""
    print(f"hallkit{' ' + command if command else ''}: {message}", file=sys.stderr)
    return rc


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))


def plain(model: BaseModel) -> dict[str, Any]:
    """A response model as the plain data that came on the wire (what ``--json`` prints)."""
    return model.model_dump(mode="json", exclude_unset=True)


def given(**fields: Any) -> dict[str, Any]:
    """The optional request fields that were given (``None`` and ``""`` left out, so they stay absent)."""
    return {k: v for k, v in fields.items() if v is not None and v != ""}


def answer(args: argparse.Namespace, out: M, text: Callable[[M], object]) -> int:
    """Show a response: its plain data with ``--json``, else ``text(out)``; exit code 0."""
    if args.json:
        print_json(plain(out))
    else:
        text(out)
    return 0


@contextmanager
def reporting(command: str, errors: tuple[type[Exception], ...] = (DeviceError,), rc: int = 1) -> Iterator[None]:
    """Turn ``errors`` raised in the block into one line ``hallkit <command>: ...`` and exit code ``rc``."""
    try:
        yield
    except errors as exc:
        raise SystemExit(fail(str(exc), rc, command)) from None


# ---------------------------------------------------------------------- the bus
@contextmanager
def bus_client(args: argparse.Namespace, client_id: str = "manager") -> Iterator[BusClient]:
    """A started bus client for a CLI command; raises SystemExit with a clear line if the broker is unreachable.
    With --station it logs in as the station (its own password), whatever ``client_id`` says. Without --host/--port, a running ``hallkit demo`` of the same hall.toml is found by the endpoint file it
    wrote (``hall_bus.bus.endpoint``); else the broker is the one hall.toml's ``[bus]`` names."""
    config = config_of(args)
    client_id = station_id(args) or client_id
    host, port = args.host, args.port
    local = host is None and port is None and not getattr(args, "station", None)
    demo = endpoint.find(config.data_dir, config.hall_id) if local else None
    if demo is not None:  # a running `hallkit demo` of this hall.toml: its broker is where it wrote
        host, port = demo.host, demo.port
    settings = bus_settings(config, client_id, host, port)
    client = BusClient(config.hall_id, client_id, settings).start()
    try:
        if not client.wait_connected(min(args.timeout, 5.0)):
            raise SystemExit(
                fail(
                    f"cannot reach the hall bus at {settings.host}:{settings.port} "
                    f"({client.last_error or 'no answer'}); is `hallkit controller` or `hallkit demo` running?"
                )
            )
        yield client
    finally:
        client.stop()


def request(client: BusClient, args: argparse.Namespace, op: str, request: BaseModel, reply: type[M]) -> M:
    """One typed request on an open client: ``request`` is the op's request model, the answer comes back
    as ``reply`` (its response model), or SystemExit with the controller's error."""
    try:
        return client.call(op, request, reply, timeout=args.timeout)
    except RequestFailed as exc:
        raise SystemExit(fail(f"refused: {exc}", 1)) from None
    except BusTimeout:
        raise SystemExit(fail(f"{op}: no answer from the controller within {args.timeout:g} s", 3)) from None


def call(args: argparse.Namespace, op: str, request_: BaseModel, reply: type[M], client_id: str = "manager") -> M:
    """One typed request on a client of its own (see :func:`request`); SystemExit with the controller's error."""
    with bus_client(args, client_id) as client:
        return request(client, args, op, request_, reply)


# ---------------------------------------------------------------------- long-running commands and devices
def wait_until_stopped() -> None:
    """Block a long-running command (controller, simulator, device host) until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass


def serve_until_stopped(host: DeviceHost, banner: str) -> int:
    """Print ``banner``, run the started ``host`` until Ctrl-C or SIGTERM, then stop it and its bus client."""
    print(f"{banner}; Ctrl-C stops", flush=True)
    wait_until_stopped()
    host.stop()
    host.bus.stop()
    return 0


@contextmanager
def opened(device: D) -> Iterator[D]:
    """``device`` opened for one command and closed after it (also when opening failed)."""
    try:
        device.open()
        yield device
    finally:
        device.close()
