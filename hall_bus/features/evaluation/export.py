"""The ``report.range`` answer as files a hall manager opens in Excel or WPS: CSV (UTF-8 with a BOM, so
Excel reads the Chinese) and XLSX (openpyxl; rates as percentages). Headers are in Chinese, with the
group's key and its name, the counts per national level, then the rates; the last row is 合计."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from hall_bus.vocabulary import LEVELS

GROUP_ZH = {
    "day": "日期",
    "week": "周",
    "month": "月份",
    "window": "窗口",
    "clerk": "工作人员",
    "domain": "业务领域",
    "service": "事项",
    "hour": "时段",
}
COUNTS = ["evaluated", "not_evaluated", "finished", "bad_reviews"]
COUNTS_ZH = ["已评价", "未评价", "办结", "差评"]
CHANNELS_ZH = {"pad": "评价器评价", "kiosk": "自助机评价", "qr": "扫码评价"}
RATES = ["very_satisfied_rate", "good_rate", "not_evaluated_rate"]
RATES_ZH = ["非常满意率", "好评率", "未评价率"]
TOTAL = "合计"


def headers(answer: dict[str, Any]) -> list[str]:
    return [
        GROUP_ZH[answer["group"]],
        "名称",
        *(LEVELS[n] for n in range(1, 6)),
        *COUNTS_ZH,
        *CHANNELS_ZH.values(),
        *RATES_ZH,
    ]


def _lines(answer: dict[str, Any]) -> Iterator[tuple[str, str, list[int], list[float | None]]]:
    """(key, name, counts, rates) of every row, then of the totals."""
    for row in [*answer["rows"], {"key": TOTAL, "label": None, **answer["totals"]}]:
        label = row["label"]["zh"] if row["label"] else ""
        counts = [row["levels"][str(n)] for n in range(1, 6)] + [row[c] for c in COUNTS]
        counts += [row.get("channels", {}).get(c, 0) for c in CHANNELS_ZH]
        yield row["key"], label, counts, [row[r] for r in RATES]


def title(answer: dict[str, Any]) -> str:
    return f"好差评报表 {answer['hall']} {answer['from_day']} 至 {answer['to_day']}（按{GROUP_ZH[answer['group']]}）"


def report_csv(answer: dict[str, Any]) -> bytes:
    """The rows and the totals, one line each under the headers; rates as ``99.50%`` (empty: no base)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers(answer))
    for key, label, counts, rates in _lines(answer):
        w.writerow([key, label, *counts, *("" if r is None else f"{r:.2%}" for r in rates)])
    return buf.getvalue().encode("utf-8-sig")


def report_xlsx(answer: dict[str, Any]) -> bytes:
    """One sheet: the title in row 1, the headers in row 2, the rows, 合计, then the 非常满意率 target."""
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = "好差评"
    ws.append([title(answer)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(headers(answer))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    first_rate = 3 + 5 + len(COUNTS) + len(CHANNELS_ZH)  # column of 非常满意率
    for key, label, counts, rates in _lines(answer):
        ws.append([key, label, *counts, *rates])
        for i in range(len(RATES)):
            ws.cell(ws.max_row, first_rate + i).number_format = "0.00%"
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    ws.append([])
    ws.append(["非常满意率目标", "", answer["target"]])
    ws.cell(ws.max_row, 3).number_format = "0%"
    ws.freeze_panes = "C3"
    for i, width in enumerate([14, 22] + [10] * (len(headers(answer)) - 2), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
