"""Receipts printed at a window (窗口打印回执): the controller's half of ``printer.print``.

A window's receipt printer is a ``[[devices]]`` entry of kind ``printer`` with ``window = N`` and
``host = "window-N"``; the window host opens it and serves ``printer.print`` on the printer's request
topic (:mod:`hall_bus.hosts.window_host`), as it serves ``pad.evaluate`` for the window's pad. The
controller's ops ``mandate.print`` (the 帮办代办 回执) and ``case.print_receipt`` (the 办件受理回执) make
the document (:mod:`drivers.escpos_docs`), and :class:`WindowPrinters` sends it to the window's host
as the contract's message (:func:`message_of`; the host turns it back with :func:`doc_of`) and waits
for the answer: printed, or the printer's reason passed on with its code (``paper_out``,
``cover_open``, ``printer_offline``, ``printer_timeout``, ``printer_error``).

Kept once: both ops are journaled (a repeated request, the same client and transaction, gets the
first answer and never reaches the printer again), and the host answers a repeated ``printer.print``
transaction from memory.

The wait holds the controller's requests for as long as the printer takes (a receipt is under 1 KB
of ESC/POS and prints in well under a second). A window whose host is known to be away (its client's
retained availability says offline) is refused at once with ``printer_offline``, without asking; a
host that does not answer within :data:`PRINT_TIMEOUT_S` ends the wait with ``print_unknown`` (the
page may or may not have come out: look at the printer before printing again).
"""

from __future__ import annotations

import datetime as dt
import threading

from devices.config import DeviceConfig
from drivers.escpos_docs import CaseReceiptDoc, ProxyReceiptDoc
from hall_bus.bus import topics
from hall_bus.bus.client import BusClient, BusError, BusTimeout, RequestFailed
from hall_bus.bus.envelope import Envelope
from hall_bus.config import HallConfig
from hall_bus.contracts.base import as_data
from hall_bus.contracts.devices import CaseReceiptPrint, PrinterPrint, PrinterPrinted, ProxyReceiptPrint
from hall_bus.errors import CodedError

PRINT_TIMEOUT_S = 8.0  # the longest the controller waits for a window's printer
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
        for window in self.printers:
            bus.subscribe(topics.client_availability(config.hall_id, f"window-{window}"), self._availability)

    def _availability(self, topic: str, env: Envelope) -> None:
        window = int(topic.split("/")[-2].removeprefix("window-"))
        with self._lock:
            if env.state == "offline":
                self._away.add(window)
            else:
                self._away.discard(window)

    def print(self, window: int, doc: Document) -> str:
        """Print ``doc`` at ``window``; the printer's id, or :class:`PrintError` with the reason."""
        printer = self.printers.get(window)
        if printer is None:
            raise PrintError("no_printer", f"window {window} has no receipt printer in hall.toml")
        with self._lock:
            away = window in self._away
        if away:
            raise PrintError("printer_offline", f"the host of window {window} is offline")
        request = PrinterPrint(window=window, lang="en" if doc.lang == "en" else "zh", document=message_of(doc))
        try:
            answer = self.bus.request(
                "printer.print",
                as_data(request),
                timeout=self.timeout_s,
                topic=topics.device_request(self.config.hall_id, printer.id, "printer.print"),
            )
        except RequestFailed as exc:
            raise PrintError(exc.code, f"{printer.id}: {exc}") from None
        except BusTimeout:
            raise PrintError("print_unknown", f"{printer.id} did not answer in {self.timeout_s:.0f} s") from None
        except BusError as exc:
            raise PrintError("print_unknown", f"{printer.id}: {exc}") from None
        if not PrinterPrinted.model_validate(answer).printed:
            raise PrintError("printer_error", f"{printer.id} did not print")
        return printer.id
