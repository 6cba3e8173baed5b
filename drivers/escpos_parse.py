"""An ESC/POS stream parser: bytes in, pages of printed elements out.

Used by the printer simulator (to render what a real printer would print) and by tests (to check
what a document says). It understands what HallKit and common receipt software (python-escpos)
send:

* text: GB18030 while the Chinese mode is on (``FS &``, the power-on default of Chinese-market
  printers; ``FS .`` leaves it), otherwise one byte a character in the code page of ``ESC t``;
* styles: ``ESC @``, ``ESC !``, ``ESC E``/``ESC G`` (bold), ``ESC M`` (font B), ``ESC a``
  (alignment), ``GS !`` (size of every character), ``FS !``/``FS W`` (size of Chinese characters);
* ``GS ( k`` QR (model, module size, error correction, store, print), ``GS k`` barcodes,
  ``GS v 0`` raster images and ``ESC *`` bit images (python-escpos's ``image()`` and raster QR);
* ``GS V`` cut, ``ESC d``/``ESC J`` feeds, LF;
* queries the printer answers: ``DLE EOT n``, ``GS r n``, ``GS I n``.

Every other command of the Epson/Chinese-printer set is skipped by its real length (so its
parameters never leak into the text) and counted in ``unknown`` when the parser does not know it,
never fatal, as a real printer does. Parsing is incremental: ``feed`` keeps an incomplete command
until the rest arrives.
"""

from __future__ import annotations

from drivers import escpos_model as em
from drivers.escpos_model import Barcode, Element, Line, Page, QrCode, Query, RasterImage, TextRun

ESC, GS, FS, DLE, LF, CR, HT = 0x1B, 0x1D, 0x1C, 0x10, 0x0A, 0x0D, 0x09


class EscPosParser:
    def __init__(self, chinese: bool = True) -> None:
        self.chinese_default = chinese
        self.buf = bytearray()
        self.pages: list[Page] = []
        self.page = Page()
        self.line = Line()
        self.text = bytearray()
        self.queries: list[Query] = []
        self.unknown = 0
        self._after_band = self._band_lf = False
        self._reset()
        self.chinese = chinese

    def _reset(self) -> None:
        """ESC @: styles back to power-on (the Chinese mode is a printer setting ESC @ keeps)."""
        self.bold = False
        self.font = "a"
        self.ank_w = self.ank_h = 1  # half-width (alphanumeric) magnification
        self.cjk_w = self.cjk_h = 1  # Chinese character magnification
        self.align = "left"
        self.codepage = 0
        self.qr_module = 3
        self.qr_ec = "L"
        self.qr_data = b""
        self.bc_height, self.bc_module, self.bc_hri = 162, 3, "none"

    @property
    def status_queries(self) -> list[int]:
        """n of each DLE EOT n, in order."""
        return [q.n for q in self.queries if q.command == "DLE EOT"]

    # ------------------------------------------------------------------ public
    def feed(self, data: bytes) -> tuple[list[Page], list[Query]]:
        """Parse more bytes; return (pages cut by them, queries seen in them)."""
        self.buf += data
        done_before = len(self.pages)
        queries_before = len(self.queries)
        while self.buf:
            used = self._step()
            if used == 0:
                break  # incomplete command: wait for more bytes
            del self.buf[:used]
        return self.pages[done_before:], self.queries[queries_before:]

    def pending_page(self) -> Page:
        """What has been printed since the last cut (including a line not yet ended)."""
        self._flush_text()
        page = Page(list(self.page.elements))
        if self.line.runs:
            page.elements.append(Line(list(self.line.runs), self.line.align))
        return page

    def has_pending(self) -> bool:
        """Something printed since the last cut (a blank feed does not count)."""
        return bool(self.text or self.line.runs or any(not isinstance(e, Line) or e.runs for e in self.page.elements))

    def tear(self) -> Page | None:
        """The paper was torn off (a printer without a cutter): close the page printed so far."""
        if not self.has_pending():
            return None
        self._cut("tear")
        return self.pages[-1]

    # ------------------------------------------------------------------ text and lines
    def _decode(self, raw: bytes) -> str:
        if self.chinese:
            return raw.decode("gb18030", errors="replace")
        codec = em.CODE_PAGES.get(self.codepage)
        if codec is None:
            codec = "cp437"
        return raw.decode(codec, errors="replace")

    def _flush_text(self) -> None:
        if not self.text:
            return
        for ch in self._decode(bytes(self.text)):
            wide = ord(ch) > 0x7F and self.chinese
            w, h = (self.cjk_w, self.cjk_h) if wide else (self.ank_w, self.ank_h)
            font = "a" if wide else self.font
            last = self.line.runs[-1] if self.line.runs else None
            if last and (last.bold, last.width, last.height, last.font, last.wide) == (self.bold, w, h, font, wide):
                last.text += ch
            else:
                self.line.runs.append(TextRun(ch, self.bold, w, h, font, wide))
        self._after_band = self._band_lf = False
        self.line.align = self.align
        self.text.clear()

    def _end_line(self) -> None:
        self._flush_text()
        if not self.line.runs and self._band_lf:
            self._band_lf = False
            return  # the LF after an ESC * band only moves to the next band
        self._after_band = self._band_lf = False
        if not self.line.runs:
            self.line.align = self.align
        self.page.elements.append(self.line)
        self.line = Line(align=self.align)

    def _end_pending_line(self) -> None:
        if self.text or self.line.runs:
            self._end_line()

    def _add(self, element: Element) -> None:
        self._end_pending_line()
        self._after_band = self._band_lf = False
        self.page.elements.append(element)

    def _feed_lines(self, n: int) -> None:
        self._end_pending_line()
        for _ in range(n):
            self.page.elements.append(Line(align=self.align))

    def _text_length(self) -> int:
        """How many bytes at the start of the buffer are complete printable text."""
        b = self.buf
        i = 0
        while i < len(b) and (b[i] >= 0x20 or b[i] == HT):
            if self.chinese and 0x81 <= b[i] <= 0xFE:
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
        return i

    # ------------------------------------------------------------------ commands
    def _step(self) -> int:
        b = self.buf
        c = b[0]
        if c == LF:
            self._end_line()
            return 1
        if c == ESC:
            return self._esc()
        if c == GS:
            return self._gs()
        if c == FS:
            return self._fs()
        if c == DLE:
            return self._dle()
        if c in (CR, 0x0C, 0x18, 0x00):  # CR (LF prints), FF (page mode only), CAN, NUL: nothing to print
            return 1
        if c < 0x20 and c != HT:
            self.unknown += 1
            return 1
        n = self._text_length()
        if n:
            self.text += b[:n]
        return n

    def _esc(self) -> int:
        b = self.buf
        if len(b) < 2:
            return 0
        cmd = b[1]
        if cmd == 0x2A:  # ESC * m nL nH d...: bit image, 8 or 24 dots high
            if len(b) < 5:
                return 0
            m, cols = b[2], b[3] | (b[4] << 8)
            per_col = 1 if m in (0, 1) else 3
            total = 5 + cols * per_col
            if len(b) < total:
                return 0
            self._bit_image_columns(bytes(b[5:total]), cols, per_col, m)
            return total
        if cmd == 0x44:  # ESC D n1 ... NUL: tab positions
            end = b.find(0, 2)
            return 0 if end < 0 else end + 1
        if cmd == 0x26:  # ESC & y c1 c2 [x d...]...: user-defined characters
            if len(b) < 5:
                return 0
            y, c1, c2 = b[2], b[3], b[4]
            i = 5
            for _ in range(max(0, c2 - c1 + 1)):
                if i >= len(b):
                    return 0
                i += 1 + b[i] * y
            if i > len(b):
                return 0
            self.unknown += 1
            return i
        length = em.ESC_FIXED.get(cmd)
        if length is None:
            self.unknown += 1
            return 2
        if len(b) < length:
            return 0
        n = b[2] if length > 2 else 0
        if cmd == 0x40:  # ESC @
            self._flush_text()
            self._reset()
        elif cmd == 0x21:  # ESC ! n: font, bold, double height/width (half-width characters)
            self._flush_text()
            self.font = "b" if n & 0x01 else "a"
            self.bold = bool(n & 0x08)
            self.ank_h = 2 if n & 0x10 else 1
            self.ank_w = 2 if n & 0x20 else 1
        elif cmd in (0x45, 0x47):  # ESC E / ESC G: emphasised / double-strike
            self._flush_text()
            self.bold = bool(n & 1)
        elif cmd == 0x4D:  # ESC M n: font A/B
            self._flush_text()
            self.font = "b" if n in (1, 49) else "a"
        elif cmd == 0x61:  # ESC a n
            self._flush_text()
            self.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}.get(n, "left")
        elif cmd == 0x74:  # ESC t n: code page
            self._flush_text()
            if n not in em.CODE_PAGES:
                self.unknown += 1
            self.codepage = n
        elif cmd == 0x64:  # ESC d n: print and feed n lines
            self._end_pending_line()
            self._feed_lines(max(0, n - 1))
        elif cmd == 0x4A:  # ESC J n: print and feed n dots
            self._end_pending_line()
            self._feed_lines(n // 30)
        elif cmd in (0x69, 0x6D):  # ESC i / ESC m: old full / partial cut
            self._cut("full" if cmd == 0x69 else "partial")
        return length

    def _gs(self) -> int:
        b = self.buf
        if len(b) < 2:
            return 0
        cmd = b[1]
        if cmd == 0x28 or (cmd == 0x38 and len(b) >= 3 and b[2] == 0x4C):  # GS ( x pL pH ... / GS 8 L p1..p4 ...
            if cmd == 0x38:
                if len(b) < 7:
                    return 0
                plen, head = b[3] | (b[4] << 8) | (b[5] << 16) | (b[6] << 24), 7
            else:
                if len(b) < 5:
                    return 0
                plen, head = b[3] | (b[4] << 8), 5
            if len(b) < head + plen:
                return 0
            if cmd == 0x28 and b[2] == 0x6B:
                self._qr_function(bytes(b[head : head + plen]))
            else:
                self.unknown += 1  # graphics (GS ( L / GS 8 L) and other function groups: not rendered
            return head + plen
        if cmd == 0x56:  # GS V m [n]
            if len(b) < 3:
                return 0
            m = b[2]
            total = 4 if m in (0x41, 0x42, 0x61, 0x62, 0x67, 0x68) else 3
            if len(b) < total:
                return 0
            self._cut("partial" if m in (0x01, 0x31, 0x42, 0x62, 0x68) else "full")
            return total
        if cmd == 0x76:  # GS v 0 m xL xH yL yH d...: raster bit image
            if len(b) < 8:
                return 0
            m, xb, rows = b[3], b[4] | (b[5] << 8), b[6] | (b[7] << 8)
            total = 8 + xb * rows
            if len(b) < total:
                return 0
            self._add(
                RasterImage(
                    xb,
                    rows,
                    bytes(b[8:total]),
                    self.align,
                    2 if m in (1, 3, 49, 51) else 1,
                    2 if m in (2, 3, 50, 51) else 1,
                )
            )
            return total
        if cmd == 0x2A:  # GS * x y d...: define downloaded bit image
            if len(b) < 4:
                return 0
            total = 4 + b[2] * b[3] * 8
            if len(b) < total:
                return 0
            self.unknown += 1
            return total
        if cmd == 0x6B:  # GS k m ...: barcode
            return self._barcode()
        length = em.GS_FIXED.get(cmd)
        if length is None:
            self.unknown += 1
            return 2
        if len(b) < length:
            return 0
        n = b[2] if length > 2 else 0
        if cmd == 0x21:  # GS ! n: size of every character
            self._flush_text()
            self.ank_w = self.cjk_w = (n >> 4) + 1
            self.ank_h = self.cjk_h = (n & 0x0F) + 1
        elif cmd == 0x68:
            self.bc_height = n or 162
        elif cmd == 0x77:
            self.bc_module = n if 1 <= n <= 6 else 3
        elif cmd == 0x48:
            self.bc_hri = {
                0: "none",
                1: "above",
                2: "below",
                3: "both",
                48: "none",
                49: "above",
                50: "below",
                51: "both",
            }.get(n, "none")
        elif cmd in (0x72, 0x49):  # GS r n / GS I n: transmit status / printer id
            self.queries.append(Query("GS r" if cmd == 0x72 else "GS I", n))
        return length

    def _fs(self) -> int:
        b = self.buf
        if len(b) < 2:
            return 0
        cmd = b[1]
        length = em.FS_FIXED.get(cmd)
        if length is None:
            self.unknown += 1
            return 2
        if len(b) < length:
            return 0
        n = b[2] if length > 2 else 0
        if cmd in (0x26, 0x2E):  # FS & / FS .: Chinese (double-byte) mode on / off
            self._flush_text()
            self.chinese = cmd == 0x26
        elif cmd == 0x21:  # FS ! n: Chinese print mode (bit 2 double width, bit 3 double height)
            self._flush_text()
            self.cjk_w = 2 if n & 0x04 else 1
            self.cjk_h = 2 if n & 0x08 else 1
        elif cmd == 0x57:  # FS W n: Chinese quadruple size
            self._flush_text()
            self.cjk_w = self.cjk_h = 2 if n & 1 else 1
        return length

    def _dle(self) -> int:
        b = self.buf
        if len(b) < 2:
            return 0
        cmd = b[1]
        if cmd in (0x04, 0x05):  # DLE EOT n (status), DLE ENQ n (real-time request)
            if len(b) < 3:
                return 0
            if cmd == 0x04:
                if b[2] in (7, 8):  # DLE EOT 7/8 a: extended status, one more byte
                    if len(b) < 4:
                        return 0
                    self.queries.append(Query("DLE EOT", b[2]))
                    return 4
                self.queries.append(Query("DLE EOT", b[2]))
            return 3
        if cmd == 0x14:  # DLE DC4 fn ...: real-time commands (drawer pulse, power off, clear buffer)
            if len(b) < 3:
                return 0
            length = 10 if b[2] == 8 else 5
            return 0 if len(b) < length else length
        self.unknown += 1
        return 1

    # ------------------------------------------------------------------ images, barcodes, QR
    def _bit_image_columns(self, data: bytes, cols: int, per_col: int, m: int) -> None:
        """ESC * column data (each column 8 or 24 dots, MSB at the top) -> a raster image."""
        height = per_col * 8
        xb = (cols + 7) // 8
        rows = em.columns_to_rows(data, cols, per_col)
        sx = 2 if m in (0, 32) else 1  # single density: each dot twice as wide
        sy = 3 if per_col == 1 else 1  # 8-dot modes: each dot three times as tall at 203 dpi
        # Software sends a picture as bands (ESC * ... LF with the line spacing set to the band's
        # height); consecutive bands form one image.
        last = self.page.elements[-1] if self.page.elements and not (self.text or self.line.runs) else None
        if (
            isinstance(last, RasterImage)
            and self._after_band
            and last.width_bytes == xb
            and (last.scale_x, last.scale_y) == (sx, sy)
        ):
            last.data += bytes(rows)
            last.height += height
        else:
            self._add(RasterImage(xb, height, bytes(rows), self.align, sx, sy))
        self._after_band = self._band_lf = True

    def _barcode(self) -> int:
        found = em.split_barcode(bytes(self.buf))
        if found is None:
            return 0
        total, name, data = found
        if name is None:
            self.unknown += 1
        else:
            text = data.decode("ascii", errors="replace")
            self._add(Barcode(name, text, self.bc_height, self.bc_module, self.bc_hri, self.align))
        return total

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
            self._add(QrCode(self.qr_data.decode("utf-8", errors="replace"), self.qr_module, self.align, self.qr_ec))

    def _cut(self, kind: str) -> None:
        self._end_pending_line()
        self.page.cut = kind
        self.pages.append(self.page)
        self.page = Page()
