"""Scan materials (材料扫描): guided pages, preview, retake, finish; a slip with the material code and
the next step. On the intro and the preview the citizen may attach the scan to a ticket or a case number
(the prompt, then a keypad)."""

from __future__ import annotations

import base64
import functools
import io
from typing import Any

from kivy.core.image import Image as CoreImage
from kivy.uix.image import Image

from ui.screens.base import KioskScreen
from ui.theme import Theme
from ui.widgets import Panel, button, label

NUMBER_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # ticket prefixes and case numbers (kiosk.scan_flow.NUMBER_KEYS)


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
            self._attach(view, theme, body)
        elif s == "attach":
            on_ok = functools.partial(self.act, flow.attach_typed)
            self.code_entry(theme, body, view.get("typed") or "", flow, on_ok, NUMBER_LETTERS, "1234567890-", 64)
            body.add_widget(
                button(theme, tr("common.back"), lambda: self.act(flow.cancel_attach), "scan:back", size=42)
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
            self._attach(view, theme, body)
        elif s == "done":
            self._slip(view, theme, body)
            body.add_widget(label(theme, view["next_step"], 40, theme.fg, bold=True, halign="center", pad=30))
            body.add_widget(
                button(
                    theme,
                    view["take_ticket"],
                    lambda: self.app.start_flow("ticket"),
                    "scan:ticket",
                    role="primary",
                    size=50,
                )
            )
            body.add_widget(button(theme, tr("common.finish"), flow.close, "done", size=46))
        elif s == "unavailable":
            body.add_widget(label(theme, view.get("message", ""), 46, theme.warn, bold=True, halign="center", pad=80))

    def _attach(self, view: dict[str, Any], theme: Theme, body: Any) -> None:
        """The ticket or case the scan goes to (once given), else the prompt; the button to type it."""
        flow = self.app.session.flow
        text = view.get("attached") or view["ticket_prompt"]
        body.add_widget(label(theme, text, 34, theme.accent if view.get("attached") else theme.muted, halign="center"))
        body.add_widget(button(theme, view["attach"], lambda: self.act(flow.enter_number), "scan:number", size=42))

    def _slip(self, view: dict[str, Any], theme: Theme, body: Any) -> None:
        """The saved scan as a slip on the screen: the material code large, then pages, time, retention."""
        slip = Panel(orientation="vertical", fill=list(theme.panel), size_hint_y=None, padding=[28, 20], spacing=6)
        slip.bind(minimum_height=slip.setter("height"))
        rows = view["slip"]
        if rows:
            slip.add_widget(label(theme, rows[0]["label"], 36, theme.muted, halign="center"))
            slip.add_widget(label(theme, rows[0]["value"], 96, theme.fg, bold=True, halign="center", pad=10))
        for row in rows[1:]:
            slip.add_widget(label(theme, f"{row['label']}   {row['value']}", 38, theme.fg, halign="center"))
        body.add_widget(slip)


SCREEN = ScanScreen
