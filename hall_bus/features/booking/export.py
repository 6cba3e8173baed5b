"""The ``booking.report`` answer (预约履约) as files a hall manager opens in Excel or WPS, made the way
the 好差评 report's are (:mod:`hall_bus.features.evaluation.export`, whose group names and 合计 row
these share): CSV in UTF-8 with a BOM, so Excel reads the Chinese, and XLSX (openpyxl) with the
title in row 1, the headers in row 2, a row per group, then 合计; the 爽约率 as a percentage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hall_bus.features.evaluation.export import GROUP_ZH, TOTAL
from hall_bus.features.tables import Sheet, csv_bytes, xlsx_bytes

COUNTS = ["total", "booked", "checked_in", "no_show", "cancelled"]
COUNTS_ZH = ["预约总数", "待签到", "已签到", "爽约", "已取消"]
RATE_ZH = "爽约率"


def headers(answer: dict[str, Any]) -> list[str]:
    return [GROUP_ZH[answer["group"]], "名称", *COUNTS_ZH, RATE_ZH]


def _lines(answer: dict[str, Any]) -> Iterator[tuple[str, str, list[int], float | None]]:
    """(key, name, counts, no-show rate) of every row, then of the totals."""
    for row in [*answer["rows"], {"key": TOTAL, "label": None, **answer["totals"]}]:
        label = row["label"]["zh"] if row["label"] else ""
        yield row["key"], label, [row[c] for c in COUNTS], row["no_show_rate"]


def title(answer: dict[str, Any]) -> str:
    only = f" {answer['service']}" if answer.get("service") else ""
    return (
        f"预约履约报表 {answer['hall']}{only} {answer['from_day']} 至 {answer['to_day']}"
        f"（按{GROUP_ZH[answer['group']]}）"
    )


def report_csv(answer: dict[str, Any]) -> bytes:
    """The rows and the totals, one line each under the headers; the rate as ``12.50%`` (empty: no base)."""
    lines = (
        [key, label, *counts, "" if rate is None else f"{rate:.2%}"] for key, label, counts, rate in _lines(answer)
    )
    return csv_bytes(headers(answer), lines)


def report_xlsx(answer: dict[str, Any]) -> bytes:
    """One sheet 预约履约: the title, the headers, the rows and 合计 in bold."""
    return xlsx_bytes(
        Sheet(
            name="预约履约",
            title=title(answer),
            headers=headers(answer),
            lines=([key, label, *counts, rate] for key, label, counts, rate in _lines(answer)),
            percent=[3 + len(COUNTS)],
            bold_last=True,
            freeze="C3",
        )
    )
