"""Render parsed ESC/POS pages to PNG, as the paper would look: 203 dpi, 576 (or 384) dots wide,
font A cells of 12x24 dots (CJK 24x24), font B 9x17, magnification, bold and alignment honoured,
QR codes drawn module by module (qrcode), barcodes bar by bar (python-barcode's encoders, with the
HRI text where ``GS H`` asks for it), raster and bit images dot by dot. This is how a technician, a
test and a person look at a ticket."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFont

from drivers.escpos_model import Barcode, Line, Page, QrCode, RasterImage

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
CELL_W, CELL_H = 12, 24
CELL_B = (9, 17)  # font B, half-width characters
MARGIN = 8


class FontMissing(RuntimeError):
    pass


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in CJK_FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    raise FontMissing("no CJK font found (install fonts-wqy-microhei; `bash run.sh setup` does)")


def render_page(page: Page, width_dots: int = 576) -> Image.Image:
    blocks: list[Image.Image] = []
    for el in page.elements:
        if isinstance(el, QrCode):
            blocks.append(_render_qr(el, width_dots))
        elif isinstance(el, Barcode):
            blocks.append(_render_barcode(el, width_dots))
        elif isinstance(el, RasterImage):
            blocks.append(_render_image(el, width_dots))
        else:
            blocks.append(_render_line(el, width_dots))
    height = sum(b.height for b in blocks) + 2 * MARGIN
    img = Image.new("L", (width_dots, max(height, 40)), 255)
    y = MARGIN
    for b in blocks:
        img.paste(b, (0, y))
        y += b.height
    return img


def _cell(run: Any) -> tuple[int, int]:
    """Dots of one half-width column and of the line height for a run."""
    return CELL_B if run.font == "b" else (CELL_W, CELL_H)


def _render_line(line: Line, width: int) -> Image.Image:
    """One printed line: characters in fixed cells, a double-byte character of the Chinese mode in
    a full-width cell (two columns, whatever Unicode's East-Asian width says), and what does not fit
    the paper wrapped onto the next row, as the printer does."""
    cells_h = max((_cell(r)[1] * r.height for r in line.runs), default=CELL_H)
    row_h = cells_h + 6  # default line spacing: 30 dots for a 24-dot line
    if not line.runs:
        return Image.new("L", (width, row_h), 255)
    rows: list[list[tuple[Any, str, int]]] = [[]]
    used = 0
    for run in line.runs:
        cell_w = _cell(run)[0]
        for ch in run.text:
            box_w = (2 if run.wide else 1) * cell_w * run.width
            if used + box_w > width and rows[-1]:
                rows.append([])
                used = 0
            rows[-1].append((run, ch, box_w))
            used += box_w
    img = Image.new("L", (width, row_h * len(rows)), 255)
    for i, row in enumerate(rows):
        total = sum(box_w for _, _, box_w in row)
        x = max(0, {"left": 0, "center": (width - total) // 2, "right": width - total}.get(line.align, 0))
        for run, ch, box_w in row:
            cell_h = _cell(run)[1] * run.height
            glyph = _glyph(ch, box_w, cell_h, run.bold)
            y = i * row_h + cells_h - cell_h  # cells stand on a common bottom line
            region = (x, y, x + glyph.width, y + glyph.height)
            img.paste(ImageChops.darker(img.crop(region), glyph), region[:2])
            x += box_w
    return img


@functools.lru_cache(maxsize=8192)
def _glyph(ch: str, box_w: int, box_h: int, bold: bool) -> Image.Image:
    """One character in its cell, as the printer's fixed-pitch font places it: centred in the
    cell and narrowed when the outline font's glyph is wider than the cell."""
    size = max(8, round(box_h * 0.92))
    font = _font(size)
    stroke = max(1, box_h // 48) if bold else 0
    adv = max(1, int(round(font.getlength(ch))) + 2 * stroke)
    spare = box_h // 4  # room for descenders in the line spacing below
    tile = Image.new("L", (adv, box_h + spare), 255)
    ImageDraw.Draw(tile).text(
        (stroke, round(box_h * 0.8)), ch, font=font, fill=0, anchor="ls", stroke_width=stroke, stroke_fill=0
    )
    if adv > box_w:
        return tile.resize((box_w, tile.height), Image.Resampling.LANCZOS)
    cell = Image.new("L", (box_w, tile.height), 255)
    cell.paste(tile, ((box_w - adv) // 2, 0))
    return cell


def _place(block: Image.Image, width: int, align: str, pad: int = 8) -> Image.Image:
    img = Image.new("L", (width, block.height + 2 * pad), 255)
    x = {"left": 0, "center": (width - block.width) // 2, "right": width - block.width}.get(align, 0)
    img.paste(block, (max(0, x), pad))
    return img


def _render_image(image: RasterImage, width: int) -> Image.Image:
    bits = Image.frombytes("1", (image.width, image.height), image.data)  # PIL "1": 1 = white
    dots = Image.eval(bits.convert("L"), lambda v: 255 - v)
    if (image.scale_x, image.scale_y) != (1, 1):
        dots = dots.resize((dots.width * image.scale_x, dots.height * image.scale_y), Image.Resampling.NEAREST)
    return _place(dots, width, image.align, pad=0)


_BARCODE_CLASSES = {
    "CODE128": "code128",
    "GS1-128": "gs1_128",
    "CODE39": "code39",
    "EAN13": "ean13",
    "EAN8": "ean8",
    "UPC-A": "upca",
    "ITF": "itf",
    "CODABAR": "codabar",
}


def _barcode_modules(code: Barcode) -> tuple[str, str]:
    """(module string of 0/1, HRI text) as the printer would encode the data."""
    import barcode

    data = code.data
    if code.symbology in ("CODE128", "GS1-128") and len(data) >= 2 and data[0] == "{":
        data = data[2:]  # the ESC/POS code-set selector ({A, {B, {C}) is not part of the content
    name = _BARCODE_CLASSES.get(code.symbology)
    if name is None:
        raise ValueError(f"no encoder for {code.symbology}")
    kwargs = {"add_checksum": False} if name == "code39" else {}
    bc = barcode.get_barcode_class(name)(data, **kwargs)
    return "".join(bc.build()), bc.get_fullcode()


def _render_barcode(code: Barcode, width: int) -> Image.Image:
    text_font = _font(CELL_H)
    try:
        modules, hri = _barcode_modules(code)
    except Exception as exc:
        img = Image.new("L", (width, CELL_H * 2), 255)
        ImageDraw.Draw(img).text(
            (4, CELL_H), f"[{code.symbology} ?] {code.data} ({exc})"[:60], font=_font(16), fill=0, anchor="ls"
        )
        return img
    quiet = 10 * code.module
    bars = Image.new("L", (len(modules) * code.module + 2 * quiet, code.height), 255)
    draw = ImageDraw.Draw(bars)
    for i, m in enumerate(modules):
        if m == "1":
            x = quiet + i * code.module
            draw.rectangle((x, 0, x + code.module - 1, code.height - 1), fill=0)
    parts = []
    hri_img = Image.new("L", (max(bars.width, len(hri) * CELL_W), CELL_H + 4), 255)
    ImageDraw.Draw(hri_img).text((hri_img.width // 2, CELL_H), hri, font=text_font, fill=0, anchor="ms")
    if code.hri in ("above", "both"):
        parts.append(hri_img)
    parts.append(bars)
    if code.hri in ("below", "both"):
        parts.append(hri_img)
    block = Image.new("L", (max(p.width for p in parts), sum(p.height for p in parts)), 255)
    y = 0
    for p in parts:
        block.paste(p, ((block.width - p.width) // 2, y))
        y += p.height
    return _place(block, width, code.align)


def _render_qr(code: QrCode, width: int) -> Image.Image:
    ec = {
        "L": qrcode.constants.ERROR_CORRECT_L,
        "M": qrcode.constants.ERROR_CORRECT_M,
        "Q": qrcode.constants.ERROR_CORRECT_Q,
        "H": qrcode.constants.ERROR_CORRECT_H,
    }[code.ec]
    qr = qrcode.QRCode(error_correction=ec, box_size=max(1, code.module), border=0)
    qr.add_data(code.data.encode("utf-8"))
    qr.make(fit=True)
    matrix = qr.make_image(fill_color="black", back_color="white").get_image().convert("L")
    return _place(matrix, width, code.align)


def save_png(page: Page, path: str | Path, width_dots: int = 576) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    render_page(page, width_dots).save(path, optimize=True)
    return path
