"""Rate a service at the kiosk (好差评) when no pad is at hand: the five national levels.

::

    entry (ticket number) ─submit─▶ checking (ticket.get) ─▶ level ─1..3─▶ sending ─▶ thanks
                                                              └─4,5─▶ reason ─▶ sending ─▶ thanks | already
The evaluation goes to the controller as ``evaluation.submit`` ``{ticket, day, level, reason?,
channel: "kiosk"}``; one evaluation per ticket is the controller's rule (``recorded: false`` when
the pad or another channel rated the ticket already: the flow says so).
"""
from __future__ import annotations

import re
from typing import Any

from kiosk.flow import Flow
from kiosk.ports import is_bus_error

LEVELS = (1, 2, 3, 4, 5)  # 1 = 非常满意 ... 5 = 非常不满意
BAD_LEVELS = (4, 5)
REASONS = ("attitude", "efficiency", "process", "result", "other")
CODE = re.compile(r"^[A-Z]{1,2}\d{3,4}$")
CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class RateFlow(Flow):
    name = "rate"
    initial = "entry"
    timeout_s = 60.0
    busy_states = frozenset({"checking", "sending"})

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.typed = ""
        self.ticket: dict | None = None
        self.level: int | None = None
        self._retry = None

    def clear_personal_data(self) -> None:
        self.typed = ""
        self.ticket = None
        self.level = None

    def type_char(self, ch: str) -> None:
        ch = ch.upper()
        if ch in CODE_CHARS and len(self.typed) < 6:
            self.typed += ch
        self.go(self.state, self.message)

    def backspace(self) -> None:
        self.typed = self.typed[:-1]
        self.go(self.state, self.message)

    def submit(self) -> None:
        code = self.typed
        if not CODE.match(code):
            self.go("entry", self.ctx.tr("rate.enter"))
            return
        self.go("checking", self.ctx.tr("common.please_wait"))
        try:
            out = self.ctx.request("ticket.get", {"code": code})
        except Exception as exc:  # noqa: BLE001
            if is_bus_error(exc):
                self._retry = self.submit
                self.go("bus_error", self.ctx.tr("error.bus"))
            else:
                self.go("entry", self.ctx.tr("rate.not_found", ticket=code))
            return
        t = out["ticket"]
        if t["state"] not in ("finished", "done", "serving"):
            self.go("entry", self.ctx.tr("rate.not_finished", ticket=code))
            return
        self.ticket = t
        self.go("level", self.ctx.tr("rate.prompt", ticket=code))

    def choose_level(self, level: int) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be 1..5, got {level!r}")
        self.level = level
        if level in BAD_LEVELS:
            self.go("reason", self.ctx.tr("rate.reason.prompt"))
        else:
            self._send(None)

    def choose_reason(self, reason: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        self._send(reason)

    def retry(self) -> None:
        action, self._retry = self._retry, None
        (action or (lambda: self.go("entry")))()

    def back(self) -> None:
        self.go("level" if self.state == "reason" else "entry")

    def _send(self, reason: str | None) -> None:
        assert self.ticket is not None and self.level is not None
        data: dict[str, Any] = {"ticket": self.ticket["code"], "level": self.level, "channel": "kiosk"}
        if self.ticket.get("day"):
            data["day"] = self.ticket["day"]
        if reason:
            data["reason"] = reason
        self.go("sending", self.ctx.tr("common.please_wait"))
        try:
            out = self.ctx.request("evaluation.submit", data)
        except Exception as exc:  # noqa: BLE001
            code = getattr(exc, "code", "")
            if is_bus_error(exc):
                self._retry = lambda: self._send(reason)
                self.go("bus_error", self.ctx.tr("error.bus"))
            elif code in ("already_rated", "already_evaluated", "duplicate"):
                self.go("already", self.ctx.tr("rate.already", ticket=self.ticket["code"]))
            elif code == "not_finished":
                self.go("entry", self.ctx.tr("rate.not_finished", ticket=self.ticket["code"]))
            elif code in ("unknown_op",):
                self.go("unavailable", self.ctx.tr("rate.unavailable"))
            else:
                self.go("entry", self.ctx.tr("error.failed", reason=str(exc).split(": ", 2)[-1]))
            return
        if isinstance(out, dict) and (out.get("recorded") is False or out.get("counted") is False):
            self.go("already", self.ctx.tr("rate.already", ticket=self.ticket["code"]))
        else:
            self.go("thanks", self.ctx.tr("rate.thanks"))

    def _view(self) -> dict:
        v: dict[str, Any] = {"title": self.ctx.tr("rate.title"), "typed": self.typed, "prompt": self.ctx.tr("rate.enter")}
        if self.state == "level":
            v["levels"] = [{"id": lv, "label": self.ctx.tr(f"rate.level.{lv}"), "bad": lv in BAD_LEVELS} for lv in LEVELS]
        if self.state == "reason":
            v["reasons"] = [{"id": r, "label": self.ctx.tr(f"rate.reason.{r}")} for r in REASONS]
        return v
