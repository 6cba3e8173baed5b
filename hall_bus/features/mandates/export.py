"""The ledger (帮办代办台账) as files a hall manager opens in Excel or WPS: CSV (UTF-8 with a BOM, so
Excel reads the Chinese) and XLSX (openpyxl). One row per mandate, made from the very ``mandate.list``
answer the page shows; the citizen appears only as the first 12 characters of the identity token."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hall_bus.features.tables import Sheet, csv_bytes, xlsx_bytes

HEADERS = [
    "委托单号",
    "办理事项",
    "身份标识",
    "代办员",
    "工号",
    "已收材料",
    "承诺办结",
    "状态",
    "是否逾期",
    "受理时间",
    "最近变更",
    "备注",
]
WIDTHS = [18, 22, 16, 10, 8, 36, 12, 8, 8, 17, 17, 30]


def rows(mandates: list[dict[str, Any]], tz: dt.tzinfo) -> list[list[str]]:
    def when(at: float) -> str:
        return dt.datetime.fromtimestamp(float(at), tz).strftime("%Y-%m-%d %H:%M")

    return [
        [
            m["mandate_no"],
            m["service_name"],
            m["identity_token"][:12],
            m["agent_name"],
            m["agent"],
            "；".join(m["materials"]),
            m["promised_date"],
            m["state_zh"],
            "是" if m["overdue"] else "否",
            when(m["created_at"]),
            when(m["updated_at"]),
            m["note"],
        ]
        for m in mandates
    ]


def ledger_csv(mandates: list[dict[str, Any]], tz: dt.tzinfo) -> bytes:
    return csv_bytes(HEADERS, rows(mandates, tz))


def ledger_xlsx(mandates: list[dict[str, Any]], tz: dt.tzinfo) -> bytes:
    return xlsx_bytes(Sheet(name="帮办代办台账", headers=HEADERS, lines=rows(mandates, tz), widths=WIDTHS, freeze="B2"))
