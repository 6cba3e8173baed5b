"""Case progress (办件进度): by ID card or by case number."""

from __future__ import annotations

import functools
from typing import Any

from ui.screens.base import KioskScreen
from ui.theme import Theme
from ui.widgets import KEYS_LETTERS, Panel, button, label


class ProgressScreen(KioskScreen):
    def fill(self, view: dict[str, Any], theme: Theme, body: Any) -> None:
        flow = self.app.session.flow
        s = view["state"]
        if s == "choose":
            if not view.get("message"):
                self.ids.message.text = view["prompt"]
            for m in view["methods"]:
                tap = flow.by_card if m["id"] == "card" else flow.by_number
                body.add_widget(
                    button(
                        theme,
                        m["label"],
                        functools.partial(self.act, tap),
                        f"progress:{m['id']}",
                        role="primary" if m["id"] == "card" else "normal",
                        size=50,
                        height=200,
                    )
                )
        elif s in ("reading_card", "looking_up"):
            self.busy(view, theme, body, self.app.cancel_wait if s == "reading_card" else None)
        elif s == "entry":
            on_ok = functools.partial(self.act, flow.submit)
            self.code_entry(theme, body, view.get("typed") or "", flow, on_ok, KEYS_LETTERS, size=64)
        elif s == "result":
            for c in view.get("cases", []):
                panel = Panel(
                    orientation="vertical", fill=list(theme.panel), size_hint_y=None, padding=[24, 16], spacing=6
                )
                panel.bind(minimum_height=panel.setter("height"))
                panel.add_widget(label(theme, c["title"], 44, theme.fg, bold=True))
                panel.add_widget(label(theme, f"{c['case_no']}    {c['status']}", 38, theme.accent))
                if c.get("detail"):
                    panel.add_widget(label(theme, c["detail"], 32, theme.muted))
                body.add_widget(panel)
        elif s in ("none", "unavailable"):
            body.add_widget(label(theme, view.get("message", ""), 46, theme.fg, halign="center", pad=80))


SCREEN = ProgressScreen
