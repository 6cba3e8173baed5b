"""Who may call what: the one roles table of the hall bus.

Every request operation names the roles that may call it and what kind of effect it has. The
controller refuses any other caller with ``forbidden``; ``hallkit bus credentials`` writes the broker
ACL from the same table (a client may publish only the request topics of the operations its role may
call), so the rule is enforced twice. A client's role comes from its authenticated client id
(:func:`principal_of`), never from a message. docs/security.md prints the table.

Effects decide how a request is kept once (see :mod:`hall_bus.controller.served`):

* ``read``: no effect; a repeat may run again.
* ``atomic``: changes the controller's store only, and a refusal changes nothing; the change and its
  answer commit in one transaction (a locker door is opened by the pickup worker from the committed
  journal, so the pickup ops that open doors are atomic too).
* ``journaled``: reaches outside the store (a text message) or must keep what a refusal counted (wrong
  pickup codes); the request is recorded before it runs and its answer (also a refusal) after, and
  a retry after a crash in between gets ``outcome_unknown``, never a second run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from hall_bus.config import HallConfig

Role = Literal["controller", "kiosk", "window", "manager", "display", "locker", "web", "integrator"]
Effect = Literal["read", "atomic", "journaled"]

ROLES: dict[str, str] = {
    "controller": "the hall controller (sends requests to device hosts)",
    "kiosk": "a citizen self-service kiosk (client id from [[kiosks]])",
    "window": "a window terminal and its devices' host (client id window-<n>), for its own window only",
    "manager": "the manager console and the hallkit CLI (client id manager)",
    "display": "the hall display (client id display): reads only",
    "locker": "a locker bank's host (client id = the locker device id): answers the controller only",
    "web": "the staff web console's server (client id web): checks its own users' roles too",
    "integrator": "an external platform (client id integrator): tickets, appointments and cases",
}

KIOSK: tuple[Role, ...] = ("kiosk",)
STAFF: tuple[Role, ...] = ("manager", "web")
DESK: tuple[Role, ...] = ("window", "manager", "web")
LOOK: tuple[Role, ...] = ("kiosk", "window", "manager", "display", "web", "integrator")


@dataclass(frozen=True)
class OpRule:
    roles: tuple[Role, ...]
    effect: Effect
    own_window: bool = False  # a window terminal may act only on the window its client id names (when named)


OPS: dict[str, OpRule] = {
    # the queue
    "hall.info": OpRule(LOOK, "read"),
    "queue.snapshot": OpRule(LOOK, "read"),
    "windows.list": OpRule(LOOK, "read"),
    "ticket.issue": OpRule(("kiosk", "manager", "web", "integrator"), "atomic"),
    "ticket.get": OpRule(("kiosk", "window", "manager", "web", "integrator"), "read"),
    "appointment.lookup": OpRule(("kiosk", "manager", "web", "integrator"), "read"),
    "audit.list": OpRule(STAFF, "read"),
    "window.call": OpRule(DESK, "atomic", own_window=True),
    "window.recall": OpRule(DESK, "atomic", own_window=True),
    "window.start": OpRule(DESK, "atomic", own_window=True),
    "window.finish": OpRule(DESK, "atomic", own_window=True),
    "window.no_show": OpRule(DESK, "atomic", own_window=True),
    "window.transfer": OpRule(DESK, "atomic", own_window=True),
    "window.pause": OpRule(DESK, "atomic", own_window=True),
    "window.resume": OpRule(DESK, "atomic", own_window=True),
    "window.assign": OpRule(STAFF, "atomic"),
    # cases (办件)
    "case.lookup": OpRule(("kiosk", "window", "manager", "web", "integrator"), "read"),
    "case.update": OpRule(("window", "manager", "web", "integrator"), "atomic"),
    "case.receipt": OpRule(("window", "manager", "web", "integrator"), "read"),
    "case.progress": OpRule(("web",), "journaled"),  # the phone page; keeps the wrong codes it counted
    # evaluations (好差评)
    "evaluation.submit": OpRule(("kiosk", "manager", "web"), "atomic"),
    "evaluation.get": OpRule(("kiosk", "window", "manager", "web"), "read"),
    "followup.list": OpRule(STAFF, "read"),
    "followup.update": OpRule(STAFF, "atomic"),
    "followup.assign": OpRule(STAFF, "atomic"),
    "followup.note": OpRule(STAFF, "atomic"),
    "followup.visit": OpRule(STAFF, "atomic"),
    "followup.rectify": OpRule(STAFF, "atomic"),
    "followup.close": OpRule(STAFF, "atomic"),
    "report.daily": OpRule(STAFF, "read"),
    "report.range": OpRule(STAFF, "read"),
    # 24-hour pickup
    "pickup.identify": OpRule(KIOSK, "journaled"),
    "pickup.open": OpRule(KIOSK, "atomic"),
    "pickup.status": OpRule(("kiosk", "window", "manager", "web"), "read"),
    "pickup.list": OpRule(DESK, "read"),
    "pickup.overdue": OpRule(DESK, "read"),
    "pickup.deposit.start": OpRule(DESK, "atomic", own_window=True),
    "pickup.deposit.confirm": OpRule(DESK, "atomic"),
    "pickup.return": OpRule(DESK, "atomic"),
    "pickup.notify": OpRule(DESK, "journaled"),
    "pickup.fault.clear": OpRule(DESK, "atomic"),
    # tidal windows
    "tidal.load": OpRule(STAFF, "read"),
    "tidal.proposals": OpRule(STAFF, "read"),
    "tidal.accept": OpRule(STAFF, "atomic"),
    "tidal.reject": OpRule(STAFF, "atomic"),
    "tidal.mode": OpRule(STAFF, "atomic"),
    # appointments (预约): the booking page (web), a provincial platform (integrator), the manager
    "booking.slots": OpRule(("manager", "web", "integrator"), "read"),
    "booking.book": OpRule(("manager", "web", "integrator"), "atomic"),
    "booking.cancel": OpRule(("manager", "web", "integrator"), "journaled"),  # wrong answers are counted
    "booking.list": OpRule(STAFF, "read"),
    "booking.report": OpRule(("manager", "web", "integrator"), "read"),  # counts only, no booking
    # 帮办代办 mandates (委托单): the window, the web console and the manager record and move them
    "mandate.create": OpRule(DESK, "atomic"),
    "mandate.update": OpRule(DESK, "atomic"),
    "mandate.list": OpRule(DESK, "read"),
    "mandate.get": OpRule(("window", "manager", "web", "integrator"), "read"),
    "mandate.print": OpRule(DESK, "journaled", own_window=True),  # the 回执 at a window's printer
    "case.print_receipt": OpRule(DESK, "journaled", own_window=True),  # 受理回执 at a window's printer
    # requests the controller sends to device hosts (device/<id>/request/<op>)
    "locker.open": OpRule(("controller",), "journaled"),  # the locker host keeps its own journal
    "locker.status": OpRule(("controller",), "read"),
    "pad.evaluate": OpRule(("controller",), "journaled"),
    "printer.print": OpRule(("controller",), "journaled"),  # a window's receipt printer
}

FIXED_CLIENTS: dict[str, Role] = {
    "controller": "controller",
    "manager": "manager",
    "display": "display",
    "web": "web",
    "integrator": "integrator",
}
_WINDOW = re.compile(r"window-([1-9][0-9]{0,2})")


@dataclass(frozen=True)
class Principal:
    """An authenticated bus client: its id, its role, and for a window terminal its window."""

    client_id: str
    role: Role | None  # None: not a client of this hall
    window: int | None = None


def principal_of(config: HallConfig, client_id: str) -> Principal:
    """The role of ``client_id`` in this hall, from hall.toml (kiosks, windows, locker devices)."""
    if client_id in FIXED_CLIENTS:
        return Principal(client_id, FIXED_CLIENTS[client_id])
    if any(k.id == client_id for k in config.kiosks):
        return Principal(client_id, "kiosk")
    m = _WINDOW.fullmatch(client_id)
    if m and any(w.number == int(m.group(1)) for w in config.windows):
        return Principal(client_id, "window", int(m.group(1)))
    if any(d.id == client_id and d.kind in SELF_HOSTED_KINDS for d in config.devices):
        return Principal(client_id, "locker")
    return Principal(client_id, None)


# Device kinds whose host runs as a bus client of its own (client id = device id): a locker bank is
# driven only by the controller, so even the kiosk it stands beside may not command it.
SELF_HOSTED_KINDS = ("locker",)


def ops_of(role: Role) -> list[str]:
    """The operations ``role`` may call, sorted."""
    return sorted(op for op, rule in OPS.items() if role in rule.roles)


def roles_table() -> str:
    """The table as docs/security.md prints it (a test keeps the two the same)."""
    rows = ["| op | roles | effect | window terminal |", "|---|---|---|---|"]
    for op, rule in sorted(OPS.items()):
        rows.append(f"| `{op}` | {', '.join(rule.roles)} | {rule.effect} | {'own window' if rule.own_window else ''} |")
    return "\n".join(rows) + "\n"
