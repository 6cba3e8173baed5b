"""Scan materials (材料扫描): guided multi-page capture with preview and retake.

::

    intro ─start─▶ capturing ─▶ preview ─next─▶ capturing ─▶ preview ... ─finish─▶ saving ─▶ done
                      │            └─retake─▶ capturing (replaces that page)
                      └─(no page)─▶ intro/preview with a message;  (camera gone)─▶ unavailable

The states are :class:`ScanState`; ``TRANSITIONS`` declares the moves between them.

Pages stay on the kiosk (the scanner session writes them); only a reference to the saved set is
shown and may be attached to a ticket or case. Scans are personal data: a timeout drops them.
"""

from __future__ import annotations

import base64
from typing import Any

from kiosk.flow import Flow, FlowState, KioskContext
from kiosk.ports import ScannedPage, error_detail, is_offline

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
        if ctx.device("scanner") is None:
            self.state = S.UNAVAILABLE
            self.message = ctx.tr("scan.unavailable")

    def clear_personal_data(self) -> None:
        self.pages = []
        self.current = None
        self.reference = ""

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
        try:
            self.reference = self.ctx.device("scanner").save_pages(list(self.pages))
        except Exception as exc:
            self.go("preview", self.ctx.tr("error.failed", reason=error_detail(exc)))
            return
        count = len(self.pages)
        self.pages = []  # the saved set lives on in the scanner's store; the kiosk forgets the images
        self.current = None
        self.go("done", self.ctx.tr("scan.done", n=count, ref=self.reference), count=count)

    def _view(self) -> dict[str, Any]:
        v: dict[str, Any] = {
            "title": self.ctx.tr("scan.title"),
            "intro": self.ctx.tr("scan.intro"),
            "pages": len(self.pages),
            "pages_text": self.ctx.tr("scan.pages", n=len(self.pages)),
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
        return v
