"""The documents HallKit prints, as ESC/POS bytes: queue ticket, pickup slip (取件凭条),
proxy-service receipt (帮办代办委托单回执) and case acceptance receipt (办件受理回执). Chinese first;
laid out for 80 mm (48 columns) or 58 mm (32 columns).

Text and native QR only (``GS ( k``), so a ticket stays well under 1 KB and prints in tens of
milliseconds even on a 9600-baud serial line. Chinese is sent as GB18030 inside the printer's
double-byte mode (``FS &``), punctuation included, so ，。：（）never turn into '?'.

Widths are counted in printer columns (``printer_columns``), not by Unicode's East-Asian width: in
``FS &`` mode every non-ASCII character is a double-byte (or four-byte) GB18030 code that the printer
draws with its full-width Chinese font, so ``—`` ``·`` ``…`` ``“”`` ``°`` ``×`` ``①`` (East-Asian
"ambiguous", one column in a terminal) take two columns on paper. The printer fonts of the generic
profiles are GB2312/GBK fonts without GB18030's four-byte characters: ``printable`` writes ``¥12``
as ``12元`` and any other ``¥`` as ``RMB``, and a four-byte character with no substitute as ``〓``
(the typesetter's mark for a missing glyph), unless the profile says the font has them.
The commands themselves come from python-escpos (``Escpos.set``, ``qr(native=True)``, ``cut``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from escpos.escpos import Escpos

FS_CHINESE_ON = b"\x1c\x26"
FS_CHINESE_OFF = b"\x1c\x2e"
ESC_INIT = b"\x1b\x40"
MAX_TICKET_BYTES = 1024


class _Buffer(Escpos):  # type: ignore[misc]  # python-escpos ships no type stubs
    """Collects the bytes python-escpos produces."""

    def __init__(self) -> None:
        super().__init__(profile="TM-T88V")
        self.data = bytearray()

    def _raw(self, msg: bytes) -> None:
        self.data += msg


def printer_columns(text: str) -> int:
    """Columns a string takes in font A in the Chinese mode: ASCII one, everything else two (each
    non-ASCII character is one GB18030 code the printer draws full width)."""
    return sum(1 if ord(c) < 0x80 else 2 for c in text)


MISSING_GLYPH = "〓"  # GB2312 A1FA: what Chinese typesetting prints for a character the font lacks
_YUAN = re.compile(r"¥\s*(\d[\d,]*(?:\.\d+)?)")


def is_four_byte(ch: str) -> bool:
    """A character GB18030 encodes in four bytes (outside GBK): fonts of GB2312/GBK printers lack it."""
    try:
        return len(ch.encode("gb18030")) == 4
    except UnicodeEncodeError:
        return False


def printable(text: str, four_byte_font: bool = False) -> str:
    """Text as a printer whose font has (or lacks) GB18030's four-byte characters can print it:
    ``¥12.50`` -> ``12.50元``, any other ``¥`` -> ``RMB``, other four-byte characters -> ``〓``."""
    if four_byte_font:
        return text
    text = _YUAN.sub(r"\1元", text).replace("¥", "RMB")
    return "".join(MISSING_GLYPH if is_four_byte(c) else c for c in text)


def encode_text(text: str) -> bytes:
    """GB18030 for everything (ASCII stays ASCII); a character GB18030 lacks is an error, never '?'."""
    return text.encode("gb18030")


def wrap(text: str, width: int) -> list[str]:
    """Break text into lines of at most ``width`` columns: CJK anywhere (but not before closing
    punctuation, and after a pause such as ， when one is in the second half of the line), Latin
    words at spaces where possible."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        if current and printer_columns(current + token) > width:
            # prefer a break after a pause (，；。 or a space) in the second half of the line
            soft = -1
            for pauses in (_PAUSES, " "):  # punctuation first, a space only when there is none
                soft = max(
                    (
                        i
                        for i, ch in enumerate(current)
                        if ch in pauses and printer_columns(current[: i + 1]) * 2 >= width
                    ),
                    default=-1,
                )
                if soft >= 0:
                    break
            if soft >= 0 and soft < len(current) - 1:
                lines.append(current[: soft + 1].rstrip())
                current = current[soft + 1 :].lstrip() + token
            else:
                lines.append(current.rstrip())
                current = token.lstrip()
        else:
            current += token
        while printer_columns(current) > width:  # a single token longer than a line
            cut = 0
            while printer_columns(current[: cut + 1]) <= width:
                cut += 1
            lines.append(current[:cut])
            current = current[cut:]
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


_PAUSES = set("，；。、：！？,;")
_CLOSING = set("，。、；：？！）」』》”’,.;:?!)")


def _tokens(text: str) -> list[str]:
    """Latin words with their trailing space; single CJK characters with any closing punctuation."""
    out: list[str] = []
    for ch in text:
        last = out[-1][-1:] if out else ""
        latin_run = ch.isascii() and not ch.isspace() and last.isascii() and not last.isspace()
        if out and (ch in _CLOSING or latin_run) or out and ch == " " and out[-1][-1:].isascii():
            out[-1] += ch
        else:
            out.append(ch)
    return out


ALIGN = {"left": 0, "center": 1, "right": 2}


class Layout:
    """A small builder for our documents.

    Styles are sent only when they change (``ESC a``, ``ESC E``, ``GS !``), which keeps a ticket
    small. Sizes always go through ``GS !``: on Epson-compatible Chinese printers ``ESC !`` (what
    python-escpos's ``set(normal_textsize=True)`` sends) resets only the Latin size, so Chinese text
    after a large ticket number would stay large; ``GS ! 0`` resets both.
    """

    def __init__(self, columns: int = 48, four_byte_font: bool = False) -> None:
        self.columns = columns
        self.four_byte_font = four_byte_font
        self.p = _Buffer()
        self.p._raw(ESC_INIT + FS_CHINESE_ON)
        self.align, self.bold, self.size = "left", False, 1  # the state after ESC @

    def style(self, align: str = "left", bold: bool = False, size: int = 1) -> Layout:
        if align not in ALIGN:
            raise ValueError(f"align must be one of {', '.join(ALIGN)}, not {align!r}")
        size = max(1, min(size, 8))
        if align != self.align:
            self.p._raw(b"\x1ba" + bytes([ALIGN[align]]))
        if bold != self.bold:
            self.p._raw(b"\x1bE" + bytes([int(bold)]))
        if size != self.size:
            self.p._raw(b"\x1d!" + bytes([(size - 1) << 4 | (size - 1)]))
        self.align, self.bold, self.size = align, bold, size
        return self

    def line(self, text: str = "", align: str = "left", bold: bool = False, size: int = 1) -> Layout:
        self.style(align, bold, size)
        for part in wrap(printable(text, self.four_byte_font), self.columns // self.size):
            self.p._raw(encode_text(part) + b"\n")
        return self

    def pair(self, left: str, right: str) -> Layout:
        left, right = printable(left, self.four_byte_font), printable(right, self.four_byte_font)
        gap = max(1, self.columns - printer_columns(left) - printer_columns(right))
        return self.line(left + " " * gap + right)

    def rule(self, char: str = "-") -> Layout:
        return self.line(char * (self.columns // printer_columns(char)))

    def qr(self, content: str, module: int = 6) -> Layout:
        self.style(align="center")
        self.p.qr(content, native=True, size=module, ec=0)  # GS ( k: model 2, module size, EC L, store, print
        return self

    def feed(self, lines: int = 1) -> Layout:
        self.p._raw(b"\n" * lines)
        return self

    def finish(self, cut: bool = True) -> bytes:
        self.style()
        if cut:
            self.p.cut()
        else:
            self.p._raw(b"\n\n\n\n")
        self.p._raw(FS_CHINESE_OFF)
        return bytes(self.p.data)


PRIORITY_LABELS = {
    "elderly": ("绿色通道·长者", "Green channel: senior"),
    "disabled": ("绿色通道·残障", "Green channel: disability"),
    "pregnant": ("绿色通道·孕妇", "Green channel: pregnancy"),
    "military": ("绿色通道·军人", "Green channel: service member"),
}


@dataclass(frozen=True)
class QueueTicketDoc:
    hall_name: str
    code: str
    service_name: str
    domain_name: str
    waiting_ahead: int
    estimated_wait_min: float | None
    issued_at: dt.datetime
    qr_url: str
    priority: str = "normal"
    lang: str = "zh"  # zh | en


@dataclass(frozen=True)
class PickupSlipDoc:
    hall_name: str
    case_no: str
    item_name: str
    compartment: str  # number and position, e.g. "A-07 (A列第3格)"
    collected_at: dt.datetime
    id_masked: str = ""  # e.g. 1101**********123X; never the full number
    lang: str = "zh"


@dataclass(frozen=True)
class ProxyReceiptDoc:
    """帮办代办委托单回执: the receipt a citizen keeps when staff handle a matter on their behalf."""

    hall_name: str
    receipt_no: str
    service_name: str
    agent_name: str  # the clerk (帮办员), masked if needed by the caller
    agent_no: str
    materials: tuple[str, ...]
    promised_date: dt.date
    contact_phone: str  # the hall's phone, not the citizen's; "" leaves the line out
    issued_at: dt.datetime
    lang: str = "zh"
    qr_url: str = ""  # the signed link to follow the mandate on a phone; "" prints no QR


@dataclass(frozen=True)
class CaseReceiptDoc:
    """办件受理回执: the receipt of a case accepted at a window, with its verification code (查询码)
    and a QR code of the phone page that asks for it. The QR holds the page and the case number only,
    never the code: a photo of the QR alone opens nothing. Nothing of the citizen is on it."""

    hall_name: str
    case_no: str
    service_name: str
    code: str  # as printed: ABCD-EFGH
    accepted_at: dt.datetime
    qr_url: str  # the phone page (``<public_url>case?no=<case_no>``); "" prints no QR
    contact_phone: str = ""  # the hall's phone; "" leaves the line out
    lang: str = "zh"


def queue_ticket(
    doc: QueueTicketDoc, columns: int = 48, qr_module: int = 6, cut: bool = True, four_byte_font: bool = False
) -> bytes:
    zh = doc.lang != "en"
    lay = Layout(columns, four_byte_font)
    lay.line(doc.hall_name, align="center", bold=True)
    lay.line("排队凭条" if zh else "Queue ticket", align="center")
    lay.rule()
    lay.line(doc.code, align="center", bold=True, size=4 if columns >= 48 else 3)
    lay.line(doc.service_name, align="center", bold=True)
    lay.line(f"（{doc.domain_name}）" if zh else f"({doc.domain_name})", align="center")
    if doc.priority in PRIORITY_LABELS:
        lay.line(PRIORITY_LABELS[doc.priority][0 if zh else 1], align="center", bold=True)
    if doc.estimated_wait_min is None:
        wait_zh, wait_en = "", ""
    else:
        wait_zh, wait_en = (
            f"，预计约 {round(doc.estimated_wait_min)} 分钟",
            f", about {round(doc.estimated_wait_min)} min",
        )
    if doc.waiting_ahead <= 0:
        lay.line("前面无人等候，请留意叫号" if zh else "No one ahead: watch for your call", align="center")
    else:
        lay.line(
            f"前面还有 {doc.waiting_ahead} 人等候{wait_zh}" if zh else f"{doc.waiting_ahead} people ahead{wait_en}",
            align="center",
        )
    lay.line(doc.issued_at.strftime("%Y-%m-%d %H:%M"), align="center")
    lay.qr(doc.qr_url, qr_module)
    lay.line("扫码查看排队进度" if zh else "Scan to follow the queue", align="center")
    lay.rule()
    lay.line(
        "过号请重新取号；本凭条不含个人信息。"
        if zh
        else "Missed your call? Take a new ticket. No personal data on this ticket.",
        align="center",
    )
    out = lay.finish(cut)
    if len(out) > MAX_TICKET_BYTES:
        raise ValueError(f"ticket {doc.code} would be {len(out)} bytes of ESC/POS (limit {MAX_TICKET_BYTES})")
    return out


def pickup_slip(doc: PickupSlipDoc, columns: int = 48, cut: bool = True, four_byte_font: bool = False) -> bytes:
    zh = doc.lang != "en"
    lay = Layout(columns, four_byte_font)
    lay.line(doc.hall_name, align="center", bold=True)
    lay.line("24小时自助取件凭条" if zh else "24-hour pickup slip", align="center", bold=True)
    lay.rule()
    lay.pair("办件编号：" if zh else "Case:", doc.case_no)
    lay.pair("取件物品：" if zh else "Item:", doc.item_name)
    lay.pair("柜格：" if zh else "Compartment:", doc.compartment)
    if doc.id_masked:
        lay.pair("证件号码：" if zh else "ID:", doc.id_masked)
    lay.pair("取件时间：" if zh else "Collected:", doc.collected_at.strftime("%Y-%m-%d %H:%M"))
    lay.rule()
    lay.line(
        "请核对物品，如有疑问请咨询服务台。"
        if zh
        else "Please check your item; ask at the service desk if anything is wrong.",
        align="center",
    )
    return lay.finish(cut)


def proxy_receipt(
    doc: ProxyReceiptDoc, columns: int = 48, cut: bool = True, four_byte_font: bool = False, qr_module: int = 0
) -> bytes:
    """The 回执; with ``qr_url`` also its QR code (module ``qr_module`` dots, by default 6 on 80 mm
    and 4 on 58 mm) and the line saying what it is for."""
    zh = doc.lang != "en"
    lay = Layout(columns, four_byte_font)
    lay.line(doc.hall_name, align="center", bold=True)
    lay.line("帮办代办委托单回执" if zh else "Proxy service receipt", align="center", bold=True)
    lay.rule()
    lay.pair("回执编号：" if zh else "Receipt:", doc.receipt_no)
    lay.pair("办理事项：" if zh else "Service:", doc.service_name)
    lay.pair(
        "帮办人员：" if zh else "Handled by:",
        f"{doc.agent_name}（{doc.agent_no}）" if zh else f"{doc.agent_name} ({doc.agent_no})",
    )
    lay.line("已收材料：" if zh else "Materials received:")
    for i, m in enumerate(doc.materials, 1):
        lay.line(f"  {i}. {m}")
    lay.pair("承诺办结：" if zh else "Done by:", doc.promised_date.isoformat())
    if doc.contact_phone:
        lay.pair("咨询电话：" if zh else "Phone:", doc.contact_phone)
    lay.pair("受理时间：" if zh else "Accepted:", doc.issued_at.strftime("%Y-%m-%d %H:%M"))
    if doc.qr_url:
        lay.qr(doc.qr_url, qr_module or (6 if columns >= 48 else 4))
        lay.line("扫码查看办理进度" if zh else "Scan to follow its progress", align="center")
    lay.rule()
    lay.line(
        "请妥善保管本回执，凭回执查询或领取。" if zh else "Keep this receipt to check progress or collect.",
        align="center",
    )
    return lay.finish(cut)


def case_receipt(
    doc: CaseReceiptDoc, columns: int = 48, cut: bool = True, four_byte_font: bool = False, qr_module: int = 0
) -> bytes:
    """The 受理回执: case number, service, time, the verification code large, and the phone page's QR
    (module ``qr_module`` dots, by default 6 on 80 mm and 4 on 58 mm)."""
    zh = doc.lang != "en"
    lay = Layout(columns, four_byte_font)
    lay.line(doc.hall_name, align="center", bold=True)
    lay.line("办件受理回执" if zh else "Case acceptance receipt", align="center", bold=True)
    lay.rule()
    lay.pair("办件编号：" if zh else "Case:", doc.case_no)
    if doc.service_name:
        lay.pair("办理事项：" if zh else "Service:", doc.service_name)
    lay.pair("受理时间：" if zh else "Accepted:", doc.accepted_at.strftime("%Y-%m-%d %H:%M"))
    if doc.contact_phone:
        lay.pair("咨询电话：" if zh else "Phone:", doc.contact_phone)
    lay.rule()
    lay.line("查询码" if zh else "Verification code", align="center")
    lay.line(doc.code, align="center", bold=True, size=2)
    if doc.qr_url:
        lay.qr(doc.qr_url, qr_module or (6 if columns >= 48 else 4))
        lay.line(
            "扫码后输入查询码查看办理进度" if zh else "Scan, then enter the code to follow your case",
            align="center",
        )
    lay.rule()
    lay.line(
        "请妥善保管本回执，凭办件编号和查询码查询进度。"
        if zh
        else "Keep this receipt: the case number and the code show its progress.",
        align="center",
    )
    return lay.finish(cut)
