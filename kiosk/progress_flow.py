"""Check progress (办件进度): by ID card (identity token) or by case number, via ``case.lookup``.

::

    choose ─card─▶ reading_card ─▶ looking_up ─▶ result | none
       └─number─▶ entry (keypad) ─submit─▶ looking_up ─▶ result | none
    (reader gone) ─▶ choose with a message;  (bus down) ─▶ bus_error ─retry─▶ looking_up
"""
from __future__ import annotations

from typing import Any

from kiosk.flow import Flow
from kiosk.identify import CardReadFailed, NoCard, ReaderUnavailable, read_card_identity
from kiosk.ports import is_bus_error

CASE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"

STATUS_ZH = {"received": "已受理", "processing": "办理中", "ready": "已办结待领取", "deposited": "已入柜待取件",
             "collected": "已领取", "returned": "已退回窗口", "closed": "已办结"}
STATUS_EN = {"received": "received", "processing": "in progress", "ready": "ready for collection",
             "deposited": "in a locker", "collected": "collected", "returned": "back at the window", "closed": "closed"}


class ProgressFlow(Flow):
    name = "progress"
    initial = "choose"
    timeout_s = 60.0
    busy_states = frozenset({"reading_card", "looking_up"})

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.typed = ""
        self.token: str | None = None
        self.cases: list[dict] = []
        self._last_query: dict | None = None

    def clear_personal_data(self) -> None:
        self.typed = ""
        self.token = None
        self.cases = []
        self._last_query = None

    def by_card(self) -> None:
        self._cancel.clear()
        self.go("reading_card", self.ctx.tr("ticket.reading_card"))
        try:
            identity = read_card_identity(self.ctx.device("idcard"), self.ctx.card_wait_s, lambda: self.cancelled, self.ctx.salt)
        except ReaderUnavailable:
            self.go("choose", self.ctx.tr("ticket.reader_unavailable"))
            return
        except NoCard:
            self.go("choose", self.ctx.tr("ticket.no_card"))
            return
        except CardReadFailed as exc:
            self.go("choose", self.ctx.tr("ticket.card_failed", reason=str(exc)))
            return
        if self.finished:
            return
        self.token = identity.token
        self._lookup({"identity_token": identity.token})

    def by_number(self) -> None:
        self.typed = ""
        self.go("entry", self.ctx.tr("progress.enter"))

    def type_char(self, ch: str) -> None:
        ch = ch.upper()
        if ch in CASE_CHARS and len(self.typed) < 32:
            self.typed += ch
        self.go(self.state, self.message)

    def backspace(self) -> None:
        self.typed = self.typed[:-1]
        self.go(self.state, self.message)

    def submit(self) -> None:
        if len(self.typed) < 4:
            self.go("entry", self.ctx.tr("progress.none"))
            return
        self._lookup({"case_no": self.typed})

    def retry(self) -> None:
        if self._last_query:
            self._lookup(self._last_query)
        else:
            self.go("choose")

    def back(self) -> None:
        self.go("choose")

    def _lookup(self, query: dict) -> None:
        self._last_query = query
        self.go("looking_up", self.ctx.tr("common.please_wait"))
        try:
            out = self.ctx.request("case.lookup", query)
        except Exception as exc:  # noqa: BLE001
            if is_bus_error(exc):
                self.go("bus_error", self.ctx.tr("error.bus"))
            elif getattr(exc, "code", "") == "not_found":
                self.cases = []
                self.go("none", self.ctx.tr("progress.none"))
            elif getattr(exc, "code", "") in ("unknown_op", "invalid_request"):
                self.go("unavailable", self.ctx.tr("progress.unavailable"))
            else:
                self.go("choose", self.ctx.tr("error.failed", reason=str(exc).split(": ", 2)[-1]))
            return
        self.cases = list(out.get("cases", []))
        if self.cases:
            self.go("result", self.ctx.tr("progress.result", n=len(self.cases)))
        else:
            self.go("none", self.ctx.tr("progress.none"))

    def _view(self) -> dict:
        v: dict[str, Any] = {"title": self.ctx.tr("progress.title"), "typed": self.typed,
                             "prompt": self.ctx.tr("progress.prompt"),
                             "methods": [{"id": "card", "label": self.ctx.tr("progress.by_card")},
                                         {"id": "number", "label": self.ctx.tr("progress.by_number")}]}
        if self.state == "result":
            names = STATUS_EN if self.ctx.lang == "en" else STATUS_ZH
            v["cases"] = [{"case_no": c.get("case_no", ""), "title": c.get("title") or c.get("service_name", ""),
                           "status": (c.get("status_zh") if self.ctx.lang == "zh" and c.get("status_zh") else
                                      names.get(str(c.get("status", "")), str(c.get("status", "")))),
                           "detail": c.get("detail", "")}
                          for c in self.cases]
        return v
