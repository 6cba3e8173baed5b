"""Rate a service at the kiosk (好差评) when no pad is at hand: the five national levels.

::

    entry (ticket number) ─submit─▶ checking (evaluation.get) ─▶ level ─1..3─▶ sending ─▶ thanks
                                         │                          └─4,5─▶ reason ─▶ sending ─▶ thanks
                                         └─ already rated ─▶ already;  not finished / not found ─▶ entry

The kiosk checks first: ``evaluation.get`` says whether the ticket can still be rated (it is finished
and no channel rated it) before the citizen chooses a level and a reason. One evaluation per ticket
stays the controller's rule: if the pad rates the ticket in between, ``evaluation.submit`` answers
``recorded: false`` and the flow says so.

The states are :class:`RateState`; ``TRANSITIONS`` declares the moves between them. The levels,
reasons and the ticket-code shape are the hall vocabulary's (``hall_bus.vocabulary``). Refusals are
told by their error code (``kiosk.i18n.errors``), never by the controller's detail.
"""

from __future__ import annotations

import re
from typing import Any

from hall_bus.contracts.evaluation import EvaluationGet, EvaluationRecorded, EvaluationSubmit, EvaluationView
from hall_bus.vocabulary import BAD_LEVELS, REASONS, TICKET_CODE_PATTERN, Reason
from hall_bus.vocabulary import LEVELS as LEVEL_NAMES
from kiosk.flow import Flow, FlowState, KioskContext
from kiosk.i18n.errors import error_sentence

LEVELS = tuple(LEVEL_NAMES)  # 1 = 非常满意 ... 5 = 非常不满意
CODE = re.compile(rf"^{TICKET_CODE_PATTERN}$")
CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class RateState(FlowState):
    ENTRY = "entry"
    CHECKING = "checking"
    LEVEL = "level"
    REASON = "reason"
    SENDING = "sending"
    THANKS = "thanks"
    ALREADY = "already"
    UNAVAILABLE = "unavailable"
    BUS_ERROR = "bus_error"
    ERROR = "error"


S = RateState
TRANSITIONS: dict[str, frozenset[str]] = {
    S.ENTRY: frozenset({S.CHECKING, S.LEVEL}),  # level: a ticket already known (the demo's screenshots)
    S.CHECKING: frozenset({S.ENTRY, S.LEVEL, S.ALREADY, S.UNAVAILABLE, S.BUS_ERROR}),
    S.LEVEL: frozenset({S.ENTRY, S.REASON, S.SENDING}),
    S.REASON: frozenset({S.LEVEL, S.SENDING}),
    S.SENDING: frozenset({S.THANKS, S.ALREADY, S.UNAVAILABLE, S.ENTRY, S.BUS_ERROR}),
    S.THANKS: frozenset(),
    S.ALREADY: frozenset({S.ENTRY}),
    S.UNAVAILABLE: frozenset({S.ENTRY}),
    S.BUS_ERROR: frozenset({S.ENTRY, S.CHECKING, S.SENDING}),  # retry repeats what failed
    S.ERROR: frozenset({S.ENTRY}),
}


class RateFlow(Flow):
    name = "rate"
    State = RateState
    transitions = TRANSITIONS
    initial = S.ENTRY
    timeout_s = 60.0
    busy_states = frozenset({S.CHECKING, S.SENDING})
    keypad_chars, keypad_max = CODE_CHARS, 6

    def __init__(self, ctx: KioskContext) -> None:
        super().__init__(ctx)
        self.ticket: str | None = None  # the code of the ticket being rated, once it proved rateable
        self.level: int | None = None

    def clear_personal_data(self) -> None:
        self.typed = ""
        self.ticket = None
        self.level = None

    def submit(self) -> None:
        """Check the typed ticket first: rateable -> level; else say why (already rated, not finished ...)."""
        code = self.typed
        if not CODE.match(code):
            self.go("entry", self.ctx.tr("rate.enter"))
            return
        self.go("checking", self.ctx.tr("common.please_wait"))
        answer = self.ask("evaluation.get", EvaluationGet(ticket=code), EvaluationView, retry=self.submit)
        if answer.bus_down:
            return
        if answer.code == "not_found":
            self.go("entry", self.ctx.tr("rate.not_found", ticket=code))
        elif answer.code == "unknown_op":
            self.go("unavailable", self.ctx.tr("rate.unavailable"))
        elif not answer.ok:
            self.go("entry", error_sentence(answer.code, self.ctx.lang))
        elif answer.reply.evaluation.status == "rated":
            self.go("already", self.ctx.tr("rate.already", ticket=code))
        elif not answer.reply.rateable:
            self.go("entry", self.ctx.tr("rate.not_finished", ticket=code))
        else:
            self.ticket = code
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
        chosen = next((r for r in REASONS if r == reason), None)
        if chosen is None:
            raise ValueError(f"unknown reason {reason!r}")
        self._send(chosen)

    def back(self) -> None:
        self.go("level" if self.state == "reason" else "entry")

    def _send(self, reason: Reason | None) -> None:
        assert self.ticket is not None and self.level is not None
        ticket_code = self.ticket
        request = EvaluationSubmit(ticket=ticket_code, level=self.level, channel="kiosk")
        if reason:
            request.reason = reason
        self.go("sending", self.ctx.tr("common.please_wait"))
        answer = self.ask("evaluation.submit", request, EvaluationRecorded, retry=lambda: self._send(reason))
        code, out = answer.code, answer.data
        if answer.bus_down:
            return
        if code in ("already_rated", "already_evaluated", "duplicate"):
            self.go("already", self.ctx.tr("rate.already", ticket=ticket_code))
        elif code == "not_finished":
            self.go("entry", self.ctx.tr("rate.not_finished", ticket=ticket_code))
        elif code == "unknown_op":
            self.go("unavailable", self.ctx.tr("rate.unavailable"))
        elif not answer.ok:
            self.go("entry", error_sentence(code, self.ctx.lang))
        elif out is not None and not out.recorded:
            self.go("already", self.ctx.tr("rate.already", ticket=ticket_code))
        else:
            self.go("thanks", self.ctx.tr("rate.thanks"))

    def _view(self) -> dict[str, Any]:
        v: dict[str, Any] = {
            "title": self.ctx.tr("rate.title"),
            "typed": self.typed,
            "prompt": self.ctx.tr("rate.enter"),
        }
        if self.state == "level":
            v["levels"] = [
                {"id": lv, "label": self.ctx.tr(f"rate.level.{lv}"), "bad": lv in BAD_LEVELS} for lv in LEVELS
            ]
        if self.state == "reason":
            v["reasons"] = [{"id": r, "label": self.ctx.tr(f"rate.reason.{r}")} for r in REASONS]
        return v
