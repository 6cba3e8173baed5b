"""The ESC/POS parser and renderer on streams python-escpos produces: Chinese text and punctuation,
images (raster and column), hardware barcodes, commands with parameters, queries, chunking."""

from __future__ import annotations

import numpy as np
import pytest
import qrcode
import zxingcpp
from escpos.escpos import Escpos
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import escpos_docs as docs
from drivers.escpos_model import Barcode, Line, Query, RasterImage
from drivers.escpos_parse import EscPosParser
from simulators.printer import PrinterSimulator
from simulators.printer_render import render_page

PUNCT = "，。：；、？！（）「」『』《》“”—…¥·"


class Capture(Escpos):
    """python-escpos's own command builder, collecting bytes."""

    def __init__(self) -> None:
        super().__init__(profile="TM-T88V")
        self.data = bytearray()

    def _raw(self, msg: bytes) -> None:
        self.data += msg


def one_page(data: bytes, **kw):
    parser = EscPosParser(**kw)
    pages, _ = parser.feed(data + b"\x1dV\x00")
    assert len(pages) == 1
    return pages[0], parser


def test_plain_python_escpos_would_print_question_marks_for_punctuation() -> None:
    # Why the driver replaces text(): python-escpos's code-page encoder on punctuation alone.
    cap = Capture()
    cap.text("，。：（）")
    assert b"?" in cap.data


def test_cjk_punctuation_round_trip_through_a_document_and_the_parser() -> None:
    lay = docs.Layout(64)  # every punctuation mark is full width: 54 columns
    lay.line("办理须知：" + PUNCT)
    lay.line("“一网通办”（全程网办）——收费：¥0。")
    page, parser = one_page(lay.finish(cut=False))
    lines = [e.text for e in page.elements if isinstance(e, Line) and e.text]
    # ¥ is four bytes in GB18030, missing from the GBK font of a generic printer: 元 / RMB instead
    assert lines == ["办理须知：" + PUNCT.replace("¥", "RMB"), "“一网通办”（全程网办）——收费：0元。"]
    assert "?" not in page.text and "\ufffd" not in page.text and parser.unknown == 0


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list(PUNCT + "示范区政务服务中心取件凭条ABCxyz0129 -/:é€😀")), min_size=1, max_size=40
    ),
    cut_at=st.lists(st.integers(min_value=1, max_value=200), max_size=6),
)
def test_any_text_survives_any_chunking(text: str, cut_at: list[int]) -> None:
    data = docs.ESC_INIT + docs.FS_CHINESE_ON + docs.encode_text(text) + b"\n\x1dV\x00"
    parser, pages, pos = EscPosParser(chinese=False), [], 0
    for cut in sorted(set(c for c in cut_at if c < len(data))) + [len(data)]:
        pages += parser.feed(data[pos:cut])[0]
        pos = cut
    assert len(pages) == 1 and pages[0].text == text


def test_chinese_mode_off_uses_the_code_page() -> None:
    gb = "取号".encode("gb18030")
    page, _ = one_page(b"\x1bt\x10" + "café €5".encode("cp1252") + b"\n" + gb + b"\n\x1c&" + gb + b"\n", chinese=False)
    lines = page.text.splitlines()
    assert lines[0] == "café €5"
    assert lines[1] != "取号"  # a printer out of Chinese mode prints the GB bytes as code-page symbols
    assert lines[2] == "取号"


def test_commands_with_parameters_never_leak_into_the_text() -> None:
    stream = (
        b"\x1b@"
        b"\x1bp\x00\x19\xfa"  # ESC p: drawer kick
        b"\x1dL\x10\x00"  # GS L: left margin
        b"\x1b$\x40\x00"  # ESC $: absolute position
        b"\x1bD\x08\x10\x00"  # ESC D: tab stops
        b"\x1d(L\x04\x000p0\x01"  # GS ( L: graphics function (not rendered)
        b"\x1dW\x40\x02"  # GS W: print area width
        b"\x1b3\x18\x1b \x02"  # ESC 3, ESC SP
        b"\x1c!\x0c\x1cW\x00"  # FS !, FS W
        b"\x10\x14\x01\x00\x01"  # DLE DC4: real-time drawer pulse
        b"OK\n"
    )
    page, parser = one_page(stream)
    assert page.text == "OK" and parser.unknown == 1  # only GS ( L, counted as not rendered


def test_sizes_for_chinese_and_latin_and_font_b() -> None:
    page, _ = one_page(b"\x1c&\x1c!\x0c" + "大".encode("gb18030") + b"A\n\x1bM\x01small\n\x1b!\x30W\n")
    big, small, wide = [e for e in page.elements if isinstance(e, Line)]
    assert [(r.text, r.width, r.height) for r in big.runs] == [("大", 2, 2), ("A", 1, 1)]
    assert small.runs[0].font == "b"
    assert (wide.runs[0].width, wide.runs[0].height) == (2, 2)


@pytest.mark.parametrize("impl", ["bitImageRaster", "bitImageColumn"])
def test_images_from_python_escpos_render_and_the_qr_decodes(impl: str) -> None:
    url = "https://hall.example/q/demo/2026-11-23/B007"
    img = qrcode.make(url, box_size=5, border=2).get_image().convert("1")
    cap = Capture()
    cap.image(img, impl=impl, center=False)
    cap.text("raster QR\n")
    page, parser = one_page(bytes(cap.data))
    images = page.images
    assert len(images) == 1 and images[0].width >= img.width
    assert page.text.splitlines()[-1] == "raster QR"
    rendered = render_page(page)
    assert [b.text for b in zxingcpp.read_barcodes(np.array(rendered))] == [url]


def test_qr_as_raster_from_python_escpos_qr_native_false() -> None:
    cap = Capture()
    cap.qr("https://hall.example/q/A001", native=False, size=6)
    page, _ = one_page(bytes(cap.data))
    assert isinstance(page.elements[-1], RasterImage) or page.images
    assert [b.text for b in zxingcpp.read_barcodes(np.array(render_page(page)))] == ["https://hall.example/q/A001"]


@pytest.mark.parametrize(
    "symbology,code,expect",
    [
        ("CODE128", "{BBJ2026112300017", "BJ2026112300017"),
        ("EAN13", "690123456789", "6901234567892"),
        ("CODE39", "CASE-17", "CASE-17"),
    ],
)
def test_hardware_barcodes_render_and_decode(symbology: str, code: str, expect: str) -> None:
    cap = Capture()
    cap.barcode(code, symbology, height=80, width=3, pos="BELOW", function_type="B", align_ct=True)
    page, parser = one_page(bytes(cap.data))
    assert parser.unknown == 0
    (bc,) = page.barcodes
    assert isinstance(bc, Barcode) and bc.symbology == symbology and bc.height == 80 and bc.hri == "below"
    found = zxingcpp.read_barcodes(np.array(render_page(page)))
    assert [f.text for f in found] == [expect]


def test_simulator_answers_id_and_paper_queries() -> None:
    sim = PrinterSimulator({"model": "ZJ-8360", "fault": "paper_near_end"})
    assert sim.feed(b"\x1dIC") == [b"_ZJ-8360\x00"]
    assert sim.feed(b"\x1dI\x02") == [b"\x03"]  # two-byte characters and a cutter
    assert sim.feed(b"\x1dr\x01") == [b"\x03"]  # paper near end
    sim.paper = "out"
    assert sim.feed(b"\x10\x04\x04\x1dr\x01") == [bytes([0x12 | 0x0C | 0x60]), b"\x0f"]


def test_queries_are_seen_in_order_even_split_across_chunks() -> None:
    parser = EscPosParser()
    seen: list[Query] = []
    for b in b"\x10\x04\x01AB\x1dr\x01\x10\x04\x04":
        seen += parser.feed(bytes([b]))[1]
    assert seen == [Query("DLE EOT", 1), Query("GS r", 1), Query("DLE EOT", 4)]
    assert parser.pending_page().text == "AB"
