"""``hallkit locker-host``: run a bank of pickup lockers on the hall bus (commands from the controller only)."""

from __future__ import annotations

import signal
import threading


def register(cli) -> None:
    p = cli.command(
        ("locker-host",), help="run a pickup locker bank (lock boards on RS485) on the hall bus", handler=run
    )
    p.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    p.add_argument("--device", required=True, help="the [[devices]] id of the locker bank, e.g. lockers-a")
    p.add_argument("--client-id", default=None, help="bus client id (default: the device id, e.g. lockers-a)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)


def run(args) -> int:
    from hall_bus.cli.common import fail, load_config
    from hall_bus.config import ConfigError
    from hall_bus.hosts.locker_host import run as start

    try:
        config = load_config(args)
        host = start(config, args.device, args.host, args.port, args.client_id)
    except (ConfigError, KeyError, ValueError, RuntimeError) as exc:  # RuntimeError: no bus credentials for the client
        return fail(str(exc).strip('"'))
    dev = host.device
    print(
        f"locker host {args.device}: boards {getattr(dev, 'boards', [])} ({dev.state.value}) as bus client "
        f"{host.bus.client_id}; Ctrl-C stops",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    host.stop()
    host.bus.stop()
    return 0
