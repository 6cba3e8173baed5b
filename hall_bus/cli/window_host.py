"""``hallkit window-host``: run a window's caller keypad, LED display and evaluation pad on the bus."""

from __future__ import annotations


def register(cli) -> None:
    p = cli.command(
        ("window-host",), help="run a window terminal's devices (caller, display, pad) on the hall bus", handler=run
    )
    p.add_argument("--config", default=None)
    p.add_argument("--window", type=int, required=True)
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)


def run(args) -> int:
    from hall_bus.cli.common import fail, load_config
    from hall_bus.config import ConfigError
    from hall_bus.hosts.window_host import run as start

    try:
        config = load_config(args)
        config.window(args.window)
    except (ConfigError, KeyError) as exc:
        return fail(str(exc))
    host = start(config, args.window, args.host, args.port)
    kinds = ", ".join(f"{k} {d.id} ({d.state.value})" for k, d in host.devices.items()) or "no devices"
    print(f"window {args.window}: {kinds}; Ctrl-C stops", flush=True)
    from hall_bus.cli.common import wait_until_stopped

    wait_until_stopped()
    host.stop()
    host.bus.stop()
    return 0
