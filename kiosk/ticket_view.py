"""What the ticket screens show: the hall's domains and services, an appointment, an issued ticket.

No state here: :class:`Catalog` reads the controller's ``hall.info`` (as ``ctx.hall``) in one
language, and the functions turn an appointment or an issue answer into the dict a screen draws.
:class:`kiosk.ticket_flow.TicketFlow` holds the journey and calls these for its :meth:`view`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from hall_bus.contracts.queue import Appointment
from kiosk.i18n import name_of, tr


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

    def is_open(self, service: dict[str, Any]) -> bool:
        """Self-service is always open; a window service only while the hall is."""
        return bool(service.get("self_service")) or bool(self.hall.get("open_now", True))

    def closed_message(self, service: dict[str, Any]) -> str:
        return self.tr("ticket.closed", service=name_of(service, self.lang), hours=self.hall.get("hours_today", ""))

    def service_name(self, service_id: str, fallback: str) -> str:
        s = self.service(service_id)
        return name_of(s, self.lang) if s else fallback

    def domain_name(self, domain_id: str | None) -> str:
        dom = next((d for d in self.domains if d["id"] == domain_id), {"name": ""})
        return name_of(dom, self.lang)

    def domain_views(self, snapshot: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """The domain tiles, with waiting counts when the queue snapshot has them."""
        return [
            {
                "id": d["id"],
                "label": name_of(d, self.lang),
                "waiting": snapshot.get(d["id"], {}).get("waiting"),
                "estimated_wait_min": snapshot.get(d["id"], {}).get("estimated_wait_min"),
            }
            for d in self.domains
        ]

    def service_view(self, s: dict[str, Any]) -> dict[str, Any]:
        open_ = self.is_open(s)
        sub = ""
        if not open_:
            sub = self.tr("ticket.service.closed")
        elif s.get("self_service"):
            sub = self.tr("ticket.service.self")
        return {
            "id": s["id"],
            "label": name_of(s, self.lang),
            "open": open_,
            "sub": sub,
            "self_service": bool(s.get("self_service")),
        }

    def search_view(self, query: str) -> dict[str, Any]:
        """The search results under the domain tiles, with their caption."""
        results = [self.service_view(x) for x in search_services(self.services, query)]
        label = self.tr("ticket.search.results", n=len(results)) if results else self.tr("ticket.search.none", q=query)
        return {"results": results, "results_label": label}


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


def search_services(services: list[dict[str, Any]], query: str) -> list[dict[str, Any]]:
    """Services whose Chinese or English name or id contains the query (case-insensitive)."""
    q = query.strip().lower()
    if not q:
        return []
    return [s for s in services if q in s["name"].lower() or q in s.get("name_en", "").lower() or q in s["id"].lower()]


def hhmm(ts: float, hall: dict[str, Any]) -> str:
    """A timestamp as the hall's local HH:MM."""
    tz = ZoneInfo(hall.get("timezone", "Asia/Shanghai"))
    return dt.datetime.fromtimestamp(ts, tz).strftime("%H:%M")
