"""An ESC/POS printer on our transports, built on python-escpos.

python-escpos builds every command in ``escpos.escpos.Escpos``; a connection class only
implements ``_raw()`` and ``_read()``. Its own ``printer.Serial`` opens ``serial.Serial(port=...)``,
which cannot take pyserial URLs, so this class opens the transport itself:

* serial URLs, pty paths and ``sim://printer`` through :func:`drivers.transport.open_transport`;
* ``tcp://host:9100``: the raw TCP port of network printers (a socket, like ``socket://``);
* ``usb://VID:PID`` (hex) through pyusb, bulk OUT/IN endpoints of the printer interface; a
  pyusb backend can be injected (the tests use :class:`simulators.fake_usb.FakeUsbBackend`).

``status()`` asks ``DLE EOT 1/2/4`` and decodes paper, cover and offline state.

``text()`` is replaced: python-escpos's code-page encoder sends GB18030 only for a string with a
CJK ideograph, so ``text("，。：（）")`` would print '?????'. Here every non-ASCII string goes out as
GB18030 after ``FS &`` (the printer's Chinese mode), and a character GB18030 lacks is an error.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

from escpos.escpos import Escpos

from drivers.errors import FrameError, ReplyTimeout, TransportError, serial_hint
from drivers.transport import open_transport

DLE_EOT = b"\x10\x04"
FS_CHINESE_ON = b"\x1c\x26"


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    paper_out: bool
    paper_near_end: bool
    cover_open: bool

    @property
    def can_print(self) -> bool:
        return self.online and not self.paper_out and not self.cover_open

    @property
    def problem(self) -> str:
        """The code of what stops printing ('' when it can print)."""
        if self.paper_out:
            return "paper_out"
        if self.cover_open:
            return "cover_open"
        if not self.online:
            return "offline"
        return ""


def decode_status(s1: int, s2: int, s4: int) -> PrinterStatus:
    """The answers to ``DLE EOT 1`` (printer), ``2`` (offline cause) and ``4`` (paper sensor)."""
    for b in (s1, s2, s4):
        _check_status_byte(b, bytes([b]))
    return PrinterStatus(
        online=not (s1 & 0x08),
        cover_open=bool(s2 & 0x04),
        paper_out=bool(s4 & 0x60) or bool(s2 & 0x20),
        paper_near_end=bool(s4 & 0x0C),
    )


def _check_status_byte(b: int, raw: bytes) -> int:
    if b & 0x81 or (b & 0x12) != 0x12:
        raise FrameError("not an ESC/POS status byte (bits 1 and 4 must be set, 0 and 7 clear)", raw)
    return b


class _UsbLink:
    """Bulk endpoints of a USB printer through pyusb."""

    def __init__(self, vid: int, pid: int, backend: Any = None, timeout_ms: int = 2000) -> None:
        import usb.core
        import usb.util

        try:
            dev = usb.core.find(idVendor=vid, idProduct=pid, backend=backend)
        except usb.core.NoBackendError:
            raise TransportError(
                f"usb://{vid:04x}:{pid:04x}", "no USB backend: install libusb-1.0 (apt install libusb-1.0-0)"
            ) from None
        if dev is None:
            raise TransportError(f"usb://{vid:04x}:{pid:04x}", "no such USB device (unplugged?)")
        try:
            dev.set_configuration()
        except usb.core.USBError:
            pass  # already configured
        intf = dev.get_active_configuration()[(0, 0)]

        def direction(e: Any) -> Any:
            return usb.util.endpoint_direction(e.bEndpointAddress)

        self.out_ep = usb.util.find_descriptor(intf, custom_match=lambda e: direction(e) == usb.util.ENDPOINT_OUT)
        self.in_ep = usb.util.find_descriptor(intf, custom_match=lambda e: direction(e) == usb.util.ENDPOINT_IN)
        if self.out_ep is None:
            raise TransportError(f"usb://{vid:04x}:{pid:04x}", "no bulk OUT endpoint: not a printer interface")
        self.dev, self.timeout_ms = dev, timeout_ms

    def write(self, data: bytes) -> None:
        self.out_ep.write(data, self.timeout_ms)

    def read(self, n: int, timeout_s: float) -> bytes:
        import usb.core

        if self.in_ep is None:
            return b""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                got = bytes(self.in_ep.read(max(n, self.in_ep.wMaxPacketSize), 100))
            except usb.core.USBTimeoutError:
                continue
            if got:
                return got[:n]
        return b""

    def drain(self) -> None:
        """Drop bytes waiting on bulk IN (a late answer to an earlier query)."""
        import usb.core

        if self.in_ep is None:
            return
        for _ in range(64):
            try:
                if not self.in_ep.read(self.in_ep.wMaxPacketSize, 1):
                    return
            except usb.core.USBTimeoutError:
                return

    def close(self) -> None:
        try:
            import usb.util

            usb.util.dispose_resources(self.dev)
        except (ImportError, OSError):  # interpreter shutting down, or the device is gone
            pass


class _SerialLink:
    def __init__(self, url: str, baudrate: int, timeout: float) -> None:
        target = "socket://" + url[len("tcp://") :] if url.startswith("tcp://") else url
        try:
            self.port = open_transport(target, baudrate=baudrate, timeout=timeout)
        except TransportError as exc:
            if target == url:
                raise
            raise TransportError(url, exc.reason.replace(target, url)) from None

    def write(self, data: bytes) -> None:
        self.port.write(data)
        self.port.flush()

    def read(self, n: int, timeout_s: float) -> bytes:
        self.port.timeout = timeout_s
        return self.port.read(n)

    def drain(self) -> None:
        """Drop bytes waiting in the input (a late answer to an earlier query)."""
        self.port.reset_input_buffer()

    def close(self) -> None:
        self.port.close()


class EscposPrinter(Escpos):  # type: ignore[misc]  # python-escpos ships no type stubs
    """python-escpos's command set over a HallKit transport (see module docstring)."""

    def __init__(
        self,
        url: str,
        baudrate: int = 115200,
        timeout: float = 1.0,
        usb_backend: Any = None,
        profile: str = "TM-T88V",
        width_dots: int | None = None,
        dpi: int = 203,
    ) -> None:
        super().__init__(profile=profile)
        if width_dots:  # our model profile knows the paper; python-escpos uses it to centre images
            data = copy.deepcopy(self.profile.profile_data)  # the class-level dict is shared by all printers
            data.setdefault("media", {})["dpi"] = dpi
            data["media"]["width"] = {"mm": round(width_dots * 25.4 / dpi), "pixels": width_dots}
            self.profile.profile_data = data
        self.url = url
        self.timeout = timeout
        if url.startswith("usb://"):
            try:
                vid, pid = (int(x, 16) for x in url[len("usb://") :].split("?")[0].split(":"))
            except ValueError:
                raise TransportError(url, "expected usb://VID:PID in hex, e.g. usb://0416:5011") from None
            self.link: _UsbLink | _SerialLink | None = _UsbLink(vid, pid, usb_backend)
        else:
            self.link = _SerialLink(url, baudrate, timeout)

    @property
    def _link(self) -> _UsbLink | _SerialLink:
        if self.link is None:
            raise TransportError(self.url, "printer closed")
        return self.link

    def _raw(self, msg: bytes) -> None:
        try:
            self._link.write(bytes(msg))
        except OSError as exc:
            raise TransportError(self.url, f"write failed: {exc}") from None

    def text(self, txt: str) -> None:
        """Print text; non-ASCII as GB18030 in the Chinese mode (see the module docstring)."""
        txt = str(txt)
        if txt.isascii():
            self._raw(txt.encode("ascii"))
            return
        try:
            raw = txt.encode("gb18030")
        except UnicodeEncodeError as exc:
            raise ValueError(f"cannot print {txt[exc.start : exc.end]!r}: not in GB18030") from None
        self._raw(FS_CHINESE_ON + raw)

    def _read(self) -> bytes:
        return self._link.read(1, self.timeout)

    def close(self) -> None:
        link, self.link = getattr(self, "link", None), None
        if link is not None:
            link.close()

    def query(self, n: int) -> int:
        """One DLE EOT n exchange; the status byte."""
        self._raw(DLE_EOT + bytes([n]))
        got = self._link.read(1, self.timeout)
        if not got:
            raise ReplyTimeout(f"no answer to DLE EOT {n}", DLE_EOT + bytes([n]), hint=serial_hint(b"", "printer"))
        return _check_status_byte(got[0], got)

    def status(self) -> PrinterStatus:
        # A reply that came after its query timed out would be read as the answer to the next
        # one and shift every status byte by one: start from an empty input.
        try:
            self._link.drain()
        except OSError as exc:
            raise TransportError(self.url, f"read failed: {exc}") from None
        s1, s2, s4 = self.query(1), self.query(2), self.query(4)
        return decode_status(s1, s2, s4)

    def send(self, document: bytes) -> None:
        """Send a whole document built by drivers.escpos_docs."""
        self._raw(document)
