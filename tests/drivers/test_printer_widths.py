"""Printer columns (issue 13, item 15): East-Asian ambiguous characters are full width on a Chinese
printer in ``FS &`` mode, the simulator draws them so, and ``¥`` (four bytes in GB18030) is printed
the way a GB2312/GBK printer font can print it."""

from __future__ import annotations

import dataclasses

import numpy as np

from drivers import escpos_docs as docs
from drivers.escpos_model import Line
from drivers.escpos_parse import EscPosParser
from simulators.printer import PrinterSimulator
from simulators.printer_render import render_page
from tests.drivers.printer_docs_fixtures import RECEIPT

AMBIGUOUS = "—·…“”°×①"


def parse_one(data: bytes):
    pages, _ = EscPosParser().feed(data)
    assert len(pages) == 1
    return pages[0]


def text_lines(page) -> list[Line]:
    return [e for e in page.elements if isinstance(e, Line) and e.runs]


def test_ambiguous_width_characters_take_two_printer_columns() -> None:
    assert docs.printer_columns(AMBIGUOUS) == 2 * len(AMBIGUOUS)
    assert docs.printer_columns("A012 办理") == 5 + 4
    # the printer's own measure: one column per byte of the Chinese mode's double-byte codes
    assert docs.printer_columns(AMBIGUOUS) == len(AMBIGUOUS.encode("gb18030"))


def test_proxy_receipt_lines_fit_48_printer_columns() -> None:
    doc = dataclasses.replace(RECEIPT, service_name="养老保险关系转移——城乡居民", agent_name="王·某")
    page = parse_one(docs.proxy_receipt(doc, 48))
    lines = text_lines(page)
    # GB18030 bytes of a line are its columns on paper: none may pass the 48 of an 80 mm printer
    assert max(len(e.text.encode("gb18030")) for e in lines) <= 48
    assert all(e.columns <= 48 for e in lines)
    assert "养老保险关系转移——城乡居民" in page.text.replace("\n", "")


def test_wrap_counts_ambiguous_characters_full_width() -> None:
    parts = docs.wrap("办理事项：" + "—" * 30, 48)
    assert [docs.printer_columns(p) for p in parts] == [48, 22]


def test_simulator_draws_ambiguous_characters_full_width_and_wraps_what_overflows() -> None:
    def ink_columns(text: str) -> tuple[int, int]:
        img = np.array(
            render_page(parse_one(docs.ESC_INIT + docs.FS_CHINESE_ON + docs.encode_text(text) + b"\n\x1dV\x00"))
        )
        inked = np.nonzero((img < 128).any(axis=0))[0]
        return int(inked.max()), img.shape[0]

    right_24, h_24 = ink_columns("—" * 24)  # 48 columns: the whole 576-dot line
    assert right_24 > 576 - 24
    right_12, h_12 = ink_columns("—" * 12)
    assert right_12 <= 288 and h_12 == h_24
    _, h_25 = ink_columns("—" * 25)  # one character too many: the printer starts a new row
    assert h_25 > h_24


def test_yen_is_printed_as_yuan_or_rmb_by_a_font_without_four_byte_characters() -> None:
    lay = docs.Layout(48)
    lay.line("工本费：¥12.50，快递费¥ 8")
    lay.pair("收费标准", "¥（人民币）")
    data = lay.finish(cut=True)
    assert "¥".encode("gb18030") not in data
    page = parse_one(data)
    assert [e.text for e in text_lines(page)][:2] == [
        "工本费：12.50元，快递费8元",
        "收费标准" + " " * 27 + "RMB（人民币）",
    ]


def test_a_font_with_four_byte_characters_prints_yen_as_it_is() -> None:
    lay = docs.Layout(48, four_byte_font=True)
    lay.line("工本费：¥12.50")
    page = parse_one(lay.finish(cut=True))
    assert text_lines(page)[0].text == "工本费：¥12.50"


def test_other_four_byte_characters_print_as_the_missing_glyph_mark() -> None:
    assert docs.printable("王𠮷") == "王〓"
    assert docs.printable("王𠮷", four_byte_font=True) == "王𠮷"


def test_the_simulated_printer_prints_what_its_font_has() -> None:
    data = docs.ESC_INIT + docs.FS_CHINESE_ON + docs.encode_text("收费：¥8") + b"\n\x1dV\x00"
    gbk = PrinterSimulator({"line_rate": "0"})  # the generic profiles' GB2312/GBK font
    gbk.feed(data)
    assert text_lines(gbk.pages[0])[0].text == "收费：〓8" and gbk.missing_glyphs == 1
    full = PrinterSimulator({"line_rate": "0", "font": "gb18030"})
    full.feed(data)
    assert text_lines(full.pages[0])[0].text == "收费：¥8" and full.missing_glyphs == 0
    laid_out = docs.Layout(48)  # what HallKit sends: nothing the font lacks
    laid_out.line("收费：¥8")
    gbk.feed(laid_out.finish(cut=True))
    assert text_lines(gbk.pages[1])[0].text == "收费：8元" and gbk.missing_glyphs == 1
