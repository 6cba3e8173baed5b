"""The ``report.range`` answer as files a hall manager opens in Excel or WPS: CSV (UTF-8 with a BOM, so
Excel reads the Chinese) and XLSX (openpyxl; rates as percentages). Headers are in Chinese, with the
group's key and its name, the counts per national level, then the rates; the last row is 合计."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hall_bus.features.tables import Sheet, csv_bytes, xlsx_bytes
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
    lines = (
        [key, label, *counts, *("" if r is None else f"{r:.2%}" for r in rates)]
        for key, label, counts, rates in _lines(answer)
    )
    return csv_bytes(headers(answer), lines)


def report_xlsx(answer: dict[str, Any]) -> bytes:
    """One sheet: the title in row 1, the headers in row 2, the rows, 合计, then the 非常满意率 target."""
    first_rate = 3 + 5 + len(COUNTS) + len(CHANNELS_ZH)  # column of 非常满意率
    return xlsx_bytes(
        Sheet(
            name="好差评",
            title=title(answer),
            headers=headers(answer),
            lines=([key, label, *counts, *rates] for key, label, counts, rates in _lines(answer)),
            percent=range(first_rate, first_rate + len(RATES)),
            bold_last=True,
            freeze="C3",
            footer=[(["非常满意率目标", "", answer["target"]], {3: "0%"})],
        )
    )
