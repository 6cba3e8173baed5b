"""Bus contracts of the queue operations (see docs/bus.md for the same in prose)."""
from __future__ import annotations

from hall_bus.bus.envelope import event_contract, request_contract, state_contract
from hall_bus.contracts.schema import Bool, Enum, Int, List, Num, Obj, Str

ID = r"[a-z0-9][a-z0-9_-]{0,31}"
CODE = r"[A-Z]{1,2}\d{3,4}"
TOKEN = r"[0-9a-f]{64}"  # a salted hash (HMAC-SHA256 hex) standing for an identity
PRIORITY = Enum("normal", "elderly", "disabled", "pregnant", "military", default="normal")

TICKET = Obj(
    extra=True,
    id=Int(), code=Str(pattern=CODE), day=Str(), service=Str(), domain=Str(), priority=Str(), state=Str(),
    issued_at=Num(), channel=Str(),
)
WINDOW_NUMBER = Int(min=1, max=999)
ACTOR = Str(max_len=64, optional=True)
WINDOW_REQ = Obj(window=WINDOW_NUMBER, staff=ACTOR)
WINDOW_VIEW = Obj(extra=True, number=Int(), name=Str(), domains=List(Str()), state=Str())

request_contract(
    "ticket.issue",
    Obj(
        service=Str(pattern=ID),
        idempotency_key=Str(min_len=8, max_len=64, pattern=r"[A-Za-z0-9_.:-]+"),
        priority=PRIORITY,
        age_years=Int(min=0, max=150, optional=True),
        identity_token=Str(pattern=TOKEN, optional=True),
        appointment=Str(pattern=r"[A-Za-z0-9-]{4,32}", optional=True),
        channel=Enum("kiosk", "window", "cli", "app", "simulator", default="kiosk"),
    ),
    Obj(ticket=TICKET, created=Bool(), waiting_ahead=Int(min=0), estimated_wait_min=Num(min=0, nullable=True),
        service_name=Str(), domain_name=Str(), hall_name=Str()),
    "Issue a queue ticket (idempotent by idempotency_key).",
)
request_contract(
    "ticket.get",
    Obj(code=Str(pattern=CODE), day=Str(pattern=r"\d{4}-\d{2}-\d{2}", optional=True)),
    Obj(ticket=TICKET, waiting_ahead=Int(min=0), estimated_wait_min=Num(min=0, nullable=True)),
    "Where a ticket stands.",
)
request_contract("window.call", WINDOW_REQ, Obj(ticket=Obj(extra=True, nullable=True), call=Obj(extra=True, nullable=True)),
                 "Call the next ticket (finishing the one at the window, if any).")
request_contract("window.recall", WINDOW_REQ, Obj(ticket=TICKET, call=Obj(extra=True)), "Call the current ticket again.")
request_contract("window.start", WINDOW_REQ, Obj(ticket=TICKET), "The called citizen arrived; service starts.")
request_contract("window.finish", WINDOW_REQ, Obj(ticket=TICKET), "Service finished.")
request_contract("window.no_show", WINDOW_REQ, Obj(ticket=TICKET), "The called citizen did not come.")
request_contract(
    "window.transfer",
    Obj(window=WINDOW_NUMBER, staff=ACTOR, to_domain=Str(pattern=ID, optional=True), to_window=Int(min=1, max=999, optional=True)),
    Obj(ticket=TICKET),
    "Send the current ticket to another domain or window.",
)
request_contract("window.pause", Obj(window=WINDOW_NUMBER, staff=ACTOR, reason=Str(max_len=100, optional=True)),
                 Obj(window=WINDOW_VIEW), "Stop calling to this window.")
request_contract("window.resume", WINDOW_REQ, Obj(window=WINDOW_VIEW), "Resume calling.")
request_contract(
    "window.assign",
    Obj(window=WINDOW_NUMBER, domains=List(Str(pattern=ID), min_len=1, max_len=20), actor=Str(min_len=1, max_len=64),
        reason=Str(max_len=200, optional=True)),
    Obj(window=WINDOW_VIEW, applied_now=Bool()),
    "Reassign a window's domains (deferred until its current ticket ends).",
)
request_contract("windows.list", Obj(), Obj(windows=List(WINDOW_VIEW)), "All windows with domains, state and queue.")
request_contract("queue.snapshot", Obj(), Obj(domains=List(Obj(extra=True))), "Queue snapshot of every domain.")
request_contract("hall.info", Obj(), Obj(extra=True), "The hall's domains, services, windows and hours.")
request_contract("audit.list", Obj(limit=Int(min=1, max=1000, default=100)), Obj(entries=List(Obj(extra=True))), "Recent audit records.")
request_contract(
    "appointment.lookup",
    Obj(code=Str(pattern=r"[A-Za-z0-9-]{4,32}")),
    Obj(code=Str(), service=Str(), service_name=Str(), slot_start=Num(), slot_end=Num(), checked_in=Bool()),
    "Look up an appointment before check-in.",
)

state_contract("queue.snapshot", Obj(extra=True, domain=Str(), waiting=Int(min=0)))
state_contract("window.state", WINDOW_VIEW)
state_contract("hall.info", Obj(extra=True))
event_contract("call", Obj(extra=True, ticket=Str(pattern=CODE), window=Int(), announcement=Str(), recall=Bool()))
event_contract("ticket", Obj(extra=True, action=Str(), ticket=TICKET))
event_contract("audit", Obj(extra=True, action=Str()))
