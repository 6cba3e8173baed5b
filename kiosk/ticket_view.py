"""What the ticket screens show: the hall's domains and services, an appointment, an issued ticket.

No state here: :class:`Catalog` reads the controller's ``hall.info`` (as ``ctx.hall``) in one
language, and the functions turn an appointment or an issue answer into the dict a screen draws.
:class:`kiosk.ticket_flow.TicketFlow` holds the journey and calls these for its :meth:`view`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from hall_bus.contracts.queue import Appointment, TicketIssued
from hall_bus.vocabulary import PRIORITIES
from kiosk.i18n import name_of, tr

CHOSEN_PRIORITIES = tuple(p for p in PRIORITIES if p not in ("normal", "elderly"))  # disabled, pregnant, military
Tr = Callable[..., str]


class Catalog:
    """The hall's domains and services (``hall.info``) as the ticket screens show them, in ``lang``."""

    def __init__(self, hall: dict[str, Any], lang: str) -> None:
        self.hall, self.lang = hall, lang

    def tr(self, key: str, **values: object) -> str:
        return tr(key, self.lang, **values)

    @property
    def services(self) -> list[dict[str, Any]]:
        return list(self.hall.get("services", []))

    @property
    def domains(self) -> list[dict[str, Any]]:
        return list(self.hall.get("domains", []))

    def service(self, service_id: str) -> dict[str, Any] | None:
        return next((s for s in self.services if s["id"] == service_id), None)

    @property
    def scheduled(self) -> bool:
        """Does hall.info say each domain's mode and hours (:mod:`hall_bus.config.schedule`)? An older
        controller sends neither (the contract's default mode is then ``open``): the hall's ``open_now`` decides."""
        return any(d.get("hours_today") for d in self.domains)

    def domain(self, domain_id: str | None) -> dict[str, Any]:
        return next((d for d in self.domains if d["id"] == domain_id), {"id": domain_id, "name": ""})

    def domain_mode(self, domain_id: str | None) -> str:
        """``open`` (walk-in tickets), ``appointments`` (appointment check-in only) or ``closed``, now."""
        if self.scheduled:
            return str(self.domain(domain_id).get("mode", "open"))
        return "open" if self.hall.get("open_now", True) else "closed"

    def walk_in_now(self) -> bool:
        """Does any domain take walk-in tickets now (else the hall serves appointments only, or is closed)?"""
        if not self.scheduled:
            return bool(self.hall.get("open_now", True))
        return any(self.domain_mode(d["id"]) == "open" for d in self.domains)

    def is_open(self, service: dict[str, Any]) -> bool:
        """Self-service is always open; a window service while its domain takes walk-in tickets."""
        return bool(service.get("self_service")) or self.domain_mode(service["domain"]) == "open"

    def appointments_only(self, domain_id: str) -> bool:
        """Does the domain's tile lead to the appointment check-in (nothing of it open, appointments served)?"""
        services = [s for s in self.services if s["domain"] == domain_id]
        return self.domain_mode(domain_id) == "appointments" and not any(self.is_open(s) for s in services)

    def takes_appointments(self, service: dict[str, Any]) -> bool:
        """A window service whose domain checks in appointments only now (no walk-in ticket)."""
        return not service.get("self_service") and self.domain_mode(service["domain"]) == "appointments"

    def hours_today(self, domain_id: str | None) -> str:
        """The domain's walk-in hours today (the hall's from an older controller); ``closed`` for none."""
        hours = self.domain(domain_id).get("hours_today") if self.scheduled else ""
        return str(hours or self.hall.get("hours_today", ""))

    def state_text(self, domain_id: str) -> str:
        """What a domain tile says when it issues no walk-in ticket: 仅限预约 17:30-19:30, or 今日 09:00-12:00."""
        if self.domain_mode(domain_id) == "appointments":
            return self.tr("ticket.domain.appointments", hours=self.domain(domain_id).get("appointments_today", ""))
        if not self.scheduled:
            return self.tr("ticket.service.closed")
        hours = self.hours_today(domain_id)
        return self.tr("home.closed_today") if hours == "closed" else self.tr("ticket.domain.closed", hours=hours)

    def closed_message(self, service: dict[str, Any]) -> str:
        """Why a service issues no ticket now, with its domain's hours today."""
        hours, name = self.hours_today(service.get("domain")), name_of(service, self.lang)
        if hours == "closed":
            return self.tr("ticket.closed.today", service=name)
        return self.tr("ticket.closed", service=name, hours=hours)

    def service_name(self, service_id: str, fallback: str) -> str:
        s = self.service(service_id)
        return name_of(s, self.lang) if s else fallback

    def domain_name(self, domain_id: str | None) -> str:
        return name_of(self.domain(domain_id), self.lang)

    def domain_views(self, snapshot: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """The domain tiles, with waiting counts when the queue snapshot has them. A domain taking no
        walk-in ticket now and without a self-service item says so: ``appointments`` (仅限预约, its tile
        leads to the appointment check-in) or ``closed`` with its hours today."""
        views = []
        for d in self.domains:
            is_open = any(self.is_open(s) for s in self.services if s["domain"] == d["id"])
            views.append(
                {
                    "id": d["id"],
                    "label": name_of(d, self.lang),
                    "waiting": snapshot.get(d["id"], {}).get("waiting"),
                    "estimated_wait_min": snapshot.get(d["id"], {}).get("estimated_wait_min"),
                    "open": is_open,
                    "mode": "open" if is_open else self.domain_mode(d["id"]),
                    "closed_text": "" if is_open else self.state_text(d["id"]).strip(),
                }
            )
        return views

    def service_view(self, s: dict[str, Any]) -> dict[str, Any]:
        open_ = self.is_open(s)
        appointments = not open_ and self.takes_appointments(s)
        sub = ""
        if appointments:
            sub = self.state_text(s["domain"]).strip()
        elif not open_ and self.scheduled:
            sub = self.tr("ticket.service.closed_hours", hours=self.state_text(s["domain"]))
        elif not open_:
            sub = self.tr("ticket.service.closed")
        elif s.get("self_service"):
            sub = self.tr("ticket.service.self")
        return {
            "id": s["id"],
            "label": name_of(s, self.lang),
            "open": open_,
            "enabled": open_ or appointments,  # an appointments-only service leads to the check-in
            "sub": sub,
            "self_service": bool(s.get("self_service")),
        }

    def search_view(self, query: str) -> dict[str, Any]:
        """The search results under the domain tiles, with their caption."""
        results = [self.service_view(x) for x in search_services(self.services, query, self.domains)]
        if not results:
            label = self.tr("ticket.search.none", q=query)
        else:
            label = (
                self.tr("ticket.search.one") if len(results) == 1 else self.tr("ticket.search.results", n=len(results))
            )
        return {"results": results, "results_label": label}


def priority_view(tr: Tr, elderly: bool, by_code: bool, reader_ready: bool, identified: bool) -> dict[str, Any]:
    """The green channel question. Proven 60+ (ID card or resident code): the elderly ticket is the one-tap
    default and only the other green-channel classes are offered beside it. Otherwise a normal ticket
    first, the classes the citizen may claim, and how a 60+ citizen gets the channel (card or 居民码,
    or the service desk when the reader is unavailable)."""
    first = "elderly" if elderly else "normal"
    options: list[dict[str, Any]] = [
        {"id": first, "label": tr(f"ticket.priority.{first}_take" if elderly else "ticket.priority.normal")}
    ]
    options += [{"id": p, "label": tr(f"ticket.priority.{p}")} for p in CHOSEN_PRIORITIES]
    for i, option in enumerate(options):
        option["primary"] = i == 0
    if elderly:
        note = tr("ticket.priority.elderly_auto_code" if by_code else "ticket.priority.elderly_auto")
    else:
        note = tr("ticket.priority.elderly_hint" if reader_ready else "ticket.priority.elderly_no_reader")
    return {
        "prompt": tr("ticket.priority.elderly_prompt" if elderly else "ticket.priority.prompt"),
        "priorities": options,
        "others": tr("ticket.priority.others") if elderly else "",
        "note": note,
        "verify": tr("ticket.priority.verify"),
        "scan_code": "" if identified else tr("ticket.priority.scan_code"),
    }


def identify_methods(tr: Tr, reader_ready: bool) -> list[dict[str, Any]]:
    """The ways to identify; the ID card stays listed when its reader is unavailable, disabled and saying so."""
    card: dict[str, Any] = {"id": "card", "label": tr("ticket.identify.card"), "enabled": reader_ready}
    if not reader_ready:
        card["sub"] = tr("ticket.identify.card_unavailable")
    others = [{"id": m, "label": tr(f"ticket.identify.{m}"), "enabled": True} for m in ("qr", "appointment", "skip")]
    return [card, *others]


def appointment_card(appt: Appointment, catalog: Catalog) -> dict[str, Any]:
    """An appointment looked up by its code: service, time slot, whether it was already used."""
    slot = f"{hhmm(appt.slot_start, catalog.hall)}-{hhmm(appt.slot_end, catalog.hall)}"
    name = catalog.service_name(appt.service, appt.service_name)
    return {
        "code": appt.code,
        "service_name": name,
        "slot": slot,
        "checked_in": appt.checked_in,
        "text": catalog.tr("ticket.appointment.found", service=name, slot=slot),
    }


def issued_result(issued: TicketIssued) -> dict[str, Any]:
    """The controller's answer to ticket.issue as the flow keeps it (printed or not is filled in after)."""
    return {
        "ticket": issued.ticket.model_dump(),
        "service_name": issued.service_name,
        "domain_name": issued.domain_name,
        "hall_name": issued.hall_name,
        "waiting_ahead": issued.waiting_ahead,
        "estimated_wait_min": issued.estimated_wait_min,
        "phone_url": issued.phone_url,  # the signed link of the ticket's QR code (kiosk/printing.py)
        "printed": False,
        "print_problem": "",
    }


def ticket_card(result: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """The issued ticket as the done screen shows it (number, service, who is ahead, green channel, print)."""
    t = result["ticket"]
    minutes = result["estimated_wait_min"]
    if minutes is not None:
        ahead = catalog.tr("ticket.done.ahead", n=result["waiting_ahead"], m=int(round(minutes)))
    else:
        ahead = catalog.tr("ticket.done.ahead_unknown", n=result["waiting_ahead"])
    green = t["priority"] != "normal"
    return {
        "code": t["code"],
        "service_name": catalog.service_name(t["service"], result["service_name"]),
        "ahead_text": ahead,
        "waiting_ahead": result["waiting_ahead"],
        "estimated_wait_min": minutes,
        "priority": t["priority"],
        "green": green,
        "green_label": catalog.tr("ticket.done.green") if green else "",
        "printed": result["printed"],
        "print_problem": result["print_problem"],
    }


def search_services(
    services: list[dict[str, Any]], query: str, domains: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Services whose Chinese or English name or id contains the query (case-insensitive), or whose name's
    pinyin initials do (``sb`` finds 社保卡申领); with ``domains``, also every service of a domain so named."""
    q = query.strip().lower()
    if not q:
        return []
    letters = q.isascii() and q.isalpha()

    def hit(name: str, *others: str) -> bool:
        return q in name.lower() or any(q in o.lower() for o in others) or (letters and q in pinyin_initials(name))

    matched = {d["id"] for d in domains or [] if hit(d["name"], d.get("name_en", ""))}
    return [s for s in services if s["domain"] in matched or hit(s["name"], s.get("name_en", ""), s["id"])]


# The first GB2312 code of each pinyin initial: level-1 hanzi (the 3755 common ones) are sorted by pinyin.
_INITIALS = (
    (0xB0A1, "a"), (0xB0C5, "b"), (0xB2C1, "c"), (0xB4EE, "d"), (0xB6EA, "e"), (0xB7A2, "f"), (0xB8C1, "g"),
    (0xB9FE, "h"), (0xBBF7, "j"), (0xBFA6, "k"), (0xC0AC, "l"), (0xC2E8, "m"), (0xC4C3, "n"), (0xC5B6, "o"),
    (0xC5BE, "p"), (0xC6DA, "q"), (0xC8BB, "r"), (0xC8F6, "s"), (0xCBFA, "t"), (0xCDDA, "w"), (0xCEF4, "x"),
    (0xD1B9, "y"), (0xD4D1, "z"),
)  # fmt: skip
_LEVEL1_END = 0xD7F9


def pinyin_initial(ch: str) -> str:
    """The pinyin initial of a common hanzi (社 -> s); a letter or digit stands for itself; else ``?``."""
    if ch.isascii():
        return ch.lower() if ch.isalnum() else "?"
    try:
        raw = ch.encode("gb2312")
    except UnicodeEncodeError:
        return "?"
    code = raw[0] << 8 | raw[1]
    if not _INITIALS[0][0] <= code <= _LEVEL1_END:
        return "?"  # a level-2 hanzi (ordered by radical, not pinyin) or a symbol
    return next(letter for start, letter in reversed(_INITIALS) if code >= start)


def pinyin_initials(text: str) -> str:
    """The pinyin initials of a name: 社保卡申领 -> ``sbksl``."""
    return "".join(pinyin_initial(c) for c in text if not c.isspace())


def hhmm(ts: float, hall: dict[str, Any]) -> str:
    """A timestamp as the hall's local HH:MM."""
    tz = ZoneInfo(hall.get("timezone", "Asia/Shanghai"))
    return dt.datetime.fromtimestamp(ts, tz).strftime("%H:%M")
