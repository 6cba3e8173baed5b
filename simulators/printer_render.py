"""Render parsed ESC/POS pages to PNG, as the paper would look: 203 dpi, 576 (or 384) dots wide,
font A cells of 12x24 dots (CJK 24x24), magnification, bold and alignment honoured, QR codes drawn
module by module. This is how a technician, a test and a person look at a ticket."""
from __future__ import annotations

import functools
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from drivers.escpos_docs import display_width
from drivers.escpos_parse import Line, Page, QrCode

CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CELL_W, CELL_H = 12, 24
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
        blocks.append(_render_qr(el, width_dots) if isinstance(el, QrCode) else _render_line(el, width_dots))
    height = sum(b.height for b in blocks) + 2 * MARGIN
    img = Image.new("L", (width_dots, max(height, 40)), 255)
    y = MARGIN
    for b in blocks:
        img.paste(b, (0, y))
        y += b.height
    return img


def _render_line(line: Line, width: int) -> Image.Image:
    h = max((r.height for r in line.runs), default=1) * CELL_H + 6
    img = Image.new("L", (width, h), 255)
    if not line.runs:
        return img
    draw = ImageDraw.Draw(img)
    total = sum(display_width(r.text) * CELL_W * r.width for r in line.runs)
    x = {"left": 0, "center": (width - total) // 2, "right": width - total}.get(line.align, 0)
    x = max(0, x)
    for run in line.runs:
        font = _font(CELL_H * run.height)
        run_w = display_width(run.text) * CELL_W * run.width
        # draw into a cell-true box: each column CELL_W*width dots, like the printer's font
        cx = x
        for ch in run.text:
            cols = display_width(ch)
            draw.text((cx, h - 3), ch, font=font, fill=0, anchor="ls", stroke_width=1 if run.bold else 0, stroke_fill=0)
            cx += cols * CELL_W * run.width
        x += run_w
    return img


def _render_qr(code: QrCode, width: int) -> Image.Image:
    ec = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
          "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}[code.ec]
    qr = qrcode.QRCode(error_correction=ec, box_size=max(1, code.module), border=0)
    qr.add_data(code.data.encode("utf-8"))
    qr.make(fit=True)
    matrix = qr.make_image(fill_color="black", back_color="white").get_image().convert("L")
    img = Image.new("L", (width, matrix.height + 16), 255)
    x = {"left": 0, "center": (width - matrix.width) // 2, "right": width - matrix.width}.get(code.align, 0)
    img.paste(matrix, (max(0, x), 8))
    return img


def save_png(page: Page, path: str | Path, width_dots: int = 576) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    render_page(page, width_dots).save(path, optimize=True)
    return path
