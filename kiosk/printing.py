"""Printing the queue ticket at the kiosk, and what the flow does when that fails.

``print_ticket(printer, result, hall)`` returns ``None`` when the ticket printed, otherwise a short
problem code (``paper_out``, ``cover_open``, ``offline``, ``no_printer``, ``failed``): the flow then
shows the number large on the screen and keeps it for staff. It never raises for a printer
problem: a citizen with a ticket number must never see a crash.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from .ports import exception_names, is_offline

log = logging.getLogger(__name__)


def ticket_doc(result: dict, hall: dict) -> Any:
    """The printer document (drivers.escpos_docs.QueueTicketDoc) for an issued ticket."""
    from drivers.escpos_docs import QueueTicketDoc

    t = result["ticket"]
    tz = None
    try:
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(hall.get("timezone", "Asia/Shanghai"))
    except Exception:  # noqa: BLE001 - fall back to the machine's zone
        pass
    issued = dt.datetime.fromtimestamp(t["issued_at"], tz)
    minutes = result.get("estimated_wait_min")
    values = {
        "hall_name": result.get("hall_name") or hall.get("name", ""),
        "ticket": t["code"], "code": t["code"], "number": t["code"], "ticket_code": t["code"],
        "service": result.get("service_name", ""), "service_name": result.get("service_name", ""),
        "domain": result.get("domain_name", ""), "domain_name": result.get("domain_name", ""),
        "waiting_ahead": result.get("waiting_ahead", 0), "ahead": result.get("waiting_ahead", 0),
        "people_ahead": result.get("waiting_ahead", 0),
        "estimated_wait_min": minutes, "wait_minutes": None if minutes is None else int(round(minutes)),
        "issued_at": issued, "time": issued, "priority": t.get("priority", "normal"),
        "green_channel": t.get("priority", "normal") != "normal",
        "day": t.get("day", ""),
    }
    names = {f.name for f in dataclasses.fields(QueueTicketDoc)} if dataclasses.is_dataclass(QueueTicketDoc) else set(values)
    return QueueTicketDoc(**{k: v for k, v in values.items() if k in names})


def problem_of(exc: BaseException) -> str:
    text = f"{getattr(exc, 'code', '')} {getattr(exc, 'reason', '')} {exc}".lower()
    if "paper" in text:
        return "paper_out"
    if "cover" in text:
        return "cover_open"
    if is_offline(exc) or "offline" in text:
        return "offline"
    return "failed"


def print_ticket(printer: Any, result: dict, hall: dict) -> str | None:
    if printer is None:
        return "no_printer"
    try:
        doc = ticket_doc(result, hall)
        printer.print_ticket(doc)
    except Exception as exc:  # noqa: BLE001 - every printer problem becomes a screen message
        problem = problem_of(exc)
        log.warning("ticket %s not printed: %s (%s)", result["ticket"]["code"], problem,
                    "/".join(sorted(exception_names(exc) & {"PrinterNotReady", "DeviceError", "DeviceOffline"})) or type(exc).__name__)
        return problem
    return None
