"""Scan materials (材料扫描): guided multi-page capture with preview and retake.

::

    intro ─start─▶ capturing ─▶ preview ─next─▶ capturing ─▶ preview ... ─finish─▶ saving ─▶ done
                      │            └─retake─▶ capturing (replaces that page)
                      └─(no page)─▶ intro/preview with a message;  (camera gone)─▶ unavailable

The states are :class:`ScanState`; ``TRANSITIONS`` declares the moves between them.

Pages are saved on the kiosk (the scanner session writes them into its store, kept for the configured
retention). A scan may be attached to the citizen's ticket (:meth:`ScanFlow.set_ticket`, the ticket
code typed on the intro or preview screen): when it is saved it is also sent to the hall's web console,
whose window page shows it when that ticket is called (docs/citizen-web.md "Scans at the window"). The done screen is a slip: the material code (材料编号) to show at the window, the pages,
when they were saved and until when they are kept (the hall's clock), and the next step (take a
ticket, show the code). Scans are personal data: a timeout drops them.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from typing import Any

from hall_bus.vocabulary import TICKET_CODE_PATTERN
from kiosk.clock import hall_time
from kiosk.flow import Flow, FlowState, KioskContext
from kiosk.i18n.errors import error_sentence
from kiosk.ports import ScannedPage, error_detail, is_offline

log = logging.getLogger(__name__)

MAX_PAGES = 20


class ScanState(FlowState):
    INTRO = "intro"
    CAPTURING = "capturing"
    PREVIEW = "preview"
    SAVING = "saving"
    DONE = "done"
    UNAVAILABLE = "unavailable"
    ERROR = "error"


S = ScanState
TRANSITIONS: dict[str, frozenset[str]] = {
    S.INTRO: frozenset({S.CAPTURING, S.UNAVAILABLE}),
    S.CAPTURING: frozenset({S.PREVIEW, S.INTRO, S.UNAVAILABLE}),
    S.PREVIEW: frozenset({S.CAPTURING, S.SAVING, S.UNAVAILABLE}),
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

    def __init__(self, ctx: KioskContext) -> None:
        super().__init__(ctx)
        self.pages: list[ScannedPage] = []
        self.current: int | None = None  # index being previewed
        self.reference = ""
        self.ticket = ""  # the ticket the scan is for (sent to its window), "" for none
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
        self.sent = None
        self.slip = {}

    def set_ticket(self, code: str) -> bool:
        """Attach the scan to ticket ``code`` (as printed, e.g. ``A001``); False (and a message) if it is none."""
        code = code.strip().upper()
        if not re.fullmatch(TICKET_CODE_PATTERN, code):
            self.message = self.ctx.tr("scan.ticket_bad")
            self._notify()
            return False
        self.ticket = code
        self.message = self.ctx.tr("scan.ticket_set", ticket=code)
        self._notify()
        return True

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
        if self.ticket:
            self.sent = bool(scanner.send(self.reference, self.ticket)) if hasattr(scanner, "send") else False
        self.pages = []  # the saved set lives on in the scanner's store; the kiosk forgets the images
        self.current = None
        saved = time.time()
        days = getattr(scanner, "retention_days", None)
        self.slip = {"count": count, "saved_at": saved, "keep_until": saved + days * 86400.0 if days else None}
        done = self.ctx.tr("scan.done", n=count, ref=self.reference)
        if self.sent is not None:
            done += "，" if self.ctx.lang == "zh" else ". "
            done += self.ctx.tr("scan.sent" if self.sent else "scan.not_sent", ticket=self.ticket)
        self.go("done", done, count=count, ticket=self.ticket, sent=self.sent)

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
        if self.ticket:
            value = tr("scan.slip.sent" if self.sent else "scan.slip.not_sent", ticket=self.ticket)
            rows.append({"label": tr("scan.slip.ticket"), "value": value})
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
            "ticket_prompt": self.ctx.tr("scan.ticket_prompt"),
        }
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
