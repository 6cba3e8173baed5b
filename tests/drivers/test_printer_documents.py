"""Printed documents: golden ESC/POS bytes, size, Chinese punctuation, and the rendered paper."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp

from drivers import escpos_docs as docs
from drivers.escpos_parse import EscPosParser
from simulators.printer_render import render_page
from tests.drivers.printer_docs_fixtures import DOCUMENTS, GOLDEN, TICKET


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_golden_bytes(name: str) -> None:
    assert DOCUMENTS[name]() == (GOLDEN / f"{name}.bin").read_bytes(), (
        f"{name} changed; if on purpose, regenerate with python -m tests.drivers.printer_docs_fixtures"
    )


def test_ticket_is_text_and_native_qr_under_1kb() -> None:
    data = DOCUMENTS["ticket-80mm"]()
    assert len(data) < 1024
    assert b"\x1d\x28\x6b" in data and b"\x1d\x76\x30" not in data  # GS ( k, no raster image
    assert data.startswith(b"\x1b\x40\x1c\x26")  # init, Chinese mode


def test_cjk_punctuation_is_encoded_not_question_marks() -> None:
    text = "前面还有 3 人，预计：约 5 分钟（请留意）。「绿色通道」—¥"
    raw = docs.encode_text(text)
    assert b"?" not in raw
    assert raw.decode("gb18030") == text


def parse_one(data: bytes):
    pages, _ = EscPosParser().feed(data)
    assert len(pages) == 1
    return pages[0]


def test_parsed_ticket_says_what_it_should() -> None:
    page = parse_one(DOCUMENTS["ticket-80mm"]())
    lines = page.text.splitlines()
    assert "A012" in lines and "社保卡申领" in lines
    assert "前面还有 7 人等候，预计约 18 分钟" in lines
    assert "绿色通道·长者" in lines
    assert page.qr_codes[0].data == TICKET.qr_url
    big = [e for e in page.elements if hasattr(e, "runs") and e.text == "A012"][0]
    assert big.runs[0].width == 4 and big.align == "center"


def test_parser_handles_any_chunking() -> None:
    data = DOCUMENTS["proxy-receipt-80mm"]()
    whole = parse_one(data).text
    parser = EscPosParser()
    pages = []
    for i in range(0, len(data), 3):
        pages += parser.feed(data[i : i + 3])[0]
    assert len(pages) == 1 and pages[0].text == whole


def test_rendered_ticket_qr_decodes_to_the_ticket_url() -> None:
    img = render_page(parse_one(DOCUMENTS["ticket-80mm"]()))
    assert img.width == 576
    found = zxingcpp.read_barcodes(np.array(img))
    assert [b.text for b in found] == [TICKET.qr_url]
    # and the image really is a picture of text: enough ink above the QR code
    top = np.array(img)[: img.height // 3]
    assert (top < 128).mean() > 0.02


def test_58mm_layout_fits_384_dots() -> None:
    page = parse_one(DOCUMENTS["ticket-58mm"]() + b"\x1d\x56\x00")
    img = render_page(page, 384)
    found = zxingcpp.read_barcodes(np.array(img))
    assert found and found[0].text == TICKET.qr_url
    assert all(e.columns <= 32 for e in page.elements if hasattr(e, "runs") and e.runs and e.runs[0].width == 1)


def test_nobody_ahead_says_so_instead_of_zero_people_and_zero_minutes() -> None:
    for lang, expect in (("zh", "前面无人等候，请留意叫号"), ("en", "No one ahead: watch for your call")):
        doc = docs.QueueTicketDoc(**{**TICKET.__dict__, "waiting_ahead": 0, "estimated_wait_min": 0, "lang": lang})
        text = parse_one(docs.queue_ticket(doc)).text
        assert expect in text.splitlines() and " 0 " not in text
