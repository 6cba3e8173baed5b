"""Tables as files a hall manager opens in Excel or WPS, for every report and ledger: CSV in UTF-8
with a BOM (so Excel reads the Chinese) and XLSX (openpyxl) with an optional bold title row, a bold
header row, the lines, and rates as percentages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Line = Sequence[Any]


def csv_bytes(headers: Sequence[str], lines: Iterable[Line]) -> bytes:
    """The headers, then one line each (the caller formats what needs it); CRLF line ends, BOM."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(list(headers))
    w.writerows(list(line) for line in lines)
    return buf.getvalue().encode("utf-8-sig")


@dataclass
class Sheet:
    """What :func:`xlsx_bytes` writes: ``percent`` are the 1-based columns shown as ``0.00%``;
    ``bold_last`` makes the last line bold (a 合计 row); ``footer`` lines follow after a blank row,
    each with its own number formats ({column: format})."""

    name: str
    headers: Sequence[str]
    lines: Iterable[Line]
    title: str = ""
    percent: Sequence[int] = ()
    bold_last: bool = False
    widths: Sequence[int] = ()
    freeze: str = ""
    footer: Sequence[tuple[Line, dict[int, str]]] = field(default_factory=tuple)


def xlsx_bytes(sheet: Sheet) -> bytes:
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = sheet.name
    if sheet.title:
        ws.append([sheet.title])
        ws["A1"].font = Font(bold=True, size=13)
    ws.append(list(sheet.headers))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for line in sheet.lines:
        ws.append(list(line))
        for col in sheet.percent:
            ws.cell(ws.max_row, col).number_format = "0.00%"
    if sheet.bold_last:
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    if sheet.footer:
        ws.append([])
        for line, formats in sheet.footer:
            ws.append(list(line))
            for col, fmt in formats.items():
                ws.cell(ws.max_row, col).number_format = fmt
    if sheet.freeze:
        ws.freeze_panes = sheet.freeze
    widths = list(sheet.widths) or [14, 22] + [10] * (len(sheet.headers) - 2)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
