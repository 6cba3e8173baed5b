"""A receipt printer (the kiosk's, or a window's) as a device: documents in, printed (or a clear reason why not).

Before each document the printer's status is read (``DLE EOT``); paper out, cover open or offline
raise :class:`PrinterNotReady` with that code so the kiosk flow can tell the citizen and show the
ticket on screen instead. After the document the status is read again: paper running out during
a ticket is reported the same way. A ticket is never silently lost. Paper near end keeps the device
DEGRADED (it prints, the manager is warned through the device state on the bus).
"""

from __future__ import annotations

from typing import Any

from devices.base import Device, DeviceFault, DeviceState, DriverSlot, NotSupported
from devices.config import DeviceConfig
from devices.factory import register_kind
from drivers import escpos_docs as docs
from drivers.escpos_printer import EscposPrinter, PrinterStatus


class PrinterNotReady(DeviceFault):
    """The printer cannot print now; ``code`` is paper_out, cover_open or offline."""


MESSAGES = {
    "paper_out": "打印纸用完 (paper out)",
    "cover_open": "打印机盖未关 (cover open)",
    "offline": "打印机离线 (offline)",
}


class ReceiptPrinter(Device):
    kind = "printer"

    def __init__(self, config: DeviceConfig, usb_backend: Any = None) -> None:
        self.last_status: PrinterStatus | None = None  # before the base publishes its first status
        self.link: DriverSlot[EscposPrinter] = DriverSlot(config.id)
        super().__init__(config)
        self.usb_backend = usb_backend
        self.columns = int(self.profile.get("chars_per_line", 48))
        self.qr_module = int(self.profile.get("qr_module", 6))
        self.four_byte_font = self.profile.supports("gb18030-4byte")  # the font has GB18030's 4-byte characters

    def _open_driver(self) -> None:
        baud = int(self.config.options.get("baudrate", self.profile.get("baudrate", 115200)))
        self.link.value = EscposPrinter(
            self.config.url,
            baudrate=baud,
            usb_backend=self.usb_backend,
            width_dots=int(self.profile.get("width_dots", 576)),
        )

    @property
    def driver(self) -> EscposPrinter:
        """The open printer (DeviceOffline before the device was opened)."""
        return self.link.get()

    def _close_driver(self) -> None:
        self.link.close()

    def _probe(self) -> None:
        self._read_status()

    def _sticky_degraded(self) -> bool:
        return bool(self.last_status and self.last_status.paper_near_end)

    def _read_status(self) -> PrinterStatus:
        st = self.driver.status()
        self.last_status = st
        self.set_state(DeviceState.READY)  # mapped to what the status allows, below
        return st

    @staticmethod
    def _state_of(st: PrinterStatus) -> tuple[DeviceState, str]:
        if not st.can_print:
            return DeviceState.ERROR, MESSAGES[st.problem]
        if st.paper_near_end:
            return DeviceState.DEGRADED, "打印纸将尽 (paper near end)"
        return DeviceState.READY, ""

    def set_state(self, state: DeviceState, detail: str = "") -> None:
        """READY only when the last status allows printing: a printer that answers with paper out
        is ERROR, never READY for a moment (the base class sets READY after any answer)."""
        if state == DeviceState.READY and self.last_status is not None:
            state, detail = self._state_of(self.last_status)
        super().set_state(state, detail)

    def status(self) -> dict[str, Any]:
        out = super().status()
        if self.last_status:
            s = self.last_status
            out.update(paper_out=s.paper_out, paper_near_end=s.paper_near_end, cover_open=s.cover_open, online=s.online)
        return out

    def refresh(self) -> PrinterStatus:
        return self.guard(self._read_status)

    def _print(self, document: bytes, what: str) -> None:
        def run() -> None:
            before = self._read_status()
            if not before.can_print:
                raise PrinterNotReady(self.id, before.problem, f"{what} not printed: {MESSAGES[before.problem]}")
            self.driver.send(document)
            after = self._read_status()
            if not after.can_print:
                raise PrinterNotReady(self.id, after.problem, f"{what} may be incomplete: {MESSAGES[after.problem]}")

        self.guard(run)

    def on_fault(self, err: DeviceFault) -> None:
        pass  # the state was set from the status already

    def print_ticket(self, doc: docs.QueueTicketDoc) -> None:
        if not self.profile.supports("qr"):
            raise NotSupported(self.id, f"profile {self.profile.name} has no native QR")
        self._print(
            docs.queue_ticket(doc, self.columns, self.qr_module, self.profile.supports("cut"), self.four_byte_font),
            f"ticket {doc.code}",
        )

    def print_pickup_slip(self, doc: docs.PickupSlipDoc) -> None:
        self._print(
            docs.pickup_slip(doc, self.columns, self.profile.supports("cut"), self.four_byte_font),
            f"pickup slip {doc.case_no}",
        )

    def print_proxy_receipt(self, doc: docs.ProxyReceiptDoc) -> None:
        self._print(
            docs.proxy_receipt(doc, self.columns, self.profile.supports("cut"), self.four_byte_font),
            f"receipt {doc.receipt_no}",
        )

    def print_case_receipt(self, doc: docs.CaseReceiptDoc) -> None:
        if doc.qr_url and not self.profile.supports("qr"):
            raise NotSupported(self.id, f"profile {self.profile.name} has no native QR")
        self._print(
            docs.case_receipt(doc, self.columns, self.profile.supports("cut"), self.four_byte_font, self.qr_module),
            f"case receipt {doc.case_no}",
        )


register_kind("printer", ReceiptPrinter)
