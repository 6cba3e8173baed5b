"""Take a ticket (取号): the kiosk's main journey.

::

    domain ──choose──▶ service ──choose──▶ priority ──choose──▶ issuing ─▶ printing ─▶ done
      │  ▲ search            │ (closed: error)                     │            └─(paper out)─▶ done, number kept large
      │  └───────────────────┘                                     └─(bus down)─▶ bus_error ─retry (same key)─▶ issuing
      ├─identify─▶ identify ─card─▶ reading_card ─▶ (identified) domain / priority
      │               │ └─(reader unplugged)─▶ reader_unavailable ─▶ qr / appointment / skip
      │               └─qr─▶ scanning_qr
      └─appointment─▶ appointment (code) ─▶ looking_up ─▶ appointment_found ─check in─▶ issuing
         (also a domain or service that checks in appointments only now: 仅限预约, 延时服务)

The states are :class:`TicketState` and ``TRANSITIONS`` declares every move between them (the
drawing above, plus ``back`` and the retries).

The ticket is issued over the bus with an idempotency key made once per choice, so a retry after a
lost answer returns the same ticket, never a second one. The elderly green channel is applied
automatically when the ID card or a verified 居民码 (``kiosk.resident_code``) says 60+, as the one-tap
default; disabled, pregnant and military are chosen by the citizen (checked at the window). A refusal
from the controller (``sold_out``: the service's daily cap) is told by its sentence ``error.<code>``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from hall_bus.contracts.base import Empty
from hall_bus.contracts.queue import Appointment, AppointmentLookup, QueueSnapshot, TicketIssue, TicketIssued
from hall_bus.vocabulary import ELDERLY_AGE, Priority
from kiosk.flow import Flow, FlowState, KioskContext
from kiosk.identify import appointment_in_qr, identity_from_resident_code, reader_ready
from kiosk.ports import Identity, is_offline
from kiosk.printing import print_ticket
from kiosk.resident_code import ResidentCodeRefused
from kiosk.ticket_view import (
    CHOSEN_PRIORITIES,
    Catalog,
    appointment_card,
    identify_methods,
    issued_result,
    priority_view,
    search_services,
    ticket_card,
)

log = logging.getLogger(__name__)

__all__ = ["CHOSEN_PRIORITIES", "TRANSITIONS", "TicketFlow", "TicketState", "search_services"]

APPOINTMENT_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"  # what APPOINTMENT_PATTERN allows, typed upper case
SEARCH_KEYS = "QWERTYUIOPASDFGHJKLZXCVBNM"  # the search keyboard: letters for pinyin initials and English names
SEARCH_MAX = 24


class TicketState(FlowState):
    DOMAIN = "domain"
    SERVICE = "service"
    PRIORITY = "priority"
    IDENTIFY = "identify"
    READING_CARD = "reading_card"
    READER_UNAVAILABLE = "reader_unavailable"
    SCANNING_QR = "scanning_qr"
    APPOINTMENT = "appointment"
    LOOKING_UP = "looking_up"
    APPOINTMENT_FOUND = "appointment_found"
    ISSUING = "issuing"
    PRINTING = "printing"
    DONE = "done"
    CLOSED = "closed"
    ERROR = "error"
    BUS_ERROR = "bus_error"


S = TicketState
_IDENTIFIED = frozenset({S.DOMAIN, S.PRIORITY})  # where a citizen goes once identified (or skipping it)
_CHOSEN = frozenset({S.PRIORITY, S.CLOSED, S.ISSUING})  # what choosing a service leads to
BACK: dict[str, str] = {S.SERVICE: S.DOMAIN, S.PRIORITY: S.SERVICE, S.APPOINTMENT_FOUND: S.APPOINTMENT}
BACK |= {S.CLOSED: S.SERVICE, S.READER_UNAVAILABLE: S.IDENTIFY}  # where ``back`` leads; from any other: the domains
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DOMAIN: frozenset({S.SERVICE, S.IDENTIFY, S.APPOINTMENT, S.BUS_ERROR}) | _CHOSEN,  # search results choose too
    S.SERVICE: frozenset({S.DOMAIN, S.IDENTIFY, S.APPOINTMENT}) | _CHOSEN,
    S.PRIORITY: frozenset({S.SERVICE, S.DOMAIN, S.IDENTIFY, S.SCANNING_QR, S.ISSUING}),  # 居民码 opens 60+ too
    S.IDENTIFY: frozenset({S.READING_CARD, S.SCANNING_QR, S.APPOINTMENT}) | _IDENTIFIED,
    S.READING_CARD: frozenset({S.READER_UNAVAILABLE, S.IDENTIFY}) | _IDENTIFIED,
    S.READER_UNAVAILABLE: frozenset({S.IDENTIFY, S.SCANNING_QR, S.APPOINTMENT}) | _IDENTIFIED,
    S.SCANNING_QR: frozenset({S.IDENTIFY, S.APPOINTMENT, S.LOOKING_UP}) | _IDENTIFIED,
    S.APPOINTMENT: frozenset({S.LOOKING_UP, S.DOMAIN}),
    S.LOOKING_UP: frozenset({S.APPOINTMENT, S.APPOINTMENT_FOUND, S.BUS_ERROR}),
    S.APPOINTMENT_FOUND: frozenset({S.APPOINTMENT, S.DOMAIN, S.ISSUING}),
    S.ISSUING: frozenset({S.PRINTING, S.CLOSED, S.BUS_ERROR}),
    S.PRINTING: frozenset({S.DONE}),
    S.DONE: frozenset({S.ISSUING}),  # a repeated issue (a lost answer) returns the same ticket
    S.CLOSED: frozenset({S.SERVICE, S.DOMAIN, S.APPOINTMENT}),  # appointments_only offers the check-in
    S.ERROR: frozenset({S.DOMAIN}),
    S.BUS_ERROR: frozenset({S.DOMAIN, S.ISSUING, S.LOOKING_UP}),  # retry repeats what failed
}


class TicketFlow(Flow):
    name = "ticket"
    State = TicketState
    transitions = TRANSITIONS
    initial = S.DOMAIN
    timeout_s = 60.0
    busy_states = frozenset({S.READING_CARD, S.SCANNING_QR, S.LOOKING_UP, S.ISSUING, S.PRINTING})
    keypad_chars, keypad_max = APPOINTMENT_CHARS, 32

    def __init__(self, ctx: KioskContext, start: str = "domain") -> None:
        super().__init__(ctx)
        self.identity: Identity | None = None
        self.service_id: str | None = None
        self.domain_id: str | None = None
        self.priority: Priority = "normal"
        self.appointment: Appointment | None = None
        self.code_typed = ""
        self.query = ""
        self.key: str | None = None
        self.result: dict[str, Any] | None = None
        self.snapshot: dict[str, dict[str, Any]] = {}
        self.keyboard = False  # the on-screen search keyboard is open
        self.refused = ""  # the controller's last refusal code (appointments_only offers the check-in)
        self.state = S(start) if start in (S.DOMAIN, S.IDENTIFY, S.APPOINTMENT) else S.DOMAIN
        if self.state == S.IDENTIFY and not self.reader_ready:  # say why the ID card is not an option now
            self.message = ctx.tr("ticket.reader_unavailable")

    @property
    def code_typed(self) -> str:
        """The appointment code typed on the keypad (or read from a QR)."""
        return self.typed

    @code_typed.setter
    def code_typed(self, value: str) -> None:
        self.typed = value

    # ------------------------------------------------------------------ timeouts
    def state_timeout(self) -> float:
        if self.state == "done":
            return 120.0 if self.result and not self.result.get("printed") else 30.0
        return self.timeout_s

    def clear_personal_data(self) -> None:
        self.identity = None
        self.appointment = None
        self.code_typed = ""
        self.query = ""
        self.keyboard = False
        self.result = None
        self.key = None
        self.service_id = self.domain_id = None
        self.priority = "normal"

    # ------------------------------------------------------------------ hall data
    @property
    def hall(self) -> dict[str, Any]:
        return self.ctx.hall

    @property
    def catalog(self) -> Catalog:
        """The hall's domains and services in the citizen's current language."""
        return Catalog(self.hall, self.ctx.lang)

    def load_queues(self) -> None:
        """Fetch waiting counts per domain for the domain screen (optional: shown when the bus answers)."""
        try:
            snap = self.ctx.call("queue.snapshot", Empty(), QueueSnapshot)
        except Exception:
            return
        # the contract leaves a domain's snapshot free-form (Anything): kept as the dict the domain screen reads
        domains = [d.model_dump() for d in snap.domains]
        self.snapshot = {str(d["domain"]): d for d in domains if "domain" in d}
        self.go(self.state, self.message)

    # ------------------------------------------------------------------ actions: choosing
    def search(self, text: str) -> None:
        self.query = text.strip()[:SEARCH_MAX]
        self.go("domain")

    def open_keyboard(self, on: bool = True) -> None:
        """Show (or hide) the on-screen search keyboard: a touch-only citizen types pinyin initials (sb = 社保)."""
        self.keyboard = on
        self.go("domain")

    def type_search(self, key: str) -> None:
        """A key of the search keyboard: a letter, ``back`` or ``clear``."""
        if key not in ("back", "clear") and not (len(key) == 1 and key.upper() in SEARCH_KEYS):
            raise ValueError(f"not a search key: {key!r}")
        self.search({"back": self.query[:-1], "clear": ""}.get(key, self.query + key.lower()))

    def choose_domain(self, domain_id: str) -> None:
        if not any(d["id"] == domain_id for d in self.hall.get("domains", [])):
            raise ValueError(f"unknown domain {domain_id!r}")
        self.domain_id = domain_id
        if not self._appointments_only(self.catalog.appointments_only(domain_id)):
            self.go("service")

    def _appointments_only(self, only: bool) -> bool:
        """Its domain checks in appointments only now (仅限预约): the check-in instead of a walk-in ticket."""
        if only:
            self.code_typed, domain = "", self.catalog.domain_name(self.domain_id)
            self.go("appointment", self.ctx.tr("ticket.appointment.only", domain=domain))
        return only

    def choose_service(self, service_id: str) -> None:
        service = self.catalog.service(service_id)
        if service is None:
            raise ValueError(f"unknown service {service_id!r}")
        self.domain_id, self.refused = service["domain"], ""
        if self._appointments_only(self.catalog.takes_appointments(service)):
            return
        if not self.catalog.is_open(service):
            self.go("closed", self.catalog.closed_message(service))
            return
        self.service_id = service_id
        self.key = None  # a new choice gets a new idempotency key
        if service.get("self_service"):
            self.priority = "normal"
            self.issue()
            return
        self.priority = "elderly" if self._elderly() else "normal"
        self.go("priority", "")

    def back(self) -> None:
        self.go(BACK.get(self.state, S.DOMAIN))

    # ------------------------------------------------------------------ actions: identifying
    def identify(self) -> None:
        self.go("identify", "" if self.reader_ready else self.ctx.tr("ticket.reader_unavailable"))

    @property
    def reader_ready(self) -> bool:
        """The kiosk has an ID card reader that is not unplugged (else other ways are offered, and said why)."""
        return reader_ready(self.ctx.device("idcard"))

    def read_card(self) -> None:
        identity = self.read_id_card(
            "reading_card", self.ctx.tr("ticket.reading_card"), self._card_failed, self._today()
        )
        if identity is not None:
            self._identified(identity)

    def _card_failed(self, why: str, reason: str) -> None:
        """No card read: an unusable reader offers the other ways; else try the card again."""
        self.go(
            "reader_unavailable" if why == "reader_unavailable" else "identify",
            self.ctx.tr(f"ticket.{why}", reason=reason),
        )

    def scan_qr(self) -> None:
        scanner = self.ctx.device("scanner")
        if scanner is None:
            self.go("identify", self.ctx.tr("ticket.scanner_unavailable"))
            return
        self._cancel.clear()
        if hasattr(scanner, "should_stop"):
            scanner.should_stop = lambda: self.cancelled
        self.go("scanning_qr", self.ctx.tr("ticket.scanning_qr"))
        try:
            payload = scanner.read_code(self.ctx.card_wait_s)
        except Exception as exc:
            self.go("identify", self.ctx.tr("ticket.scanner_unavailable" if is_offline(exc) else "ticket.no_qr"))
            return
        if not payload:
            self.go("identify", self.ctx.tr("ticket.no_qr"))
            return
        code = appointment_in_qr(payload)
        if code:
            self.code_typed = code
            self.lookup_appointment()
            return
        try:
            identity = identity_from_resident_code(payload, self.ctx.resident_codes, self.ctx.salt, self._today())
        except ResidentCodeRefused as exc:
            log.info("kiosk %s: a scanned code was refused: %s", self.ctx.kiosk_id, exc.reason)  # never the code
            self.go("identify", self.ctx.tr(f"ticket.resident_code.{exc.reason}"))
            return
        self._identified(identity)

    def skip_identify(self) -> None:
        self.identity = None
        self.go("priority" if self.service_id else "domain", "")

    def _identified(self, identity: Identity) -> None:
        if self.finished:  # the citizen left (or the flow timed out) while the card was read: keep nothing
            return
        self.identity = identity
        if self.service_id:
            self.priority = "elderly" if self._elderly() else self.priority
            self.go("priority", self._greeting())
        else:
            self.go("domain", self._greeting())

    def _greeting(self) -> str:
        if self.identity and self.identity.source == "idcard":
            return self.ctx.tr("ticket.identified", name=self.identity.masked_name)
        return self.ctx.tr("ticket.identified_qr", name=self.identity.masked_name if self.identity else "")

    def _elderly(self) -> bool:
        return bool(self.identity and self.identity.age is not None and self.identity.age >= ELDERLY_AGE)

    def _today(self) -> dt.date:
        return dt.date.today()

    # ------------------------------------------------------------------ actions: appointment
    def enter_appointment(self) -> None:
        self.code_typed = ""
        self.go("appointment", self.ctx.tr("ticket.appointment.prompt"))

    def lookup_appointment(self) -> None:
        code = self.code_typed
        if len(code) < 4:
            self.go("appointment", self.ctx.tr("ticket.appointment.not_found", code=code or "-"))
            return
        self.go("looking_up", self.ctx.tr("common.please_wait"))
        answer = self.ask(
            "appointment.lookup", AppointmentLookup(code=code), Appointment, retry=self.lookup_appointment
        )
        if answer.bus_down:
            return
        if not answer.ok:
            found = answer.code in ("not_found", "invalid")
            text = (
                self.ctx.tr("ticket.appointment.not_found", code=code)
                if found
                else self.ctx.error_sentence(answer.code)
            )
            self.go("appointment", text)
            return
        appt = self.appointment = answer.reply
        msg = self.ctx.tr("ticket.appointment.used") if appt.checked_in else ""
        self.go("appointment_found", msg)

    def check_in(self) -> None:
        if not self.appointment:
            raise RuntimeError("no appointment looked up")
        self.service_id = self.appointment.service
        self.key = None
        self.priority = "elderly" if self._elderly() else "normal"
        self.issue()

    # ------------------------------------------------------------------ actions: issuing
    def choose_priority(self, priority: str) -> None:
        if priority == "elderly" and not self._elderly():
            self.go("priority", self.ctx.tr("ticket.priority.elderly_hint"))
            return
        chosen = next((p for p in ("normal", "elderly", *CHOSEN_PRIORITIES) if p == priority), None)
        if chosen is None:
            raise ValueError(f"unknown priority {priority!r}")
        self.priority = chosen
        self.issue()

    def issue(self) -> None:
        if not self.service_id:
            raise RuntimeError("no service chosen")
        if self.key is None:
            self.key = uuid.uuid4().hex
        request = TicketIssue(
            service=self.service_id, idempotency_key=self.key, priority=self.priority, channel="kiosk"
        )
        if self.identity:
            request.identity_token = self.identity.token
            if self.identity.age is not None:
                request.age_years = max(0, min(150, self.identity.age))
        if self.appointment:
            request.appointment = self.appointment.code
        self.go("issuing", self.ctx.tr("ticket.issuing"))
        answer = self.ask("ticket.issue", request, TicketIssued, retry=self.issue)
        if answer.bus_down:
            return
        if answer.code in ("closed", "appointments_only"):  # the hours changed since hall.info was read
            self.refused = answer.code
            service = self.catalog.service(self.service_id) or {"name": self.service_id}
            closed = self.catalog.closed_message(service) if answer.code == "closed" else ""
            self.go("closed", closed or self.ctx.error_sentence(answer.code))
            return
        if not answer.ok:  # sold_out (限号) and any other refusal: its sentence, never the raw reason
            self.go("error", self.ctx.error_sentence(answer.code, answer.detail))
            return
        self.result = issued_result(answer.reply)
        self.print_result()

    def print_result(self) -> None:
        assert self.result is not None
        self.go("printing", self.ctx.tr("ticket.printing"))
        problem = print_ticket(self.ctx.device("printer"), self.result, self.ctx.hall, self.ctx.lang)
        self.result["printed"] = problem is None
        self.result["print_problem"] = problem or ""
        if problem is not None:
            t = self.result["ticket"]
            self.ctx.unprinted.append({"code": t["code"], "day": t["day"], "problem": problem})
            reason = self.ctx.tr(
                f"error.printer.{problem if problem in ('paper_out', 'cover_open') else 'unavailable'}"
            )
            self.go("done", self.ctx.tr("ticket.done.not_printed", reason=reason))
        else:
            self.go("done", self.ctx.tr("ticket.done.printed"))

    def retry_default(self) -> None:
        """Nothing to repeat: start over (an issue retry reuses its idempotency key, see :meth:`Flow.retry`)."""
        self.go("domain")

    def finish(self) -> None:
        self.close()

    # ------------------------------------------------------------------ view
    def _view(self) -> dict[str, Any]:
        catalog = self.catalog
        v: dict[str, Any] = {"title": self.ctx.tr("ticket.title")}
        if self.identity:
            v["identity"] = {
                "masked_name": self.identity.masked_name,
                "masked_id": self.identity.masked_id,
                "source": self.identity.source,
                "elderly": self._elderly(),
            }
        s = self.state
        if s == "domain":
            v["prompt"] = self.ctx.tr("ticket.domain.prompt")
            v["query"] = self.query
            v["domains"] = catalog.domain_views(self.snapshot)
            if self.query:
                v.update(catalog.search_view(self.query))
            v["keyboard"] = SEARCH_KEYS if self.keyboard else ""
            v["can_identify"] = not self.identity
        elif s == "service":
            v["prompt"] = self.ctx.tr("ticket.service.prompt", domain=catalog.domain_name(self.domain_id))
            v["services"] = [catalog.service_view(x) for x in catalog.services if x["domain"] == self.domain_id]
        elif s in ("identify", "reader_unavailable"):
            v["prompt"] = self.ctx.tr("ticket.identify.prompt")
            v["methods"] = identify_methods(self.ctx.tr, self.reader_ready and s == "identify")
        elif s in ("appointment", "looking_up"):
            v["prompt"] = self.ctx.tr("ticket.appointment.prompt")
            v["typed"] = self.code_typed
            v["keypad"] = "".join(c for c in APPOINTMENT_CHARS if not c.isdigit())
        elif s == "appointment_found" and self.appointment:
            v["appointment"] = appointment_card(self.appointment, catalog)
        elif s == "priority":
            by_code = self.identity is not None and self.identity.source == "resident_code"
            v.update(priority_view(self.ctx.tr, self._elderly(), by_code, self.reader_ready, self.identity is not None))
            service = catalog.service(self.service_id or "")
            v["service"] = catalog.service_view(service) if service else None
        elif s == "done" and self.result:
            v["ticket"] = ticket_card(self.result, catalog)
        elif s == "closed" and self.refused == "appointments_only":
            v["offer_appointment"] = self.ctx.tr("ticket.appointment.offer")
        return v
