"""Shared pieces of the bus-talking ``hallkit`` commands: --config/--host/--port options and a client."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hall_bus import config as hallconfig
from hall_bus.config import ConfigError, HallConfig


def add_bus_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    parser.add_argument("--host", default=None, help="broker host (default: [bus] host of hall.toml)")
    parser.add_argument("--port", type=int, default=None, help="broker port (default: [bus] port of hall.toml)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the controller (default 5)")
    parser.add_argument("--json", action="store_true", help="print the raw response data as JSON")


def load_config(args: argparse.Namespace) -> HallConfig:
    return hallconfig.load(args.config or hallconfig.default_path())


def fail(message: str, rc: int = 2) -> int:
    print(f"hallkit: {message}", file=sys.stderr)
    return rc


@contextmanager
def bus_client(args: argparse.Namespace, client_id: str = "manager") -> Iterator[Any]:
    """A started bus client for a CLI command; raises SystemExit with a clear line if the broker is unreachable."""
    from hall_bus.bus.client import BusClient
    from hall_bus.bus.connect import bus_settings

    try:
        config = load_config(args)
    except ConfigError as exc:
        raise SystemExit(fail(str(exc))) from None
    settings = bus_settings(config, client_id, args.host, args.port)
    client = BusClient(config.hall_id, client_id, settings).start()
    try:
        if not client.wait_connected(min(args.timeout, 5.0)):
            raise SystemExit(
                fail(
                    f"cannot reach the hall bus at {settings.host}:{settings.port} "
                    f"({client.last_error or 'no answer'}); is `hallkit controller` running?"
                )
            )
        yield client
    finally:
        client.stop()


def call(args: argparse.Namespace, op: str, data: dict, client_id: str = "manager") -> Any:
    """Send one request and return its data, or raise SystemExit with the controller's error."""
    from hall_bus.bus.client import BusTimeout, RequestFailed

    with bus_client(args, client_id) as client:
        try:
            return client.request(op, data, timeout=args.timeout)
        except RequestFailed as exc:
            raise SystemExit(fail(f"refused: {exc}", 1)) from None
        except BusTimeout:
            raise SystemExit(fail(f"{op}: no answer from the controller within {args.timeout:g} s", 3)) from None


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))


def wait_until_stopped() -> None:
    """Block a long-running command (controller, simulator, device host) until Ctrl-C or SIGTERM."""
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
