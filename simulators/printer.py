"""The receipt printer simulator (kind ``printer``): an ESC/POS printer on a pty, a TCP port
(the raw 9100 style of network printers) or a fake USB device (``simulators/fake_usb.py``).

It parses the byte stream with the same parser the tests use, renders each cut page to a PNG
(``out=DIR`` in the query, or ``hallkit sim printer --opt out=DIR``) and keeps the pages in memory,
and answers ``DLE EOT n`` with its paper and cover state. Faults (``fault=`` words):
``paper_out``, ``paper_near_end``, ``cover_open``, ``offline``; tests and the demo can also change
the state on the instance (``sim.paper = "out"``).

While paper is out or the cover is open the printer prints nothing (bytes are discarded), as a
real one does; that is why the device layer asks for the status before and after a ticket.
"""
from __future__ import annotations

import itertools
import logging
import threading
from pathlib import Path

from drivers.escpos_parse import EscPosParser, Page

from . import registry
from .base import SimulatedDevice

log = logging.getLogger(__name__)

# DLE EOT replies: bits 1 and 4 always set, 0 and 7 clear.
BASE = 0x12


class PrinterSimulator(SimulatedDevice):
    kind = "printer"

    def __init__(self, query: dict[str, str] | None = None) -> None:
        super().__init__(query)
        self.parser = EscPosParser()
        self.out_dir = Path(self.query["out"]) if self.query.get("out") else None
        self.width_dots = int(self.query.get("width", 576))
        f = self.faults
        self.paper = "out" if f.has("paper_out") else ("near_end" if f.has("paper_near_end") else "ok")
        self.cover_open = f.has("cover_open")
        self.offline = f.has("offline")
        self.pages: list[Page] = []
        self.png_paths: list[Path] = []
        self.printed = threading.Condition(self.lock)
        self._counter = itertools.count(1)

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

    def handle(self, data: bytes) -> list[bytes]:
        pages, queries = self.parser.feed(data)
        for page in pages:
            if not self.can_print:
                log.info("printer simulator: a page was sent while it cannot print (paper %s, cover %s); discarded",
                         self.paper, "open" if self.cover_open else "closed")
                continue
            self.pages.append(page)
            if self.out_dir is not None:
                from .printer_render import save_png

                self.png_paths.append(save_png(page, self.out_dir / f"ticket-{next(self._counter):04d}.png", self.width_dots))
            self.printed.notify_all()
        return [bytes([self.status_byte(n)]) for n in queries]

    def corrupt(self, reply: bytes) -> bytes:
        return bytes([reply[0] | 0x81]) if reply else reply  # breaks the fixed bits

    def wait_pages(self, count: int, timeout: float = 5.0) -> list[Page]:
        with self.printed:
            self.printed.wait_for(lambda: len(self.pages) >= count, timeout)
            return list(self.pages)


registry.register("printer", PrinterSimulator)
