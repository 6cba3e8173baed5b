"""Bus contracts of the queue operations (see docs/bus.md for the generated reference)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hall_bus.contracts.base import (
    Anything,
    Closed,
    ContractSet,
    Empty,
    MessageContract,
    Open,
    RequestContract,
    array,
    integer,
    optional,
    real,
    text,
)
from hall_bus.vocabulary import APPOINTMENT_PATTERN, ID_PATTERN, TICKET_CODE_PATTERN, TOKEN_PATTERN, Priority

DAY = r"\d{4}-\d{2}-\d{2}"
Channel = Literal["kiosk", "window", "cli", "app", "simulator"]


class Ticket(Open):
    id: int
    code: str = text(pattern=TICKET_CODE_PATTERN)
    day: str = text()
    service: str = text()
    domain: str = text()
    priority: str = text()
    state: str = text()
    issued_at: float
    channel: str = text()


class WindowView(Open):
    number: int
    name: str = text()
    domains: list[str] = array()
    state: str = text()
    hours: Literal["open", "appointments", "closed", "finishing"] = Field(
        "open", description="its hours now; finishing: closed, serving the tickets taken before it closed"
    )


class WindowRequest(Closed):
    window: int = integer(min=1, max=999)
    staff: str = text(max_len=64, default=None)


# ---------------------------------------------------------------------- ticket
class TicketIssue(Closed):
    service: str = text(pattern=ID_PATTERN)
    idempotency_key: str = text(min_len=8, max_len=64, pattern=r"[A-Za-z0-9_.:-]+")
    priority: Priority = "normal"
    age_years: int = integer(min=0, max=150, default=None)
    identity_token: str = text(pattern=TOKEN_PATTERN, default=None)
    appointment: str = text(pattern=APPOINTMENT_PATTERN, default=None)
    channel: Channel = "kiosk"


class TicketIssued(Closed):
    ticket: Ticket
    created: bool
    waiting_ahead: int = integer(min=0)
    estimated_wait_min: float | None = real(min=0)
    service_name: str = text()
    domain_name: str = text()
    hall_name: str = text()
    phone_url: str | None = text(
        max_len=512,
        default=None,
        description="the ticket's signed page for the phone (its QR code): <[web] public_url>t/<token>",
    )


class TicketGet(Closed):
    code: str = text(pattern=TICKET_CODE_PATTERN)
    day: str = text(pattern=DAY, default=None)


class TicketStatus(Closed):
    ticket: Ticket
    waiting_ahead: int = integer(min=0)
    estimated_wait_min: float | None = real(min=0)


# ---------------------------------------------------------------------- window
class WindowCalled(Closed):
    ticket: Anything | None
    call: Anything | None


class WindowRecalled(Closed):
    ticket: Ticket
    call: Anything


class WindowTicket(Closed):
    ticket: Ticket


class WindowTransfer(Closed):
    window: int = integer(min=1, max=999)
    staff: str = text(max_len=64, default=None)
    to_domain: str = text(pattern=ID_PATTERN, default=None)
    to_window: int = integer(min=1, max=999, default=None)


class WindowPause(Closed):
    window: int = integer(min=1, max=999)
    staff: str = text(max_len=64, default=None)
    reason: str = text(max_len=100, default=None)


class WindowOne(Closed):
    window: WindowView


class WindowAssign(Closed):
    window: int = integer(min=1, max=999)
    domains: list[Annotated[str, text(pattern=ID_PATTERN)]] = array(min_len=1, max_len=20)
    actor: str = text(min_len=1, max_len=64)
    reason: str = text(max_len=200, default=None)


class WindowAssigned(Closed):
    window: WindowView
    applied_now: bool


class WindowList(Closed):
    windows: list[WindowView] = array()


# ---------------------------------------------------------------------- hall
class QueueSnapshot(Closed):
    domains: list[Anything] = array()


class AuditList(Closed):
    limit: int = integer(min=1, max=1000, default=100)


class AuditEntries(Closed):
    entries: list[Anything] = array()


class AppointmentLookup(Closed):
    code: str = text(pattern=APPOINTMENT_PATTERN)


class Appointment(Closed):
    code: str = text()
    service: str = text()
    service_name: str = text()
    slot_start: float
    slot_end: float
    checked_in: bool


# ---------------------------------------------------------------------- hall.info (what a station learns)
SPAN = r"\d{2}:\d{2}-\d{2}:\d{2}"
Span = Annotated[str, text(pattern=SPAN)]
Day = Annotated[str, text(pattern=DAY)]


Mode = Literal["open", "appointments", "closed"]


class HallWeek(Open):
    """A window's or domain's own hours (hall_bus.config.schedule), every weekday spelt out."""

    monday: list[Span] = array(max_len=24)
    tuesday: list[Span] = array(max_len=24)
    wednesday: list[Span] = array(max_len=24)
    thursday: list[Span] = array(max_len=24)
    friday: list[Span] = array(max_len=24)
    saturday: list[Span] = array(max_len=24)
    sunday: list[Span] = array(max_len=24)


class HallDomain(Open):
    id: str = text(pattern=ID_PATTERN)
    name: str = text()
    name_en: str = text(default="")
    mode: Mode = Field("open", description="now: walk-in tickets (open), appointments only, or closed")
    hours_today: str = text(default="", description='walk-in hours today, "09:00-12:00, 13:30-17:30" or "closed"')
    appointments_today: str = text(default="", description="hours today for appointments only (延时), or empty")
    hours: HallWeek | None = optional("its own walk-in hours ([[domains]] hours)")


class HallService(Open):
    id: str = text(pattern=ID_PATTERN)
    name: str = text()
    name_en: str = text(default="")
    domain: str = text(pattern=ID_PATTERN)
    prefix: str = text(pattern=r"[A-Z]{1,2}")
    expected_minutes: float = real(min=0)
    self_service: bool = False


class HallWindow(Open):
    number: int = integer(min=1, max=999)
    name: str = text()
    domains: list[Annotated[str, text(pattern=ID_PATTERN)]] = array(
        default=[], description="the domains hall.toml gives it (where it serves now: its window.state)"
    )
    skills: list[Annotated[str, text(pattern=ID_PATTERN)]] = array()
    mode: Mode = Field("open", description="now: serving walk-ins (open), appointments only, or closed")
    hours_today: str = text(default="", description='its walk-in hours today, or "closed"')
    appointments_today: str = text(default="", description="its appointment-only hours today, or empty")
    hours: HallWeek | None = optional("its own hours ([[windows]] hours)")
    appointment_hours: HallWeek | None = optional("its appointment-only hours ([[windows]] appointment_hours)")


class HallHours(HallWeek):
    """``[hall.hours]`` as hall.toml has it, every weekday spelt out (``hall_bus.config.parse`` reads it back)."""

    holidays: list[Day] = array(default=[])
    workdays: list[Day] = array(default=[])
    always_open: bool = False


class HallIssuer(Open):
    """A platform trusted to sign resident codes (居民码): its id and its PEM public key (public by nature)."""

    id: str = text(pattern=ID_PATTERN)
    name: str = text(default="")
    public_key: str = text(max_len=2000)


class HallIdentity(Open):
    issuers: list[HallIssuer] = array(default=[])
    max_age_s: float = real(min=0)


class HallQueueRules(Open):
    appointment_early_minutes: int = integer(min=0)


class HallCompartment(Open):
    no: str = text(max_len=16)
    board: int = integer(min=0)
    lock: int = integer(min=0)
    size: str = text(max_len=2)
    position: str = text(default="")


class HallLockerBank(Open):
    id: str = text(pattern=ID_PATTERN)
    device: str = text(pattern=ID_PATTERN)
    name: str = text()
    compartments: list[HallCompartment] = array()


class HallPickup(Open):
    """24-hour pickup (出件) as a kiosk and a locker host need it (the pickup key is not here: see docs/deploy.md)."""

    code_digits: int = integer(min=1, max=12)
    session_ttl_s: float = real(min=0)
    door_open_alarm_s: float = real(min=0)
    lockers: list[HallLockerBank] = array(default=[])


class HallEvaluation(Open):
    timeout_s: float = real(min=0)


class HallFeatures(Open):
    enabled: list[Annotated[str, text(pattern=ID_PATTERN)]] = array(max_len=50)
    pickup: HallPickup | None = optional("[pickup] and [[lockers]] when pickup is enabled")
    evaluation: HallEvaluation | None = optional("[evaluation] timeout_s when evaluation is enabled")


class HallInfo(Open):
    """The hall as a station needs it (retained ``state/hall``): layout, hours, public identity settings,
    the enabled features. Nothing secret (salts, keys, passwords) and no personal data (no staff)."""

    hall: str = text(pattern=ID_PATTERN)
    name: str = text()
    name_en: str = text(default="")
    timezone: str = text(max_len=64)
    open_now: bool
    hours_today: str = text()
    appointments_today: str = text(default="", description="hours today when only appointments are served")
    hours: HallHours | None = optional("[hall.hours]")
    domains: list[HallDomain] = array()
    services: list[HallService] = array()
    windows: list[HallWindow] = array()
    queue: HallQueueRules | None = optional("[queue] settings a kiosk needs")
    identity: HallIdentity | None = optional("[identity]: trusted resident-code issuers")
    features: HallFeatures | None = optional("[features] enabled and their public settings")


# ---------------------------------------------------------------------- states and events
class DomainQueue(Open):
    domain: str = text()
    waiting: int = integer(min=0)


class CallEvent(Open):
    ticket: str = text(pattern=TICKET_CODE_PATTERN)
    window: int
    announcement: str = text()
    recall: bool


class TicketEvent(Open):
    action: str = text()
    ticket: Ticket


class AuditEvent(Open):
    action: str = text()


def _win(op: str, response: type[Closed], summary: str) -> RequestContract:
    return RequestContract(op, WindowRequest, response, summary)


CONTRACTS = ContractSet(
    requests=[
        RequestContract(
            "ticket.issue", TicketIssue, TicketIssued, "Issue a queue ticket (idempotent by idempotency_key)."
        ),
        RequestContract("ticket.get", TicketGet, TicketStatus, "Where a ticket stands."),
        _win("window.call", WindowCalled, "Call the next ticket (finishing the one at the window, if any)."),
        _win("window.recall", WindowRecalled, "Call the current ticket again."),
        _win("window.start", WindowTicket, "The called citizen arrived; service starts."),
        _win("window.finish", WindowTicket, "Service finished."),
        _win("window.no_show", WindowTicket, "The called citizen did not come."),
        RequestContract(
            "window.transfer", WindowTransfer, WindowTicket, "Send the current ticket to another domain or window."
        ),
        RequestContract("window.pause", WindowPause, WindowOne, "Stop calling to this window."),
        _win("window.resume", WindowOne, "Resume calling."),
        RequestContract(
            "window.assign",
            WindowAssign,
            WindowAssigned,
            "Reassign a window's domains (deferred until its current ticket ends).",
        ),
        RequestContract("windows.list", Empty, WindowList, "All windows with domains, state and queue."),
        RequestContract("queue.snapshot", Empty, QueueSnapshot, "Queue snapshot of every domain."),
        RequestContract(
            "hall.info", Empty, HallInfo, "The hall's layout, hours, identity issuers and enabled features."
        ),
        RequestContract("audit.list", AuditList, AuditEntries, "Recent audit records."),
        RequestContract(
            "appointment.lookup", AppointmentLookup, Appointment, "Look up an appointment before check-in."
        ),
    ],
    states=[
        MessageContract("queue.snapshot", DomainQueue, "Queue snapshot of one domain."),
        MessageContract("window.state", WindowView, "One window's state and current ticket."),
        MessageContract("hall.info", HallInfo, "What a station learns of the hall: layout, hours, features."),
    ],
    events=[
        MessageContract("call", CallEvent, "A ticket is called to a window."),
        MessageContract("ticket", TicketEvent, "A ticket changed (issued, called, finished ...)."),
        MessageContract("audit", AuditEvent, "An audited action."),
    ],
)
