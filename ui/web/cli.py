"""``hallkit web`` (the staff web console) and ``hallkit staff passwd`` (a staff member's password)."""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import threading
from pathlib import Path

from hall_bus.cli.common import add_host_options, config_of, fail
from hall_bus.cli.main import CommandLine
from hall_bus.features.evaluation.settings import load as staff_settings
from ui.web import i18n
from ui.web.accounts import AccountError, Accounts
from ui.web.settings import web_settings


def register(cli: CommandLine) -> None:
    p = cli.command(
        ("web",),
        help="serve the staff web console ([web] of hall.toml; docs/web.md)",
        handler=web_command,
        description="The hall managers' and clerks' console in a browser: live hall, tidal windows, devices and "
        "alerts, 好差评 reports and follow-up, 24-hour pickup, audit log, the clerk's window desk and the window "
        "tablet. A bus client of its own (client id web).",
    )
    add_host_options(p)
    p.add_argument("--listen", default=None, help="address to serve on (default: [web] host)")
    p.add_argument("--http-port", type=int, default=None, help="port to serve on (default: [web] port)")

    cli.describe(("staff",), "staff accounts of the web console")
    p = cli.command(
        ("staff", "passwd"),
        help="set a staff member's web console password (stored as an argon2 hash)",
        handler=passwd_command,
    )
    p.add_argument("staff_no", help="the staff_no of a [[staff]] entry of hall.toml")
    p.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    p.add_argument(
        "--password-env",
        default=None,
        help="read the password from this environment variable instead of asking (for scripts)",
    )


def web_command(args: argparse.Namespace) -> int:
    from ui.web.server import WebServer

    config = config_of(args)
    server = WebServer(config, args.host, args.port, host=args.listen, port=args.http_port).start()
    print(f"web console: {server.url} (Ctrl-C stops)", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


def passwd_command(args: argparse.Namespace) -> int:
    config = config_of(args)
    if args.password_env:
        password = os.environ.get(args.password_env, "")
    else:
        password = getpass.getpass(f"new password for {args.staff_no}: ")
        if password != getpass.getpass("again: "):
            return fail("the two passwords differ; nothing changed", command="staff passwd")
    accounts = Accounts(Path(config.data_dir), staff_settings(config).staff, web_settings(config))
    try:
        accounts.set_password(args.staff_no, password)
    except AccountError as exc:
        return fail(i18n.error_sentence(exc.code, "en"), command="staff passwd")
    finally:
        accounts.close()
    print(f"password of {args.staff_no} set")
    return 0
