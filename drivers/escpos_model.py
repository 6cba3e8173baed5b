"""What an ESC/POS stream prints, as data: the printed elements of a page (text lines with their
styles, QR codes, barcodes, raster images), the queries a printer answers, and the command tables
the parser (``drivers.escpos_parse``) skips commands by. See docs/protocols/escpos.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ESC t n -> Python codec (Epson numbering); unknown pages fall back to PC437 and are counted.
CODE_PAGES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    255: "cp437",
}

# Commands skipped by length: total bytes including the command itself.
ESC_FIXED = {
    0x40: 2,
    0x32: 2,
    0x3C: 2,
    0x4C: 2,
    0x53: 2,
    0x69: 2,
    0x6D: 2,
    0x0C: 2,
    0x76: 2,
    0x20: 3,
    0x21: 3,
    0x25: 3,
    0x2D: 3,
    0x33: 3,
    0x3D: 3,
    0x3F: 3,
    0x45: 3,
    0x47: 3,
    0x4A: 3,
    0x4B: 3,
    0x4D: 3,
    0x52: 3,
    0x54: 3,
    0x55: 3,
    0x56: 3,
    0x61: 3,
    0x64: 3,
    0x65: 3,
    0x72: 3,
    0x74: 3,
    0x75: 3,
    0x7B: 3,
    0x24: 4,
    0x5C: 4,
    0x63: 4,
    0x42: 4,
    0x70: 5,
    0x57: 10,
}
GS_FIXED = {
    0x3A: 2,
    0x21: 3,
    0x42: 3,
    0x45: 3,
    0x48: 3,
    0x49: 3,
    0x54: 3,
    0x61: 3,
    0x62: 3,
    0x66: 3,
    0x68: 3,
    0x72: 3,
    0x77: 3,
    0x2F: 3,
    0x4C: 4,
    0x57: 4,
    0x50: 4,
    0x24: 4,
    0x5C: 4,
    0x5E: 5,
}
FS_FIXED = {0x26: 2, 0x2E: 2, 0x21: 3, 0x2D: 3, 0x43: 3, 0x57: 3, 0x53: 4, 0x70: 4, 0x3F: 4}

BARCODE_A = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR"}
BARCODE_B = {
    65: "UPC-A",
    66: "UPC-E",
    67: "EAN13",
    68: "EAN8",
    69: "CODE39",
    70: "ITF",
    71: "CODABAR",
    72: "CODE93",
    73: "CODE128",
    74: "GS1-128",
}


@dataclass
class TextRun:
    text: str
    bold: bool = False
    width: int = 1  # character magnification
    height: int = 1
    font: str = "a"  # a: 12x24 cells; b: 9x17 (half-width characters only)
    wide: bool = False  # double-byte characters of the Chinese mode: one full-width (24x24) cell each

    @property
    def columns(self) -> int:
        """Half-width columns the run takes on paper, magnification included."""
        return len(self.text) * (2 if self.wide else 1) * self.width


@dataclass
class Line:
    runs: list[TextRun] = field(default_factory=list)
    align: str = "left"

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)

    @property
    def columns(self) -> int:
        """Half-width columns the line takes on paper (a 48-column printer wraps a longer line)."""
        return sum(r.columns for r in self.runs)


@dataclass
class QrCode:
    data: str
    module: int
    align: str = "center"
    ec: str = "L"


@dataclass
class Barcode:
    symbology: str  # CODE128, EAN13, ... (names as in python-escpos)
    data: str  # as sent (CODE128 keeps its {B code-set prefix)
    height: int = 162  # dots (GS h)
    module: int = 3  # narrow bar width in dots (GS w)
    hri: str = "none"  # none | above | below | both (GS H)
    align: str = "left"


@dataclass
class RasterImage:
    """A bit image: ``rows`` of ``width_bytes`` bytes, MSB = leftmost dot, 1 = black."""

    width_bytes: int
    height: int
    data: bytes
    align: str = "left"
    scale_x: int = 1
    scale_y: int = 1

    @property
    def width(self) -> int:
        return self.width_bytes * 8


Element = Line | QrCode | Barcode | RasterImage


@dataclass
class Page:
    elements: list[Element] = field(default_factory=list)
    cut: str = ""  # full | partial | tear (no cutter: torn off) | "" (not cut yet)

    @property
    def text(self) -> str:
        return "\n".join(e.text for e in self.elements if isinstance(e, Line))

    @property
    def qr_codes(self) -> list[QrCode]:
        return [e for e in self.elements if isinstance(e, QrCode)]

    @property
    def barcodes(self) -> list[Barcode]:
        return [e for e in self.elements if isinstance(e, Barcode)]

    @property
    def images(self) -> list[RasterImage]:
        return [e for e in self.elements if isinstance(e, RasterImage)]


@dataclass(frozen=True)
class Query:
    """A command the printer answers: ``DLE EOT n``, ``GS r n`` or ``GS I n``."""

    command: str  # "DLE EOT" | "GS r" | "GS I"
    n: int


def columns_to_rows(data: bytes, cols: int, per_col: int) -> bytes:
    """``ESC *`` column data (each column ``per_col`` bytes, MSB at the top) as raster rows (MSB left)."""
    height = per_col * 8
    xb = (cols + 7) // 8
    rows = bytearray(xb * height)
    for x in range(cols):
        for k in range(per_col):
            byte = data[x * per_col + k]
            for bit in range(8):
                if byte & (0x80 >> bit):
                    y = k * 8 + bit
                    rows[y * xb + x // 8] |= 0x80 >> (x % 8)
    return bytes(rows)


def split_barcode(b: bytes) -> tuple[int, str | None, bytes] | None:
    """A ``GS k`` command at the start of ``b``: (bytes it takes, symbology or None, data), or None
    while it is incomplete. Format A (m <= 6) ends its data with NUL; format B gives the length."""
    if len(b) < 3:
        return None
    m = b[2]
    if m <= 6:
        end = b.find(0, 3)
        if end < 0:
            return None
        return end + 1, BARCODE_A.get(m), b[3:end]
    if len(b) < 4 or len(b) < 4 + b[3]:
        return None
    total = 4 + b[3]
    return total, BARCODE_B.get(m), b[4:total]
