"""Receipts printed at a window (窗口打印回执): the controller's half of ``printer.print``.

A window's receipt printer is a ``[[devices]]`` entry of kind ``printer`` with ``window = N`` and
``host = "window-N"``; the window host opens it and serves ``printer.print`` on the printer's request
topic (:mod:`hall_bus.hosts.window_host`), as it serves ``pad.evaluate`` for the window's pad. The
controller's ops ``mandate.print`` (the 帮办代办 回执) and ``case.print_receipt`` (the 办件受理回执) make
the document (:mod:`drivers.escpos_docs`), and :class:`WindowPrinters` sends it to the window's host
as the contract's message (:func:`message_of`; the host turns it back with :func:`doc_of`).

The controller never waits for a printer. It has one dispatch thread for the whole hall, and a
printer that hangs (or a window client that asks again and again at a jammed one) must not hold up
a kiosk's ``ticket.issue``. So :meth:`WindowPrinters.submit` refuses at once what it can tell
without asking (``no_printer``; ``printer_offline`` when the host's retained availability says it is
away; ``printer_busy`` while the window's printer still has a job in flight: one job per printer at
a time, which also bounds what a flood of requests can queue), sends ``printer.print`` with
``request_async`` and returns; the op answers ``{queued, job, window, printer}``. When the host
answers, or :data:`PRINT_TIMEOUT_S` passes, the controller publishes the ``print`` event
(``event/print``, :class:`~hall_bus.contracts.devices.PrintOutcome`): ``{job, window, printer,
printed, code, message}``, with the printer's code when not printed (``paper_out``, ``cover_open``,
``printer_offline``, ``printer_timeout``, ``printer_error``, ``printer_busy``) or ``print_unknown``
when the host said nothing in time (the page may or may not have come out: look at the printer
before printing again). Nothing of the citizen is in the event. The event may arrive before the
op's answer: a caller that waits for it notes the events from before it asks (the web console's
:meth:`ui.web.live.HallLive.wait_event`).

Kept once: both ops are journaled (a repeated request, the same client and transaction, gets the
first answer, with the same job id, and never reaches the printer again, also after a restart), and
the host answers a repeated ``printer.print`` transaction from memory. The job id is derived from
the requester and its transaction (:func:`job_id`).

The controller keeps one :class:`WindowPrinters` for every feature (``FeatureContext.printers``), so a
printer has one job in flight at a time, a case receipt or a mandate's.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import logging
import threading
from typing import Any

from devices.config import DeviceConfig
from drivers.escpos_docs import CaseReceiptDoc, ProxyReceiptDoc
from hall_bus.bus import topics
from hall_bus.bus.client import BusClient, BusError, BusTimeout, RequestFailed
from hall_bus.bus.envelope import Envelope
from hall_bus.config import HallConfig
from hall_bus.contracts.base import as_data
from hall_bus.contracts.devices import (
    CaseReceiptPrint,
    PrinterPrint,
    PrinterPrinted,
    PrintOutcome,
    ProxyReceiptPrint,
)
from hall_bus.errors import CodedError

log = logging.getLogger(__name__)

PRINT_TIMEOUT_S = 8.0  # the longest a job waits for the window host's answer (its host gives up after 6 s)
Document = ProxyReceiptDoc | CaseReceiptDoc


class PrintError(CodedError):
    """A receipt not printed at a window; ``code`` says why."""


def window_printers(config: HallConfig) -> dict[int, DeviceConfig]:
    """Window number -> its receipt printer (kind printer, ``window = N``, ``host = "window-N"``)."""
    found: dict[int, DeviceConfig] = {}
    for d in config.devices:
        if d.kind == "printer" and d.window is not None and d.host == f"window-{d.window}":
            found.setdefault(d.window, d)
    return found


def message_of(doc: Document) -> ProxyReceiptPrint | CaseReceiptPrint:
    """A document as the data of ``printer.print`` (times with their offset)."""
    if isinstance(doc, ProxyReceiptDoc):
        return ProxyReceiptPrint(
            kind="proxy_receipt",
            hall_name=doc.hall_name,
            receipt_no=doc.receipt_no,
            service_name=doc.service_name,
            agent_name=doc.agent_name,
            agent_no=doc.agent_no,
            materials=list(doc.materials),
            promised_date=doc.promised_date.isoformat(),
            contact_phone=doc.contact_phone,
            issued_at=doc.issued_at.isoformat(timespec="minutes"),
            qr_url=doc.qr_url,
        )
    return CaseReceiptPrint(
        kind="case_receipt",
        hall_name=doc.hall_name,
        case_no=doc.case_no,
        service_name=doc.service_name,
        code=doc.code,
        accepted_at=doc.accepted_at.isoformat(timespec="minutes"),
        contact_phone=doc.contact_phone,
        qr_url=doc.qr_url,
    )


def doc_of(msg: ProxyReceiptPrint | CaseReceiptPrint, lang: str) -> Document:
    """The document a ``printer.print`` request asks for, in ``lang``."""
    if isinstance(msg, ProxyReceiptPrint):
        return ProxyReceiptDoc(
            hall_name=msg.hall_name,
            receipt_no=msg.receipt_no,
            service_name=msg.service_name,
            agent_name=msg.agent_name,
            agent_no=msg.agent_no,
            materials=tuple(msg.materials),
            promised_date=dt.date.fromisoformat(msg.promised_date),
            contact_phone=msg.contact_phone,
            issued_at=dt.datetime.fromisoformat(msg.issued_at),
            lang=lang,
            qr_url=msg.qr_url,
        )
    return CaseReceiptDoc(
        hall_name=msg.hall_name,
        case_no=msg.case_no,
        service_name=msg.service_name,
        code=msg.code,
        accepted_at=dt.datetime.fromisoformat(msg.accepted_at),
        qr_url=msg.qr_url,
        contact_phone=msg.contact_phone,
        lang=lang,
    )


class WindowPrinters:
    """The windows' receipt printers as the controller reaches them (see the module docstring)."""

    def __init__(self, config: HallConfig, bus: BusClient, timeout_s: float = PRINT_TIMEOUT_S) -> None:
        self.config, self.bus, self.timeout_s = config, bus, timeout_s
        self.printers = window_printers(config)
        self._lock = threading.Lock()
        self._away: set[int] = set()  # windows whose host said offline (its last will)
        self._in_flight: dict[int, str] = {}  # window -> the job its printer is on
        for window in self.printers:
            bus.subscribe(topics.client_availability(config.hall_id, f"window-{window}"), self._availability)

    def _availability(self, topic: str, env: Envelope) -> None:
        window = int(topic.split("/")[-2].removeprefix("window-"))
        with self._lock:
            if env.state == "offline":
                self._away.add(window)
            else:
                self._away.discard(window)

    def submit(self, env: Envelope, window: int, doc: Document) -> tuple[str, str]:
        """Send ``doc`` to ``window``'s printer for the request ``env``, without waiting: ``(job,
        printer id)``, or :class:`PrintError` when it cannot be sent. The ``print`` event tells the end."""
        printer = self.printers.get(window)
        if printer is None:
            raise PrintError("no_printer", f"window {window} has no receipt printer in hall.toml")
        job = job_id(env)
        with self._lock:
            if window in self._away:
                raise PrintError("printer_offline", f"the host of window {window} is offline")
            busy = self._in_flight.get(window)
            if busy is not None:
                raise PrintError("printer_busy", f"{printer.id} is still on job {busy}; nothing sent")
            self._in_flight[window] = job
        request = PrinterPrint(window=window, lang="en" if doc.lang == "en" else "zh", document=message_of(doc))
        try:
            future = self.bus.request_async(
                "printer.print",
                as_data(request),
                timeout=self.timeout_s,
                topic=topics.device_request(self.config.hall_id, printer.id, "printer.print"),
            )
        except Exception:
            self._release(window, job)
            raise
        future.add_done_callback(lambda done: self._ended(job, window, printer.id, done))
        log.info("print job %s queued at %s (window %d)", job, printer.id, window)
        return job, printer.id

    def _release(self, window: int, job: str) -> None:
        with self._lock:
            if self._in_flight.get(window) == job:
                del self._in_flight[window]

    def _ended(self, job: str, window: int, printer: str, done: concurrent.futures.Future[Any]) -> None:
        """The host's answer or the request's expiry (on the bus client's network thread): free the
        printer for the next job and publish the ``print`` event."""
        printed, code, message = False, "print_unknown", ""
        try:
            answer = PrinterPrinted.model_validate(done.result())
            printed, message = answer.printed, f"the printer is {answer.state}"
            code = "" if answer.printed else "printer_error"
        except RequestFailed as exc:
            code, message = exc.code[:64], str(exc)
        except BusTimeout:
            message = f"no answer from the window host in {self.timeout_s:.0f} s"
        except (BusError, ValueError) as exc:
            message = f"{type(exc).__name__}: {exc}"
        self._release(window, job)
        outcome = PrintOutcome(
            job=job, window=window, printer=printer, printed=printed, code=code or None, message=message[:300]
        )
        log.info("print job %s at %s: %s", job, printer, "printed" if printed else code)
        try:
            self.bus.publish_event(topics.event(self.config.hall_id, "print"), "print", as_data(outcome))
        except Exception:  # the job is over either way; a lost event must not keep the printer busy
            log.exception("print event of job %s not published", job)


def job_id(env: Envelope) -> str:
    """A print job's id: the same for the same requester and transaction (a repeated request)."""
    return hashlib.sha256(f"{env.sender}\x00{env.tx}".encode()).hexdigest()[:16]
