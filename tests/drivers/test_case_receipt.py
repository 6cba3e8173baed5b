"""The 办件受理回执 layout (``escpos_docs.case_receipt``): the case number, the service, the time, the
verification code large, and a QR code of the phone page that the paper reads back; zh and en, and
every line inside the paper on 80 mm and 58 mm."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import zxingcpp

from drivers import escpos_docs as docs
from drivers.escpos_model import Line
from drivers.escpos_parse import EscPosParser
from simulators.printer_render import render_page

DOC = docs.CaseReceiptDoc(
    hall_name="示范区政务服务中心",
    case_no="BDC2026150001",
    service_name="不动产权证书",
    code="7K3M-Q9TX",
    accepted_at=dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    qr_url="https://hall.example/case?no=BDC2026150001",
    contact_phone="0571-12345678",
)


def page_of(data: bytes):  # type: ignore[no-untyped-def]
    pages, _ = EscPosParser().feed(data)
    assert len(pages) == 1
    return pages[0]


@pytest.mark.parametrize(("columns", "dots"), [(48, 576), (32, 384)])
def test_the_case_receipt_says_what_it_should_and_fits_the_paper(columns: int, dots: int) -> None:
    page = page_of(docs.case_receipt(DOC, columns))
    lines = page.text.splitlines()
    assert lines[:2] == ["示范区政务服务中心", "办件受理回执"]
    assert "7K3M-Q9TX" in lines and "查询码" in lines and "扫码后输入查询码查看办理进度" in lines
    assert any(line.startswith("办件编号：") and line.endswith("BDC2026150001") for line in lines)
    assert any(line.endswith("2026-11-25 09:30") for line in lines)
    assert [q.data for q in page.qr_codes] == [DOC.qr_url]
    code = next(e for e in page.elements if isinstance(e, Line) and e.text == "7K3M-Q9TX")
    assert code.runs[0].width == 2 and code.align == "center"
    assert all(e.columns <= columns for e in page.elements if isinstance(e, Line))
    image = render_page(page, dots)
    assert [b.text for b in zxingcpp.read_barcodes(np.array(image))] == [DOC.qr_url]
    assert page.cut


def test_english_and_no_qr_without_a_link() -> None:
    doc = docs.CaseReceiptDoc(**{**DOC.__dict__, "lang": "en", "qr_url": "", "contact_phone": ""})
    page = page_of(docs.case_receipt(doc))
    text = page.text
    assert "Case acceptance receipt" in text and "Verification code" in text and "7K3M-Q9TX" in text
    assert "办件受理回执" not in text and "Phone" not in text and page.qr_codes == []
