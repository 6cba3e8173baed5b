"""An ESC/POS stream parser: bytes in, pages of printed elements out.

Used by the printer simulator (to render what a real printer would print) and by tests (to check
what a document says). It understands the subset HallKit and common receipt software send:
text (GB18030 inside ``FS &``), ``ESC @``, ``ESC !``, ``ESC E``, ``ESC a``, ``ESC d``, ``ESC t``,
``GS !``, ``GS ( k`` (QR: model, module size, error correction, store, print), ``GS V`` (cut),
``DLE EOT n`` (status query, answered by the caller) and LF. Parsing is incremental: ``feed``
keeps an incomplete command until the rest arrives. An unknown command is skipped and counted,
never fatal, as a real printer does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, FS, DLE, LF = 0x1B, 0x1D, 0x1C, 0x10, 0x0A


@dataclass
class TextRun:
    text: str
    bold: bool = False
    width: int = 1  # character magnification
    height: int = 1


@dataclass
class Line:
    runs: list[TextRun] = field(default_factory=list)
    align: str = "left"

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass
class QrCode:
    data: str
    module: int
    align: str = "center"
    ec: str = "L"


@dataclass
class Page:
    elements: list[Line | QrCode] = field(default_factory=list)
    cut: str = ""  # full | partial | "" (not cut yet)

    @property
    def text(self) -> str:
        return "\n".join(e.text for e in self.elements if isinstance(e, Line))

    @property
    def qr_codes(self) -> list[QrCode]:
        return [e for e in self.elements if isinstance(e, QrCode)]


class EscPosParser:
    def __init__(self) -> None:
        self.buf = bytearray()
        self.pages: list[Page] = []
        self.page = Page()
        self.line = Line()
        self.text = bytearray()
        self.bold = False
        self.width = self.height = 1
        self.align = "left"
        self.qr_module = 3
        self.qr_ec = "L"
        self.qr_data = b""
        self.status_queries: list[int] = []  # n of each DLE EOT n, in order
        self.unknown = 0

    # ------------------------------------------------------------------ public
    def feed(self, data: bytes) -> tuple[list[Page], list[int]]:
        """Parse more bytes; return (pages cut by them, status queries seen in them)."""
        self.buf += data
        done_before = len(self.pages)
        queries_before = len(self.status_queries)
        while self.buf:
            used = self._step()
            if used == 0:
                break  # incomplete command: wait for more bytes
            del self.buf[:used]
        return self.pages[done_before:], self.status_queries[queries_before:]

    def pending_page(self) -> Page:
        """What has been printed since the last cut (including a line not yet ended)."""
        self._flush_text()
        page = Page(list(self.page.elements))
        if self.line.runs:
            page.elements.append(Line(list(self.line.runs), self.line.align))
        return page

    # ------------------------------------------------------------------ parsing
    def _flush_text(self) -> None:
        if self.text:
            self.line.runs.append(TextRun(bytes(self.text).decode("gb18030", errors="replace"), self.bold, self.width, self.height))
            self.line.align = self.align
            self.text.clear()

    def _end_line(self) -> None:
        self._flush_text()
        self.line.align = self.align if not self.line.runs else self.line.align
        self.page.elements.append(self.line)
        self.line = Line(align=self.align)

    def _style(self) -> None:
        self._flush_text()

    def _step(self) -> int:
        b = self.buf
        c = b[0]
        if c == LF:
            self._end_line()
            return 1
        if c == ESC:
            if len(b) < 2:
                return 0
            cmd = b[1]
            if cmd == 0x40:  # ESC @ init
                self._style()
                self.bold, self.width, self.height, self.align = False, 1, 1, "left"
                return 2
            if cmd in (0x21, 0x45, 0x61, 0x64, 0x74, 0x4D, 0x2D, 0x47, 0x33):  # commands with one parameter byte
                if len(b) < 3:
                    return 0
                n = b[2]
                self._style()
                if cmd == 0x21:  # ESC ! n: print mode
                    self.bold = bool(n & 0x08)
                    self.height = 2 if n & 0x10 else 1
                    self.width = 2 if n & 0x20 else 1
                elif cmd == 0x45:
                    self.bold = bool(n & 1)
                elif cmd == 0x61:
                    self.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}.get(n, "left")
                elif cmd == 0x64:  # ESC d n: print and feed n lines
                    if self.text or self.line.runs:
                        self._end_line()
                    for _ in range(max(0, n - 1)):
                        self.page.elements.append(Line(align=self.align))
                return 3
            if cmd == 0x32:  # ESC 2: default line spacing
                return 2
            self.unknown += 1
            return 2
        if c == GS:
            if len(b) < 2:
                return 0
            cmd = b[1]
            if cmd == 0x21:  # GS ! n: character size
                if len(b) < 3:
                    return 0
                self._style()
                n = b[2]
                self.width, self.height = (n >> 4) + 1, (n & 0x0F) + 1
                return 3
            if cmd == 0x56:  # GS V m [n]
                if len(b) < 3:
                    return 0
                m = b[2]
                length = 4 if m in (0x41, 0x42, 65, 66) else 3
                if len(b) < length:
                    return 0
                self._cut("partial" if m in (0x01, 0x31, 0x42, 66) else "full")
                return length
            if cmd == 0x28 and len(b) >= 3 and b[2] == 0x6B:  # GS ( k pL pH cn fn ...
                if len(b) < 5:
                    return 0
                plen = b[3] | (b[4] << 8)
                if len(b) < 5 + plen:
                    return 0
                self._qr_function(bytes(b[5:5 + plen]))
                return 5 + plen
            if cmd == 0x28:
                if len(b) < 5:
                    return 0
                plen = b[3] | (b[4] << 8)
                if len(b) < 5 + plen:
                    return 0
                self.unknown += 1
                return 5 + plen
            self.unknown += 1
            return 2 if len(b) < 3 else 3
        if c == FS:
            if len(b) < 2:
                return 0
            return 2  # FS & / FS . : double-byte mode on/off; text is GB18030 either way
        if c == DLE:
            if len(b) < 3:
                return 0
            if b[1] == 0x04:
                self.status_queries.append(b[2])
                return 3
            self.unknown += 1
            return 1
        if c < 0x20 and c not in (0x09,):
            self.unknown += 1
            return 1
        # text: take as many printable bytes as there are (GB18030 lead bytes keep their trail bytes)
        i = 0
        while i < len(b) and (b[i] >= 0x20 or b[i] == 0x09):
            if b[i] >= 0x81:
                if i + 1 >= len(b):
                    break
                if 0x30 <= b[i + 1] <= 0x39:  # four-byte GB18030
                    if i + 3 >= len(b):
                        break
                    i += 4
                    continue
                i += 2
                continue
            i += 1
        if i == 0:
            return 0
        self.text += b[:i]
        return i

    def _qr_function(self, params: bytes) -> None:
        if len(params) < 2 or params[0] != 0x31:
            self.unknown += 1
            return
        fn = params[1]
        if fn == 0x43 and len(params) >= 3:
            self.qr_module = params[2]
        elif fn == 0x45 and len(params) >= 3:
            self.qr_ec = {48: "L", 49: "M", 50: "Q", 51: "H"}.get(params[2], "L")
        elif fn == 0x50:
            self.qr_data = params[3:]
        elif fn == 0x51:
            if self.text or self.line.runs:
                self._end_line()
            self.page.elements.append(QrCode(self.qr_data.decode("utf-8", errors="replace"), self.qr_module, self.align, self.qr_ec))

    def _cut(self, kind: str) -> None:
        if self.text or self.line.runs:
            self._end_line()
        self.page.cut = kind
        self.pages.append(self.page)
        self.page = Page()
