"""Check progress (办件进度): by ID card (identity token) or by case number, via ``case.lookup``.

::

    choose ─card─▶ reading_card ─▶ looking_up ─▶ result | none
       └─number─▶ entry (keypad) ─submit─▶ looking_up ─▶ result | none
    (reader gone) ─▶ choose with a message;  (bus down) ─▶ bus_error ─retry─▶ looking_up

The states are :class:`ProgressState`; ``TRANSITIONS`` declares the moves between them.
"""

from __future__ import annotations

from typing import Any

from hall_bus.contracts.cases import Case, CaseList, CaseLookup
from kiosk.flow import Flow, FlowState, KioskContext
from kiosk.i18n.errors import error_sentence

CASE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"

STATUSES = ("received", "processing", "ready", "deposited", "collected", "returned", "closed")  # progress.status.*


class ProgressState(FlowState):
    CHOOSE = "choose"
    READING_CARD = "reading_card"
    ENTRY = "entry"
    LOOKING_UP = "looking_up"
    RESULT = "result"
    NONE = "none"
    UNAVAILABLE = "unavailable"
    BUS_ERROR = "bus_error"
    ERROR = "error"


S = ProgressState
_ANSWERED = frozenset({S.RESULT, S.NONE, S.UNAVAILABLE, S.BUS_ERROR, S.CHOOSE})  # what a lookup leads to
TRANSITIONS: dict[str, frozenset[str]] = {
    S.CHOOSE: frozenset({S.READING_CARD, S.ENTRY}),
    S.READING_CARD: frozenset({S.CHOOSE, S.LOOKING_UP}),
    S.ENTRY: frozenset({S.CHOOSE, S.READING_CARD, S.LOOKING_UP}),
    S.LOOKING_UP: _ANSWERED,
    S.RESULT: frozenset({S.CHOOSE, S.READING_CARD, S.ENTRY}),
    S.NONE: frozenset({S.CHOOSE, S.READING_CARD, S.ENTRY}),
    S.UNAVAILABLE: frozenset({S.CHOOSE}),
    S.BUS_ERROR: frozenset({S.CHOOSE, S.LOOKING_UP}),  # retry repeats the lookup
    S.ERROR: frozenset({S.CHOOSE, S.LOOKING_UP}),
}


class ProgressFlow(Flow):
    name = "progress"
    State = ProgressState
    transitions = TRANSITIONS
    initial = S.CHOOSE
    timeout_s = 60.0
    busy_states = frozenset({S.READING_CARD, S.LOOKING_UP})
    keypad_chars, keypad_max = CASE_CHARS, 32

    def __init__(self, ctx: KioskContext) -> None:
        super().__init__(ctx)
        self.token: str | None = None
        self.cases: list[Case] = []
        self._last_query: CaseLookup | None = None

    def clear_personal_data(self) -> None:
        self.typed = ""
        self.token = None
        self.cases = []
        self._last_query = None

    def by_card(self) -> None:
        identity = self.read_id_card(
            "reading_card",
            self.ctx.tr("ticket.reading_card"),
            # the reader's own detail is not for the citizen: its failure is told by a sentence
            lambda why, _: self.go(
                "choose", self.ctx.tr(f"ticket.{why}", reason=error_sentence("device_error", self.ctx.lang))
            ),
        )
        if identity is None:
            return
        self.token = identity.token
        self._lookup(CaseLookup(identity_token=identity.token))

    def by_number(self) -> None:
        self.typed = ""
        self.go("entry", self.ctx.tr("progress.enter"))

    def submit(self) -> None:
        if len(self.typed) < 4:
            self.go("entry", self.ctx.tr("progress.none"))
            return
        self._lookup(CaseLookup(case_no=self.typed))

    def retry_default(self) -> None:
        if self._last_query:
            self._lookup(self._last_query)
        else:
            self.go("choose")

    def back(self) -> None:
        self.go("choose")

    def _lookup(self, query: CaseLookup) -> None:
        self._last_query = query
        self.go("looking_up", self.ctx.tr("common.please_wait"))
        answer = self.ask("case.lookup", query, CaseList, retry=lambda: self._lookup(query))
        if answer.bus_down:
            return
        if answer.code == "not_found":
            self.cases = []
            self.go("none", self.ctx.tr("progress.none"))
            return
        if answer.code in ("unknown_op", "invalid_request"):
            self.go("unavailable", self.ctx.tr("progress.unavailable"))
            return
        if not answer.ok:
            self.go("choose", error_sentence(answer.code, self.ctx.lang))
            return
        self.cases = list(answer.reply.cases)
        if self.cases:
            self.go("result", self.ctx.tr("progress.result", n=len(self.cases)))
        else:
            self.go("none", self.ctx.tr("progress.none"))

    def _view(self) -> dict[str, Any]:
        v: dict[str, Any] = {
            "title": self.ctx.tr("progress.title"),
            "typed": self.typed,
            "prompt": self.ctx.tr("progress.prompt"),
            "methods": [
                {"id": "card", "label": self.ctx.tr("progress.by_card")},
                {"id": "number", "label": self.ctx.tr("progress.by_number")},
            ],
        }
        if self.state == "result":
            v["cases"] = [
                {
                    "case_no": c.case_no,
                    "title": c.title or c.service_name,
                    "status": self._status(c),
                    "detail": c.detail,
                }
                for c in self.cases
            ]
        return v

    def _status(self, case: Case) -> str:
        """A case's status as a sentence (the case store's own Chinese wording first, in Chinese)."""
        status = case.status
        if self.ctx.lang == "zh" and case.status_zh:
            return case.status_zh
        return self.ctx.tr(f"progress.status.{status}") if status in STATUSES else status
