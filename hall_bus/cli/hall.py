"""``hallkit controller``, ``ticket``, ``window``, ``windows``, ``queue``, ``audit`` and ``bus`` commands."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hall_bus.bus import tls
from hall_bus.bus.brokers import EmbeddedBroker, Mosquitto
from hall_bus.bus.credentials import CONF_FILE, clients_of, mosquitto_conf, write_credentials
from hall_bus.cli.common import (
    add_host_options,
    answer,
    bus_command,
    call,
    config_of,
    fail,
    given,
    plain,
    wait_until_stopped,
)
from hall_bus.cli.main import CommandLine
from hall_bus.contracts import registry
from hall_bus.contracts.base import Empty
from hall_bus.contracts.queue import (
    AuditEntries,
    AuditList,
    QueueSnapshot,
    TicketGet,
    TicketIssue,
    TicketIssued,
    TicketStatus,
    WindowAssign,
    WindowAssigned,
    WindowCalled,
    WindowList,
    WindowOne,
    WindowPause,
    WindowRecalled,
    WindowRequest,
    WindowTicket,
    WindowTransfer,
)
from hall_bus.controller.service import run_controller as start_controller
from hall_bus.ops.server import MonitoringError, start_monitoring

WINDOW_OPS = {
    "call": ("window.call", "call the next ticket (finishes the one at the window)"),
    "recall": ("window.recall", "call the current ticket again"),
    "start": ("window.start", "the called citizen arrived: service starts"),
    "finish": ("window.finish", "service finished"),
    "no-show": ("window.no_show", "the called citizen did not come"),
    "pause": ("window.pause", "stop calling to this window"),
    "resume": ("window.resume", "resume calling"),
}


# What the text output reads of the free-form parts of the answers (``Anything`` in the contracts).
class Announcement(BaseModel):
    announcement: str


class CurrentTicket(BaseModel):
    code: str


class WindowExtra(BaseModel):
    current: CurrentTicket | None = None
    pending_domains: list[str] | None = None
    waiting: int = 0


class DomainWait(BaseModel):
    domain: str
    waiting: int
    estimated_wait_min: float | None = None


class AuditLine(BaseModel):
    at: float
    actor: str
    action: str
    target: str | None
    detail: Any


def register(cli: CommandLine) -> None:
    p = cli.command(
        ("controller",),
        help="run the hall controller (and the broker hall.toml asks for)",
        handler=run_controller,
        description="Run the hall controller: the queue engine served over the hall bus. With [bus] broker = "
        '"embedded" or "mosquitto" it also starts that broker.',
    )
    add_host_options(p)
    p.add_argument(
        "--broker",
        choices=("embedded", "mosquitto", "external"),
        default=None,
        help="override [bus] broker of hall.toml",
    )

    cli.describe(("ticket",), "queue tickets (取号)")
    p = bus_command(cli, ("ticket", "issue"), "issue a ticket for a service", ticket_issue)
    p.add_argument("service", help="service id from hall.toml, e.g. shebao-card")
    p.add_argument("--priority", choices=("normal", "elderly", "disabled", "pregnant", "military"), default="normal")
    p.add_argument("--age", type=int, default=None, help="age in years (the elderly green channel needs 60+)")
    p.add_argument("--appointment", default=None, help="appointment code to check in")
    p.add_argument("--key", default=None, help="idempotency key (default: a new one); repeat it to retry safely")
    p = bus_command(cli, ("ticket", "get"), "where a ticket stands", ticket_get)
    p.add_argument("code", help="ticket code, e.g. A001")
    p.add_argument("--day", default=None, help="YYYY-MM-DD (default today)")

    cli.describe(("window",), "window operations (窗口叫号)")
    for name, (op, help_text) in WINDOW_OPS.items():
        p = bus_command(cli, ("window", name), help_text, functools.partial(window_op, op=op))
        p.add_argument("window", type=int, help="window number")
        p.add_argument("--staff", default=None, help="staff number of the clerk (for the audit log)")
        if name == "pause":
            p.add_argument("--reason", default="", help="why (e.g. lunch)")
    p = bus_command(cli, ("window", "transfer"), "send the current ticket to another domain or window", window_transfer)
    p.add_argument("window", type=int)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--to-domain", default=None)
    target.add_argument("--to-window", type=int, default=None)
    p.add_argument("--staff", default=None)

    cli.describe(("windows",), "all windows (manager)")
    bus_command(cli, ("windows", "list"), "windows with their domains, state and queue", windows_list)
    help_text = "reassign a window's domains (takes effect when its current ticket ends)"
    p = bus_command(cli, ("windows", "assign"), help_text, windows_assign, actor="manager")
    p.add_argument("window", type=int)
    p.add_argument("domains", nargs="+", help="domain ids, e.g. shebao yibao")
    p.add_argument("--reason", default="", help="why (audited)")

    bus_command(cli, ("queue",), "waiting counts and estimated waits per domain", queue_snapshot)
    p = bus_command(cli, ("audit",), "recent audit records", audit_list)
    p.add_argument("--limit", type=int, default=20)

    cli.describe(("bus",), "hall bus administration")
    p = cli.command(
        ("bus", "credentials"),
        help="write passwords, the ACL (from the roles table), the hall CA and TLS certificates for the bus",
        handler=bus_credentials,
    )
    p.add_argument("--config", default=None)
    p.add_argument("--out", required=True, help="directory for passwd, acl and <client>.password files")
    p.add_argument("--rotate", action="store_true", help="new passwords for every client")


# ---------------------------------------------------------------------------------------------
def run_controller(args: argparse.Namespace) -> int:
    config = config_of(args)
    host, port = args.host or config.bus.host, args.port or config.bus.port
    kind = args.broker or config.bus.broker
    broker: EmbeddedBroker | Mosquitto | None = None
    if kind == "embedded":
        broker = EmbeddedBroker(port=port, host=host).start()
    elif kind == "mosquitto":
        extra = mosquitto_conf(config.bus.credentials_dir) if config.bus.credentials_dir else ""
        tls_dir = (config.bus.credentials_dir or str(Path(config.bus.ca_file).parent)) if config.bus.tls else None
        broker = Mosquitto(
            port=port,
            host=host,
            extra_conf=extra,
            allow_anonymous=not extra,
            tls_dir=tls_dir,
            client_certs=config.bus.client_certs,
        ).start()
    controller = start_controller(config, host, port)
    try:
        monitoring = start_monitoring(controller, config)
    except MonitoringError as exc:
        controller.stop()
        if broker is not None:
            broker.stop()
        return fail(str(exc), command="controller")
    print(
        f"hall controller for {config.hall_id} ({config.name}) on {host}:{port}"
        f"{f' with {kind} broker' if broker else ''}; Ctrl-C stops",
        flush=True,
    )
    if monitoring.running:
        print(f"metrics and health: {monitoring.url}", flush=True)
    wait_until_stopped()
    monitoring.stop()
    controller.stop()
    if broker is not None:
        broker.stop()
    return 0


def _ticket_line(out: TicketIssued | TicketStatus) -> str:
    t = out.ticket
    wait = out.estimated_wait_min
    eta = f", about {wait:.0f} min" if wait is not None else ""
    return f"{t.code}  {t.service}  {t.state}  ({out.waiting_ahead} ahead{eta})"


def ticket_issue(args: argparse.Namespace) -> int:
    req = TicketIssue(
        service=args.service,
        idempotency_key=args.key or f"cli-{uuid.uuid4().hex[:16]}",
        priority=args.priority,
        channel="cli",
        **given(age_years=args.age, appointment=args.appointment),
    )
    out = call(args, "ticket.issue", req, TicketIssued)
    return answer(args, out, lambda o: print(("issued " if o.created else "already issued ") + _ticket_line(o)))


def ticket_get(args: argparse.Namespace) -> int:
    req = TicketGet(code=args.code, **given(day=args.day))
    return answer(args, call(args, "ticket.get", req, TicketStatus), lambda o: print(_ticket_line(o)))


WindowAnswer = WindowCalled | WindowRecalled | WindowTicket | WindowOne


def window_op(args: argparse.Namespace, op: str) -> int:
    contract = registry().requests[op]
    reply: type[WindowAnswer] = contract.response  # type: ignore[assignment]  # the window ops' contracts
    fields = given(staff=args.staff)
    req = WindowPause(window=args.window, **fields, **given(reason=args.reason)) if op == "window.pause" else None
    out = call(args, op, req or WindowRequest(window=args.window, **fields), reply)
    return answer(args, out, functools.partial(_print_window_op, args.window))


def _print_window_op(window: int, out: WindowAnswer) -> None:
    if isinstance(out, WindowCalled | WindowRecalled) and out.call is not None:
        print(Announcement.model_validate(plain(out.call)).announcement)
    elif isinstance(out, WindowCalled):
        print(f"window {window}: nobody is waiting")
    elif isinstance(out, WindowRecalled | WindowTicket):
        print(f"window {window}: {out.ticket.code} {out.ticket.state}")
    else:
        print(f"window {out.window.number}: {out.window.state}")


def window_transfer(args: argparse.Namespace) -> int:
    target_ = {"to_domain": args.to_domain} if args.to_domain else {"to_window": args.to_window}
    req = WindowTransfer(window=args.window, **target_, **given(staff=args.staff))
    target = args.to_domain or f"window {args.to_window}"
    return answer(
        args,
        call(args, "window.transfer", req, WindowTicket),
        lambda o: print(f"{o.ticket.code} now waits for {target}"),
    )


def windows_list(args: argparse.Namespace) -> int:
    return answer(args, call(args, "windows.list", Empty(), WindowList), _print_windows)


def _print_windows(out: WindowList) -> None:
    print(f"{'window':<8}{'state':<10}{'current':<9}{'waiting':<9}domains")
    for w in out.windows:
        extra = WindowExtra.model_validate(w.model_extra or {})
        current = extra.current.code if extra.current else "-"
        pending = f"  (next: {' '.join(extra.pending_domains)})" if extra.pending_domains else ""
        print(f"{w.number:<8}{w.state:<10}{current:<9}{extra.waiting:<9}{' '.join(w.domains)}{pending}")


def windows_assign(args: argparse.Namespace) -> int:
    req = WindowAssign(window=args.window, domains=args.domains, actor=args.actor, reason=args.reason)
    out = call(args, "window.assign", req, WindowAssigned)
    return answer(args, out, functools.partial(_print_assigned, args))


def _print_assigned(args: argparse.Namespace, out: WindowAssigned) -> None:
    if out.applied_now:
        print(f"window {args.window} now serves {' '.join(out.window.domains)}")
    else:
        print(f"window {args.window} will serve {' '.join(args.domains)} when its current ticket ends")


def queue_snapshot(args: argparse.Namespace) -> int:
    return answer(args, call(args, "queue.snapshot", Empty(), QueueSnapshot), _print_queue)


def _print_queue(out: QueueSnapshot) -> None:
    print(f"{'domain':<14}{'waiting':<9}estimated wait")
    for d in (DomainWait.model_validate(plain(d)) for d in out.domains):
        wait = d.estimated_wait_min
        print(f"{d.domain:<14}{d.waiting:<9}{'-' if wait is None else f'{wait:.0f} min'}")


def audit_list(args: argparse.Namespace) -> int:
    return answer(args, call(args, "audit.list", AuditList(limit=args.limit), AuditEntries), _print_audit)


def _print_audit(out: AuditEntries) -> None:
    for e in (AuditLine.model_validate(plain(e)) for e in out.entries):
        when = dt.datetime.fromtimestamp(e.at).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{when}  {e.actor:<24} {e.action:<24} {e.target}  {e.detail}")


def bus_credentials(args: argparse.Namespace) -> int:
    config = config_of(args)
    out = write_credentials(config, args.out, rotate=args.rotate)
    print(
        f"wrote {out}/passwd, {out}/acl and a password file per client: "
        + ", ".join(r.client_id for r in clients_of(config))
    )
    names = tls.certificate_names((out / tls.BROKER_CERT).read_bytes())
    print(f"hall CA {out}/{tls.CA_CERT} (key {tls.CA_KEY}: keep it safe); broker certificate for {', '.join(names)}")
    print(f"broker configuration (TLS on port {config.bus.port}): {out}/{CONF_FILE}")
    print(f'hall.toml: [bus] credentials_dir = "{out}" and tls = true (see docs/security.md)')
    return 0
