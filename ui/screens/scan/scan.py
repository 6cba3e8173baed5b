"""Scan materials (材料扫描): guided pages, preview, retake, finish."""

from __future__ import annotations

import base64
import io
from typing import Any

from kivy.core.image import Image as CoreImage
from kivy.uix.image import Image

from ui.screens.base import KioskScreen
from ui.theme import Theme
from ui.widgets import button, label


class ScanScreen(KioskScreen):
    def fill(self, view: dict[str, Any], theme: Theme, body: Any) -> None:
        flow = self.app.session.flow
        tr = self.app.tr
        s = view["state"]
        if s == "intro":
            body.add_widget(label(theme, view["intro"], 44, theme.fg, pad=60))
            body.add_widget(
                button(
                    theme,
                    tr("scan.start"),
                    lambda: self.act(flow.start),
                    "scan:start",
                    role="primary",
                    size=52,
                    height=200,
                )
            )
        elif s in ("capturing", "saving"):
            self.busy(view, theme, body)
        elif s == "preview":
            p = view.get("preview")
            if p:
                tex = CoreImage(io.BytesIO(base64.b64decode(p["png_b64"])), ext="png").texture
                h = min(theme.fs(760), max(300, self.height * 0.38))
                body.add_widget(Image(texture=tex, size_hint_y=None, height=h, fit_mode="contain"))
            body.add_widget(label(theme, view["pages_text"], 36, theme.muted, halign="center"))
            body.add_widget(
                button(theme, tr("scan.next"), lambda: self.act(flow.next_page), "scan:next", role="primary", size=46)
            )
            body.add_widget(button(theme, tr("scan.retake"), lambda: self.act(flow.retake), "scan:retake", size=46))
            body.add_widget(
                button(theme, tr("scan.finish"), lambda: self.act(flow.finish), "scan:finish", role="green", size=46)
            )
        elif s == "done":
            body.add_widget(label(theme, view.get("message", ""), 48, theme.fg, bold=True, halign="center", pad=80))
            body.add_widget(button(theme, tr("common.finish"), flow.close, "done", role="primary", size=50))
        elif s == "unavailable":
            body.add_widget(label(theme, view.get("message", ""), 46, theme.warn, bold=True, halign="center", pad=80))


SCREEN = ScanScreen
