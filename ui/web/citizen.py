"""The citizen's side of the web console: a ticket opened from its QR code (no login).

The QR link ``/t/<token>`` carries a token the controller signed for that ticket only (see
hall_bus/controller/ticket_link.py). :class:`CitizenTickets` checks the token with the hall's key
before it asks the bus anything, then reads the ticket (``ticket.get``) and confirms it is the very
ticket the token was made for (the row id, not only the code). A malformed, altered or foreign token
and a ticket that is gone are all the same ``None``: the page says "not found" and nothing more.

:func:`ticket_view` is all a phone ever gets: the ticket code, its service, state, people ahead, the
estimated wait, the window it is called to and its evaluation; never another ticket, a clerk, or
anything personal. :func:`touches` decides which live changes may have moved this ticket.
"""

from __future__ import annotations

from typing import Any

from hall_bus.controller.ticket_link import TicketRef, link_secret, verify
from ui.web.app import WebContext, WebError

EXTRA_KEY = "citizen_tickets"


class CitizenTickets:
    def __init__(self, web: WebContext) -> None:
        self.web = web
        self.hall = web.config.hall_id
        self.secret = link_secret(web.config.data_dir)

    def ref_of(self, token: str) -> TicketRef | None:
        return verify(self.secret, self.hall, token) if len(token) <= 80 else None

    def ticket(self, ref: TicketRef) -> dict[str, Any] | None:
        """``ticket.get`` of the ticket the token names, or ``None`` (gone, or another row)."""
        try:
            status = self.web.call("ticket.get", {"code": ref.code, "day": ref.day})
        except WebError as exc:
            if exc.code == "bus":
                raise
            return None
        if not isinstance(status, dict) or int(status.get("ticket", {}).get("id", -1)) != ref.id:
            return None
        return status

    def evaluation(self, ref: TicketRef) -> dict[str, Any]:
        """``evaluation.get``: ``{"evaluation": {...}, "rateable": bool}`` (empty when the hall rates no one)."""
        try:
            answer = self.web.call("evaluation.get", {"ticket": ref.code, "day": ref.day})
        except WebError as exc:
            if exc.code == "bus":
                raise
            return {}
        return answer if isinstance(answer, dict) else {}

    def view(self, ref: TicketRef, lang: str) -> dict[str, Any] | None:
        status = self.ticket(ref)
        if status is None:
            return None
        evaluation = self.evaluation(ref) if status["ticket"].get("state") == "finished" else {}
        return ticket_view(self.web, status, evaluation, lang)


def citizen_tickets(web: WebContext) -> CitizenTickets:
    found = web.extras.get(EXTRA_KEY)
    if not isinstance(found, CitizenTickets):
        found = web.extras[EXTRA_KEY] = CitizenTickets(web)
    return found


def service_name(web: WebContext, service_id: str, lang: str) -> str:
    try:
        service = web.config.service(service_id)
    except (KeyError, ValueError):
        return service_id
    return service.name_en if lang == "en" and service.name_en else service.name


def ticket_view(web: WebContext, status: dict[str, Any], evaluation: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the phone page shows of one ticket (the only thing it is ever sent)."""
    t = status["ticket"]
    state = str(t.get("state", ""))
    waiting = state == "waiting"
    rated = evaluation.get("evaluation") or {}
    return {
        "code": t.get("code"),
        "day": t.get("day"),
        "service": service_name(web, str(t.get("service", "")), lang),
        "domain": t.get("domain"),
        "state": state,
        "waiting_ahead": int(status.get("waiting_ahead", 0)) if waiting else None,
        "estimated_wait_min": status.get("estimated_wait_min") if waiting else None,
        "window": t.get("window") if state in ("called", "serving", "finished") else None,
        "evaluation": {
            "status": rated.get("status", "none"),
            "level": rated.get("level"),
            "channel": rated.get("channel"),
            "rateable": bool(evaluation.get("rateable")),
        }
        if evaluation
        else None,
    }


def _ticket_code(value: Any) -> str | None:
    if isinstance(value, dict):
        code = value.get("code")
        return code if isinstance(code, str) else None
    return value if isinstance(value, str) else None


def touches(key: str, data: Any, view: dict[str, Any]) -> bool:
    """Whether a live change (``HallLive`` key and data) may have moved the ticket of ``view``: its
    domain's queue, a window it is at or is called to, an event about it."""
    if key == f"queue/{view.get('domain')}":
        return True
    if key.startswith("window/"):
        current = data.get("current") if isinstance(data, dict) else None
        return key == f"window/{view.get('window')}" or _ticket_code(current) == view.get("code")
    if key.startswith("event/") and isinstance(data, dict):
        return _ticket_code(data.get("ticket")) == view.get("code")
    return False
