"""The receipt printer simulator (kind ``printer``): an ESC/POS printer on a pty, a TCP port
(the raw 9100 style of network printers) or a fake USB device (``simulators/fake_usb.py``).

It parses the byte stream with the same parser the tests use, renders each cut page to a PNG
(``out=DIR`` in the query, or ``hallkit sim printer --opt out=DIR``) and keeps the pages in memory,
and answers ``DLE EOT n`` (and ``GS r 1``, ``GS I n``) with its paper and cover state. Query options:
``out=DIR``, ``width=576|384`` (dots), ``tear=SECONDS`` (a printer without a cutter: what was printed
counts as one page, torn off, after this long without bytes; default 1.0), ``chinese=0`` (a printer whose Chinese mode is off until ``FS &``;
default on, as Chinese-market printers ship), ``model=NAME``, ``font=gbk|gb18030`` (the Chinese
font: ``gbk``, the default as in the generic profiles, lacks GB18030's four-byte characters such as
``¥`` and prints the missing-glyph mark 〓 for each, counted in ``missing_glyphs``; ``gb18030`` has
them). Faults (``fault=`` words):
``paper_out``, ``paper_near_end``, ``cover_open``, ``offline``, ``paper_out_after:N`` (the roll ends
while the page after the N-th printed one is printing: that page is lost, as on paper); tests and the
demo can also change the state on the instance (``sim.paper = "out"``).

While paper is out or the cover is open the printer prints nothing (bytes are discarded), as a
real one does; that is why the device layer asks for the status before and after a ticket.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from pathlib import Path

from drivers.escpos_docs import MISSING_GLYPH, is_four_byte
from drivers.escpos_model import Line, Page, Query
from drivers.escpos_parse import EscPosParser
from simulators import registry
from simulators.base import SimulatedDevice
from simulators.printer_render import save_png

log = logging.getLogger(__name__)

# DLE EOT replies: bits 1 and 4 always set, 0 and 7 clear.
BASE = 0x12


class PrinterSimulator(SimulatedDevice):
    kind = "printer"
    DEFAULT_BAUD = 115200  # the generic 80 mm profile's
    OPTIONS = {
        "out": "directory for one PNG per printed page",
        "width": "paper width in dots: 576 (80 mm) or 384 (58 mm)",
        "tear": "seconds without bytes after which a printer without cutter counts the page as torn off",
        "chinese": "0: the Chinese mode is off until FS &",
        "model": "the model name GS I answers",
        "font": "gbk (default: no GB18030 four-byte characters, printed as 〓) or gb18030",
    }
    FAULTS = {
        "paper_out": "the roll is empty",
        "paper_near_end": "the roll is near its end",
        "cover_open": "the cover is open",
        "offline": "the printer is offline",
        "paper_out_after": "paper_out_after:N: the roll ends while the page after the N-th is printing",
    }

    def __init__(self, query: dict[str, str] | None = None) -> None:
        super().__init__(query)
        self.parser = EscPosParser(chinese=self.query.get("chinese", "1") not in ("0", "false", "off"))
        self.model = self.query.get("model", "HallKit SIM-80")
        self.out_dir = Path(self.query["out"]) if self.query.get("out") else None
        self.width_dots = int(self.query.get("width", 576))
        self.font = self.query.get("font", "gbk")
        if self.font not in ("gbk", "gb18030"):
            raise ValueError(f"font={self.font!r}: gbk or gb18030")
        self.missing_glyphs = 0  # four-byte characters a gbk font could not print
        f = self.faults
        self.paper = "out" if f.has("paper_out") else ("near_end" if f.has("paper_near_end") else "ok")
        self.cover_open = f.has("cover_open")
        self.offline = f.has("offline")
        after = f.device_args("paper_out_after")
        self.paper_left: int | None = int(after[0][0]) if after and after[0] else None
        self.pages: list[Page] = []
        self.png_paths: list[Path] = []
        self.printed = threading.Condition(self.lock)
        self._counter = itertools.count(1)
        self.tear_s = float(self.query.get("tear", 1.0))
        self._last_rx = time.monotonic()

    @property
    def can_print(self) -> bool:
        return self.paper != "out" and not self.cover_open and not self.offline

    def status_byte(self, n: int) -> int:
        if n == 1:  # printer status: bit 3 offline
            return BASE | (0x08 if (self.offline or not self.can_print) else 0)
        if n == 2:  # offline cause: bit 2 cover open, bit 5 paper end stop, bit 6 error
            return BASE | (0x04 if self.cover_open else 0) | (0x20 if self.paper == "out" else 0)
        if n == 3:  # error cause
            return BASE
        if n == 4:  # paper roll sensor: bits 2-3 near end, bits 5-6 paper end
            return BASE | (0x0C if self.paper in ("near_end", "out") else 0) | (0x60 if self.paper == "out" else 0)
        return BASE

    def answer(self, q: Query) -> bytes:
        if q.command == "DLE EOT":
            return bytes([self.status_byte(q.n)])
        if q.command == "GS r":  # 1: paper sensor (bits 0-1 near end, 2-3 roll end); 2: drawer
            if q.n in (1, 49):
                return bytes(
                    [(0x03 if self.paper in ("near_end", "out") else 0) | (0x0C if self.paper == "out" else 0)]
                )
            return b"\x00"
        # GS I n: printer ID (1 model, 2 type: bit 0 two-byte characters, bit 1 cutter; 3 version;
        # 65.. strings framed by "_" and NUL)
        if q.n in (1, 49):
            return b"\x20"
        if q.n in (2, 50):
            return bytes([0x01 | (0x02 if self.width_dots >= 576 else 0)])
        if q.n in (3, 51):
            return b"\x10"
        strings = {65: "1.00 HK", 66: "HallKit", 67: self.model, 68: "SIM0001", 69: "CHINA GB18030"}
        return b"_" + strings.get(q.n, "").encode("ascii", "replace") + b"\x00"

    def handle(self, data: bytes) -> list[bytes]:
        self._last_rx = time.monotonic()
        pages, queries = self.parser.feed(data)
        self._output(pages)
        return [self.answer(q) for q in queries]

    def tick(self, now: float) -> list[bytes]:
        with self.lock:
            if now - self._last_rx >= self.tear_s and self.parser.has_pending():
                page = self.parser.tear()
                self._output([page] if page else [])
        return []

    def _as_printed(self, page: Page) -> Page:
        """The page as this printer's font prints it: four-byte characters as 〓 in a gbk font."""
        if self.font == "gb18030":
            return page
        for line in page.elements:
            for run in line.runs if isinstance(line, Line) else ():
                missing = [ch for ch in run.text if run.wide and is_four_byte(ch)]
                if missing:
                    self.missing_glyphs += len(missing)
                    log.warning(
                        "printer simulator: the gbk font has no %s; printed %s", "".join(missing), MISSING_GLYPH
                    )
                    run.text = "".join(MISSING_GLYPH if ch in missing else ch for ch in run.text)
        return page

    def _output(self, pages: list[Page]) -> None:
        for page in pages:
            if self.paper_left is not None and self.paper_left <= len(self.pages):
                self.paper = "out"  # the roll ran out during this page
            if not self.can_print:
                log.info(
                    "printer simulator: a page was sent while it cannot print (paper %s, cover %s); discarded",
                    self.paper,
                    "open" if self.cover_open else "closed",
                )
                continue
            page = self._as_printed(page)
            self.pages.append(page)
            if self.out_dir is not None:
                self.png_paths.append(
                    save_png(page, self.out_dir / f"ticket-{next(self._counter):04d}.png", self.width_dots)
                )
            self.printed.notify_all()

    def corrupt(self, reply: bytes) -> bytes:
        return bytes([reply[0] | 0x81]) if reply else reply  # breaks the fixed bits

    def wait_pages(self, count: int, timeout: float = 5.0) -> list[Page]:
        """The pages printed so far, once there are ``count`` (or after ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self.printed:
            while len(self.pages) < count and time.monotonic() < deadline:
                self.tick(time.monotonic())  # tears off an uncut page even where no server ticks (fake USB)
                self.printed.wait(min(0.05, max(0.0, deadline - time.monotonic())))
            return list(self.pages)


registry.register("printer", PrinterSimulator)
