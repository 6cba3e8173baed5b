"""The hall's words that more than one part checks, defined once: the shape of an id, a ticket code,
an identity token and an appointment code; the green-channel priorities and the elderly age; the
national 好差评 scale. Config models, bus contracts, the queue engine and the kiosk flows import
them from here.
"""

from __future__ import annotations

from typing import Literal, get_args

from drivers.pad import LEVEL_NAMES

ID_PATTERN = r"[a-z0-9][a-z0-9_-]{0,31}"  # domain, service, kiosk, device ids
TICKET_CODE_PATTERN = r"[A-Z]{1,2}\d{3,5}"  # A001, SB1234, A10000 (up to 99999 a day)
TOKEN_PATTERN = r"[0-9a-f]{64}"  # a salted hash (HMAC-SHA256 hex) standing for an identity
APPOINTMENT_PATTERN = r"[A-Za-z0-9-]{4,32}"
Priority = Literal["normal", "elderly", "disabled", "pregnant", "military"]
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
ELDERLY_AGE = 60  # from this age the ID card alone opens the elderly green channel

# 好差评: level 1 is 非常满意, level 5 非常不满意; the two bad levels carry a reason.
LEVELS = LEVEL_NAMES  # the pad shows these very words, so its driver holds them
LEVELS_EN = {1: "very satisfied", 2: "satisfied", 3: "basically satisfied", 4: "dissatisfied", 5: "very dissatisfied"}
BAD_LEVELS = (4, 5)
Reason = Literal["attitude", "efficiency", "process", "result", "other"]
REASONS: tuple[Reason, ...] = get_args(Reason)
REASONS_ZH = {
    "attitude": "服务态度",
    "efficiency": "办事效率",
    "process": "办事流程",
    "result": "办理结果",
    "other": "其他",
}
