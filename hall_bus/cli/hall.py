"""``hallkit controller``, ``ticket``, ``window``, ``windows``, ``queue``, ``audit`` and ``bus`` commands."""

from __future__ import annotations

import argparse
import datetime as dt
import uuid

from hall_bus.cli.common import add_bus_options, call, fail, load_config, print_json

WINDOW_OPS = {
    "call": ("window.call", "call the next ticket (finishes the one at the window)"),
    "recall": ("window.recall", "call the current ticket again"),
    "start": ("window.start", "the called citizen arrived: service starts"),
    "finish": ("window.finish", "service finished"),
    "no-show": ("window.no_show", "the called citizen did not come"),
    "pause": ("window.pause", "stop calling to this window"),
    "resume": ("window.resume", "resume calling"),
}


def register(cli) -> None:
    p = cli.command(
        ("controller",),
        help="run the hall controller (and the broker hall.toml asks for)",
        handler=run_controller,
        description="Run the hall controller: the queue engine served over the hall bus. With [bus] broker = "
        '"embedded" or "mosquitto" it also starts that broker.',
    )
    p.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument(
        "--broker",
        choices=("embedded", "mosquitto", "external"),
        default=None,
        help="override [bus] broker of hall.toml",
    )

    cli.describe(("ticket",), "queue tickets (取号)")
    p = cli.command(("ticket", "issue"), help="issue a ticket for a service", handler=ticket_issue)
    p.add_argument("service", help="service id from hall.toml, e.g. shebao-card")
    p.add_argument("--priority", choices=("normal", "elderly", "disabled", "pregnant", "military"), default="normal")
    p.add_argument("--age", type=int, default=None, help="age in years (the elderly green channel needs 60+)")
    p.add_argument("--appointment", default=None, help="appointment code to check in")
    p.add_argument("--key", default=None, help="idempotency key (default: a new one); repeat it to retry safely")
    add_bus_options(p)
    p = cli.command(("ticket", "get"), help="where a ticket stands", handler=ticket_get)
    p.add_argument("code", help="ticket code, e.g. A001")
    p.add_argument("--day", default=None, help="YYYY-MM-DD (default today)")
    add_bus_options(p)

    cli.describe(("window",), "window operations (窗口叫号)")
    for name, (op, help_text) in WINDOW_OPS.items():
        p = cli.command(("window", name), help=help_text, handler=lambda a, op=op: window_op(a, op))
        p.add_argument("window", type=int, help="window number")
        p.add_argument("--staff", default=None, help="staff number of the clerk (for the audit log)")
        if name == "pause":
            p.add_argument("--reason", default="", help="why (e.g. lunch)")
        add_bus_options(p)
    p = cli.command(
        ("window", "transfer"), help="send the current ticket to another domain or window", handler=window_transfer
    )
    p.add_argument("window", type=int)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--to-domain", default=None)
    target.add_argument("--to-window", type=int, default=None)
    p.add_argument("--staff", default=None)
    add_bus_options(p)

    cli.describe(("windows",), "all windows (manager)")
    p = cli.command(("windows", "list"), help="windows with their domains, state and queue", handler=windows_list)
    add_bus_options(p)
    p = cli.command(
        ("windows", "assign"),
        help="reassign a window's domains (takes effect when its current ticket ends)",
        handler=windows_assign,
    )
    p.add_argument("window", type=int)
    p.add_argument("domains", nargs="+", help="domain ids, e.g. shebao yibao")
    p.add_argument("--actor", default="manager", help="who makes the change (audited)")
    p.add_argument("--reason", default="", help="why (audited)")
    add_bus_options(p)

    p = cli.command(("queue",), help="waiting counts and estimated waits per domain", handler=queue_snapshot)
    add_bus_options(p)
    p = cli.command(("audit",), help="recent audit records", handler=audit_list)
    p.add_argument("--limit", type=int, default=20)
    add_bus_options(p)

    cli.describe(("bus",), "hall bus administration")
    p = cli.command(
        ("bus", "credentials"),
        help="write mosquitto passwords and ACL for every bus client of the hall",
        handler=bus_credentials,
    )
    p.add_argument("--config", default=None)
    p.add_argument("--out", required=True, help="directory for passwd, acl and <client>.password files")
    p.add_argument("--rotate", action="store_true", help="new passwords for every client")


# ---------------------------------------------------------------------------------------------
def run_controller(args: argparse.Namespace) -> int:
    from hall_bus.bus.brokers import EmbeddedBroker, Mosquitto
    from hall_bus.config import ConfigError
    from hall_bus.controller.service import run_controller as start

    try:
        config = load_config(args)
    except ConfigError as exc:
        return fail(str(exc))
    host, port = args.host or config.bus.host, args.port or config.bus.port
    kind = args.broker or config.bus.broker
    broker = None
    if kind == "embedded":
        broker = EmbeddedBroker(port=port, host=host).start()
    elif kind == "mosquitto":
        extra = ""
        if config.bus.credentials_dir:
            from hall_bus.bus.credentials import mosquitto_conf

            extra = mosquitto_conf(config.bus.credentials_dir)
        broker = Mosquitto(port=port, host=host, extra_conf=extra, allow_anonymous=not extra).start()
    controller = start(config, host, port)
    print(
        f"hall controller for {config.hall_id} ({config.name}) on {host}:{port}"
        f"{f' with {kind} broker' if broker else ''}; Ctrl-C stops",
        flush=True,
    )
    from hall_bus.cli.common import wait_until_stopped

    wait_until_stopped()
    controller.stop()
    if broker is not None:
        broker.stop()
    return 0


def _ticket_line(out: dict) -> str:
    t = out["ticket"]
    wait = out.get("estimated_wait_min")
    eta = f", about {wait:.0f} min" if wait is not None else ""
    return f"{t['code']}  {t['service']}  {t['state']}  ({out['waiting_ahead']} ahead{eta})"


def ticket_issue(args: argparse.Namespace) -> int:
    data = {
        "service": args.service,
        "idempotency_key": args.key or f"cli-{uuid.uuid4().hex[:16]}",
        "priority": args.priority,
        "channel": "cli",
    }
    if args.age is not None:
        data["age_years"] = args.age
    if args.appointment:
        data["appointment"] = args.appointment
    out = call(args, "ticket.issue", data)
    if args.json:
        print_json(out)
    else:
        print(("issued " if out["created"] else "already issued ") + _ticket_line(out))
    return 0


def ticket_get(args: argparse.Namespace) -> int:
    data = {"code": args.code} | ({"day": args.day} if args.day else {})
    out = call(args, "ticket.get", data)
    print_json(out) if args.json else print(_ticket_line(out))
    return 0


def window_op(args: argparse.Namespace, op: str) -> int:
    data = {"window": args.window}
    if args.staff:
        data["staff"] = args.staff
    if op == "window.pause" and args.reason:
        data["reason"] = args.reason
    out = call(args, op, data, client_id="manager")
    if args.json:
        print_json(out)
    elif "call" in out and out.get("call"):
        print(out["call"]["announcement"])
    elif "ticket" in out and out["ticket"] is None:
        print(f"window {args.window}: nobody is waiting")
    elif "ticket" in out:
        print(f"window {args.window}: {out['ticket']['code']} {out['ticket']['state']}")
    else:
        w = out["window"]
        print(f"window {w['number']}: {w['state']}")
    return 0


def window_transfer(args: argparse.Namespace) -> int:
    data = {"window": args.window} | (
        {"to_domain": args.to_domain} if args.to_domain else {"to_window": args.to_window}
    )
    if args.staff:
        data["staff"] = args.staff
    out = call(args, "window.transfer", data)
    t = out["ticket"]
    print_json(out) if args.json else print(f"{t['code']} now waits for {args.to_domain or f'window {args.to_window}'}")
    return 0


def windows_list(args: argparse.Namespace) -> int:
    out = call(args, "windows.list", {})
    if args.json:
        print_json(out)
        return 0
    print(f"{'window':<8}{'state':<10}{'current':<9}{'waiting':<9}domains")
    for w in out["windows"]:
        current = w["current"]["code"] if w.get("current") else "-"
        pending = f"  (next: {' '.join(w['pending_domains'])})" if w.get("pending_domains") else ""
        print(f"{w['number']:<8}{w['state']:<10}{current:<9}{w.get('waiting', 0):<9}{' '.join(w['domains'])}{pending}")
    return 0


def windows_assign(args: argparse.Namespace) -> int:
    out = call(
        args,
        "window.assign",
        {"window": args.window, "domains": args.domains, "actor": args.actor, "reason": args.reason},
    )
    if args.json:
        print_json(out)
    elif out["applied_now"]:
        print(f"window {args.window} now serves {' '.join(out['window']['domains'])}")
    else:
        print(f"window {args.window} will serve {' '.join(args.domains)} when its current ticket ends")
    return 0


def queue_snapshot(args: argparse.Namespace) -> int:
    out = call(args, "queue.snapshot", {})
    if args.json:
        print_json(out)
        return 0
    print(f"{'domain':<14}{'waiting':<9}estimated wait")
    for d in out["domains"]:
        wait = d.get("estimated_wait_min")
        print(f"{d['domain']:<14}{d['waiting']:<9}{'-' if wait is None else f'{wait:.0f} min'}")
    return 0


def audit_list(args: argparse.Namespace) -> int:
    out = call(args, "audit.list", {"limit": args.limit})
    if args.json:
        print_json(out)
        return 0
    for e in out["entries"]:
        when = dt.datetime.fromtimestamp(e["at"]).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{when}  {e['actor']:<24} {e['action']:<24} {e['target']}  {e['detail']}")
    return 0


def bus_credentials(args: argparse.Namespace) -> int:
    from hall_bus.bus.credentials import clients_of, write_credentials
    from hall_bus.config import ConfigError

    try:
        config = load_config(args)
    except ConfigError as exc:
        return fail(str(exc))
    out = write_credentials(config, args.out, rotate=args.rotate)
    print(
        f"wrote {out}/passwd, {out}/acl and a password file per client: "
        + ", ".join(r.client_id for r in clients_of(config))
    )
    print(f'mosquitto.conf: include the lines of {out}/mosquitto-auth.conf; hall.toml: [bus] credentials_dir = "{out}"')
    return 0
