"""Conformance checks of the ESC/POS receipt printer: the status queries (``DLE EOT 1..4``,
``GS r 1``, ``GS I``), the paper faults they report, the Chinese mode and a code page, native QR and
the cut. The printing checks print a few short lines a technician can look at on the paper; each
then asks ``DLE EOT 3`` (error cause), which must report no error. ``--opt cut=0`` leaves out the
cut on a printer without a cutter.
"""

from __future__ import annotations

from devices.conformance.core import CheckSet, Probe, expect
from drivers import escpos_docs as docs
from drivers.errors import ReplyTimeout, serial_hint
from drivers.escpos_printer import decode_status

CHECKS = CheckSet()
check = CHECKS.check

DLE_EOT = b"\x10\x04"
GS_R = b"\x1dr"
GS_I = b"\x1dI"
ERROR_BITS = {0x08: "autocutter error", 0x20: "unrecoverable error", 0x40: "auto-recoverable error (head hot?)"}


def _ask(p: Probe, command: bytes, what: str) -> int:
    """Send a query and return its one-byte answer."""
    p.port.reset_input_buffer()
    p.port.write(command)
    got = p.port.read(1)
    if not got:
        raise ReplyTimeout(f"no answer to {what}", command, hint=serial_hint(b"", "printer"))
    return got[0]


def _status(p: Probe, n: int) -> int:
    b = _ask(p, DLE_EOT + bytes([n]), f"DLE EOT {n}")
    expect(not b & 0x81 and (b & 0x12) == 0x12, f"DLE EOT {n} answered {b:02x}, not a status byte")
    return b


def _no_error(p: Probe, after: str) -> None:
    s3 = _status(p, 3)
    errors = [what for bit, what in ERROR_BITS.items() if s3 & bit]
    expect(not errors, f"after {after} DLE EOT 3 reports {', '.join(errors)} ({s3:02x})")


@check("printer", "DLE EOT 1, 2, 3 and 4 answer valid status bytes")
def _status_bytes(p: Probe) -> None:
    for n in (1, 2, 3, 4):
        _status(p, n)


@check("printer", "the paper sensors agree: DLE EOT 4, GS r 1, and a paper end stops the printer")
def _paper_sensors(p: Probe) -> None:
    s1, s2, s4 = _status(p, 1), _status(p, 2), _status(p, 4)
    r = _ask(p, GS_R + b"\x01", "GS r 1 (paper sensor)")
    expect(bool(s4 & 0x60) == bool(r & 0x0C), f"roll end: DLE EOT 4 says {s4:02x}, GS r 1 says {r:02x}")
    expect(bool(s4 & 0x0C) == bool(r & 0x03), f"near end: DLE EOT 4 says {s4:02x}, GS r 1 says {r:02x}")
    if s4 & 0x60:
        expect(bool(s2 & 0x20), f"paper end (DLE EOT 4 {s4:02x}) but DLE EOT 2 ({s2:02x}) has no paper-end stop")
        expect(bool(s1 & 0x08), f"paper end (DLE EOT 4 {s4:02x}) but DLE EOT 1 ({s1:02x}) says online")


@check("printer", "ready to print: paper loaded, cover closed, online")
def _ready(p: Probe) -> None:
    status = decode_status(_status(p, 1), _status(p, 2), _status(p, 4))
    expect(not status.paper_out, "paper out: load a roll of paper and close the cover")
    expect(not status.cover_open, "the cover is open: close it")
    expect(status.online, "the printer is offline: check for a paper jam or an error light")


@check("printer", "GS I answers the printer ID and says it prints two-byte (Chinese) characters")
def _printer_id(p: Probe) -> None:
    _ask(p, GS_I + b"\x01", "GS I 1 (model)")
    kind = _ask(p, GS_I + b"\x02", "GS I 2 (type)")
    expect(bool(kind & 0x01), f"GS I 2 answered {kind:02x}: the printer has no two-byte characters (no Chinese)")
    _ask(p, GS_I + b"\x03", "GS I 3 (firmware)")


@check("printer", "Chinese in FS & mode (GB18030) and code page 1252 (ESC t 16) print without an error")
def _code_pages(p: Probe) -> None:
    chinese = docs.encode_text("自检：中文打印，标点“—·…”")
    latin = "Code page 1252: Café, 5 €, ½".encode("cp1252")
    p.port.write(
        docs.ESC_INIT + docs.FS_CHINESE_ON + chinese + b"\n" + docs.FS_CHINESE_OFF + b"\x1bt\x10" + latin + b"\n"
    )
    _no_error(p, "Chinese and code page 1252 text")


@check("printer", "a native QR code (GS ( k) prints without an error")
def _qr(p: Probe) -> None:
    lay = docs.Layout(32)
    lay.qr("HALLKIT-CONFORMANCE", 4)
    p.port.write(lay.finish(cut=False))
    _no_error(p, "a native QR code")


@check("printer", "the cut (GS V) is done without a cutter error (--opt cut=0: no cutter)")
def _cut(p: Probe) -> None:
    if p.options.get("cut", "1") in ("0", "no", "false"):
        return
    p.port.write(b"\n\n\n\x1dVB\x00")
    _no_error(p, "the cut")
