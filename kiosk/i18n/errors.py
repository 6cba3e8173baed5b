"""Sentences shown for errors, keyed ``error.<code>`` by the error code they explain."""

from __future__ import annotations

# key: (中文, English)
STRINGS: dict[str, tuple[str, str]] = {
    # generic errors
    "error.title": ("温馨提示", "Notice"),
    "error.bus": (
        "暂时无法连接大厅系统，请稍后重试或咨询工作人员",
        "The hall system cannot be reached right now; please retry or ask staff",
    ),
    "error.failed": ("操作未成功：{reason}", "That did not work: {reason}"),
    "error.printer.paper_out": ("打印机缺纸", "printer out of paper"),
    "error.printer.cover_open": ("打印机盖未关好", "printer cover open"),
    "error.sold_out": (
        "今日号源已取完，请改日再来或在线预约",
        "Today's tickets for this service are all taken; please come another day or book an appointment",
    ),
    "error.printer.unavailable": ("打印机不可用", "printer unavailable"),
}
