"""Printing the queue ticket at the kiosk, and what the flow does when that fails.

``print_ticket(printer, result, hall)`` returns ``None`` when the ticket printed, otherwise a short
problem code (``paper_out``, ``cover_open``, ``offline``, ``no_printer``, ``failed``): the flow then
shows the number large on the screen and keeps it for staff. It never raises for a printer
problem: a citizen with a ticket number must never see a crash.

The ticket's QR code is the signed phone link the controller answered ``ticket.issue`` with
(``phone_url``: ``<[web] public_url>t/<token>``, see hall_bus/controller/ticket_link.py). The kiosk
holds no key and builds no URL of its own; an answer without a link (a controller older than the
phone page) prints the ticket code in the QR, which opens nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from devices.base import DeviceFault
from drivers.escpos_docs import QueueTicketDoc
from kiosk.clock import hall_time
from kiosk.ports import is_offline

log = logging.getLogger(__name__)


def qr_text(result: dict[str, Any]) -> str:
    """What the ticket's QR code holds: the signed phone link, else the bare ticket code."""
    return str(result.get("phone_url") or result["ticket"]["code"])


def ticket_doc(result: dict[str, Any], hall: dict[str, Any], lang: str = "zh") -> Any:
    """The printer document (drivers.escpos_docs.QueueTicketDoc) for an issued ticket."""
    t = result["ticket"]
    return QueueTicketDoc(
        hall_name=result.get("hall_name") or hall.get("name", ""),
        code=t["code"],
        service_name=result.get("service_name", ""),
        domain_name=result.get("domain_name", ""),
        waiting_ahead=int(result.get("waiting_ahead", 0)),
        estimated_wait_min=result.get("estimated_wait_min"),
        issued_at=hall_time(hall, t["issued_at"]),  # the hall's clock, not the kiosk machine's
        qr_url=qr_text(result),
        priority=t.get("priority", "normal"),
        lang=lang,
    )


def problem_of(exc: BaseException) -> str:
    """The printer's problem code (``PrinterNotReady.code``), ``offline`` when it is gone, else ``failed``."""
    code = exc.code if isinstance(exc, DeviceFault) else ""
    if code in ("paper_out", "cover_open", "offline"):
        return code
    if is_offline(exc):
        return "offline"
    return "failed"


def print_ticket(printer: Any, result: dict[str, Any], hall: dict[str, Any], lang: str = "zh") -> str | None:
    if printer is None:
        return "no_printer"
    try:
        doc = ticket_doc(result, hall, lang)
        printer.print_ticket(doc)
    except Exception as exc:
        problem = problem_of(exc)
        log.warning("ticket %s not printed: %s (%r)", result["ticket"]["code"], problem, exc)
        return problem
    return None
