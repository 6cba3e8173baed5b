"""Scan materials (材料扫描): guided multi-page capture with preview and retake.

::

    intro ─start─▶ capturing ─▶ preview ─next─▶ capturing ─▶ preview ... ─finish─▶ saving ─▶ done
      │               │            └─retake─▶ capturing (replaces that page)
      │               └─(no page)─▶ intro/preview with a message;  (camera gone)─▶ unavailable
      └─(intro or preview) number─▶ attach ─(a ticket or a known case)─▶ back where it came from

The states are :class:`ScanState`; ``TRANSITIONS`` declares the moves between them.

Pages are saved on the kiosk (the scanner session writes them into its store, kept for the configured
retention). A scan may be attached to the citizen's ticket or case (:meth:`ScanFlow.attach`, the number
typed on the ``attach`` screen reached from the intro or preview screen): a code shaped like a ticket
(``A001``, :data:`TICKET_CODE_PATTERN`) is a ticket; anything else shaped like a case number (办件编号,
as printed on the 受理回执) is a case, accepted only once ``case.lookup`` found it. When the scan is saved
it is also sent to the hall's web console, whose window page shows it when that ticket is called, or
when a clerk opens the case's scans (docs/citizen-web.md "Scans at the window"). The done screen is a
slip: the material code (材料编号) to show at the window, the pages,
when they were saved and until when they are kept (the hall's clock), and the next step (take a
ticket, show the code). Scans are personal data: a timeout drops them.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from typing import Any

from hall_bus.contracts.cases import CASE_NO, CaseList, CaseLookup
from hall_bus.vocabulary import TICKET_CODE_PATTERN
from kiosk.clock import hall_time
from kiosk.flow import Flow, FlowState, KioskContext
from kiosk.i18n.errors import error_sentence
from kiosk.ports import ScannedPage, error_detail, is_offline

log = logging.getLogger(__name__)

MAX_PAGES = 20
NUMBER_KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"  # a ticket or a case number on the keypad


class ScanState(FlowState):
    INTRO = "intro"
    CAPTURING = "capturing"
    PREVIEW = "preview"
    SAVING = "saving"
    DONE = "done"
    ATTACH = "attach"  # typing the ticket or case number the scan is for
    UNAVAILABLE = "unavailable"
    ERROR = "error"


S = ScanState
TRANSITIONS: dict[str, frozenset[str]] = {
    S.INTRO: frozenset({S.CAPTURING, S.ATTACH, S.UNAVAILABLE}),
    S.CAPTURING: frozenset({S.PREVIEW, S.INTRO, S.UNAVAILABLE}),
    S.PREVIEW: frozenset({S.CAPTURING, S.SAVING, S.ATTACH, S.UNAVAILABLE}),
    S.ATTACH: frozenset({S.INTRO, S.PREVIEW}),
    S.SAVING: frozenset({S.DONE, S.PREVIEW}),
    S.DONE: frozenset(),
    S.UNAVAILABLE: frozenset({S.CAPTURING}),  # the camera came back
    S.ERROR: frozenset({S.INTRO, S.PREVIEW, S.CAPTURING}),
}


class ScanFlow(Flow):
    name = "scan"
    State = ScanState
    transitions = TRANSITIONS
    initial = S.INTRO
    timeout_s = 90.0
    busy_states = frozenset({S.CAPTURING, S.SAVING})
    keypad_chars = NUMBER_KEYS
    keypad_max = 32

    def __init__(self, ctx: KioskContext) -> None:
        super().__init__(ctx)
        self.pages: list[ScannedPage] = []
        self.current: int | None = None  # index being previewed
        self.reference = ""
        self.ticket = ""  # the ticket the scan is for (sent to its window), "" for none
        self.case = ""  # or the case (办件编号) it is for, checked with case.lookup; "" for none
        self._back = S.INTRO  # where the attach screen returns to
        self.sent: bool | None = None  # whether the saved scan reached the window (None: not attached)
        self.slip: dict[str, Any] = {}
        if ctx.device("scanner") is None:
            self.state = S.UNAVAILABLE
            self.message = ctx.tr("scan.unavailable")

    def clear_personal_data(self) -> None:
        self.pages = []
        self.current = None
        self.reference = ""
        self.ticket = ""
        self.case = ""
        self.sent = None
        self.slip = {}

    def set_ticket(self, code: str) -> bool:
        """Attach the scan to ticket ``code`` (as printed, e.g. ``A001``); False (and a message) if it is none."""
        code = code.strip().upper()
        if not re.fullmatch(TICKET_CODE_PATTERN, code):
            return self._say(self.ctx.tr("scan.ticket_bad"))
        self.ticket, self.case = code, ""
        return self._say(self.ctx.tr("scan.ticket_set", ticket=code), True)

    def set_case(self, case_no: str) -> bool:
        """Attach the scan to case ``case_no`` (办件编号), once ``case.lookup`` found it; False (and a message:
        not a case number, no such case, the bus did not answer) otherwise."""
        case_no = case_no.strip().upper()
        if not re.fullmatch(CASE_NO, case_no):
            return self._say(self.ctx.tr("scan.number_bad"))
        answer = self.ask("case.lookup", CaseLookup(case_no=case_no), CaseList, retry=None)
        if answer.bus_down:
            return False
        if answer.code == "not_found" or (answer.ok and not answer.reply.cases):
            return self._say(self.ctx.tr("scan.case_unknown", case=case_no))
        if not answer.ok:
            return self._say(self.ctx.error_sentence(answer.code, answer.detail))
        self.ticket, self.case = "", case_no
        return self._say(self.ctx.tr("scan.case_set", case=case_no), True)

    def attach(self, code: str) -> bool:
        """Attach the scan to what ``code`` names: a ticket when it is shaped like one, else a case."""
        code = code.strip().upper()
        if re.fullmatch(TICKET_CODE_PATTERN, code):
            return self.set_ticket(code)
        return self.set_case(code)

    def enter_number(self) -> None:
        """Open the keypad for the ticket or case number (from the intro or a preview)."""
        if self.state in (S.INTRO, S.PREVIEW):
            self._back = S(self.state)
        self.typed = ""
        self.go("attach", self.ctx.tr("scan.ticket_prompt"))

    def attach_typed(self) -> None:
        """Attach what was typed; back to where the citizen came from when it was accepted."""
        if self.attach(self.typed):
            self._return()

    def cancel_attach(self) -> None:
        self._return()

    def _return(self) -> None:
        """Back from the keypad to the intro or the preview (which shows what the scan is attached to)."""
        self.typed = ""
        self.go(self._back, self.ctx.tr("scan.preview", n=(self.current or 0) + 1) if self._back == S.PREVIEW else "")

    def bus_down(self) -> None:
        """The bus did not answer the case lookup: say so where the citizen is (the scan itself goes on)."""
        self._say(self.ctx.tr("error.bus"))

    def _say(self, message: str, ok: bool = False) -> bool:
        self.message = message
        self.touch()
        self._notify()
        return ok

    def start(self) -> None:
        self.capture()

    def capture(self, replace: int | None = None) -> None:
        scanner = self.ctx.device("scanner")
        if scanner is None:
            self.go("unavailable", self.ctx.tr("scan.unavailable"))
            return
        if replace is None and len(self.pages) >= MAX_PAGES:
            self.finish()
            return
        n = (replace if replace is not None else len(self.pages)) + 1
        self._cancel.clear()
        if hasattr(scanner, "should_stop"):
            scanner.should_stop = lambda: self.cancelled
        self.go("capturing", self.ctx.tr("scan.capturing", n=n))
        try:
            page = scanner.capture_page(15.0)
        except Exception as exc:
            if is_offline(exc):
                self.go("unavailable", self.ctx.tr("scan.unavailable"))
            else:
                self.go("preview" if self.pages else "intro", self.ctx.tr("scan.no_page"))
            return
        if self.finished:
            return
        if page is None:
            self.go("preview" if self.pages else "intro", self.ctx.tr("scan.no_page"))
            return
        if replace is not None:
            self.pages[replace] = page
            self.current = replace
        else:
            self.pages.append(page)
            self.current = len(self.pages) - 1
        self.go("preview", self.ctx.tr("scan.preview", n=self.current + 1))

    def next_page(self) -> None:
        self.capture()

    def retake(self) -> None:
        if self.current is None:
            self.capture()
        else:
            self.capture(replace=self.current)

    def show(self, index: int) -> None:
        if 0 <= index < len(self.pages):
            self.current = index
            self.go("preview", self.ctx.tr("scan.preview", n=index + 1))

    def finish(self) -> None:
        if not self.pages:
            self.close()
            return
        self.go("saving", self.ctx.tr("scan.saving"))
        scanner = self.ctx.device("scanner")
        try:
            self.reference = scanner.save_pages(list(self.pages))
        except Exception as exc:
            log.warning("scan not saved: %s", error_detail(exc))
            self.go("preview", error_sentence("device_error", self.ctx.lang))
            return
        count = len(self.pages)
        if self.ticket or self.case:
            sent = (
                scanner.send(self.reference, ticket=self.ticket, case_no=self.case) if hasattr(scanner, "send") else 0
            )
            self.sent = bool(sent)
        self.pages = []  # the saved set lives on in the scanner's store; the kiosk forgets the images
        self.current = None
        saved = time.time()
        days = getattr(scanner, "retention_days", None)
        self.slip = {"count": count, "saved_at": saved, "keep_until": saved + days * 86400.0 if days else None}
        done = self.ctx.tr("scan.done", n=count, ref=self.reference)
        if self.sent is not None:
            done += "，" if self.ctx.lang == "zh" else ". "
            if self.sent and self.case:
                done += self.ctx.tr("scan.sent_case", case=self.case)
            else:
                done += self.ctx.tr("scan.sent" if self.sent else "scan.not_sent", ticket=self.ticket)
        self.go("done", done, count=count, ticket=self.ticket, case=self.case, sent=self.sent)

    def slip_lines(self) -> list[dict[str, str]]:
        """The on-screen slip of a saved scan: label/value rows, in the hall's time."""
        if not self.slip:
            return []
        tr, hall = self.ctx.tr, self.ctx.hall
        rows = [
            {"label": tr("scan.slip.code"), "value": self.reference},
            {"label": tr("scan.slip.pages"), "value": tr("scan.slip.pages_n", n=self.slip["count"])},
            {"label": tr("scan.slip.saved"), "value": f"{hall_time(hall, self.slip['saved_at']):%Y-%m-%d %H:%M}"},
        ]
        if self.ticket or self.case:
            value = tr("scan.slip.sent" if self.sent else "scan.slip.not_sent", ticket=self.ticket or self.case)
            rows.append({"label": tr("scan.slip.ticket" if self.ticket else "scan.slip.case"), "value": value})
        if self.slip["keep_until"] is not None:
            rows.append(
                {"label": tr("scan.slip.kept"), "value": f"{hall_time(hall, self.slip['keep_until']):%Y-%m-%d}"}
            )
        return rows

    def _view(self) -> dict[str, Any]:
        v: dict[str, Any] = {
            "title": self.ctx.tr("scan.title"),
            "intro": self.ctx.tr("scan.intro"),
            "pages": len(self.pages),
            "pages_text": self.ctx.tr("scan.pages", n=len(self.pages)),
            "ticket": self.ticket,
            "case": self.case,
            "ticket_prompt": self.ctx.tr("scan.ticket_prompt"),
            "attach": self.ctx.tr("scan.attach"),
            "attached": (
                self.ctx.tr("scan.ticket_set", ticket=self.ticket)
                if self.ticket
                else self.ctx.tr("scan.case_set", case=self.case)
                if self.case
                else ""
            ),
        }
        if self.state == "attach":
            v["typed"] = self.typed
        if self.state == "preview" and self.current is not None and self.current < len(self.pages):
            page = self.pages[self.current]
            v["preview"] = {
                "index": self.current,
                "png_b64": base64.b64encode(page.preview_png).decode("ascii"),
                "width": page.width,
                "height": page.height,
            }
        if self.state == "done":
            v["reference"] = self.reference
            v["slip"] = self.slip_lines()
            v["next_step"] = self.ctx.tr("scan.next_step", ref=self.reference)
            v["take_ticket"] = self.ctx.tr("scan.take_ticket")
        return v
