"""Rate a service (服务评价): ticket number, five national levels, a reason for the bad two."""

from __future__ import annotations

import functools
from typing import Any

from ui.screens.base import KioskScreen
from ui.theme import Theme
from ui.widgets import button, label


class RateScreen(KioskScreen):
    def fill(self, view: dict[str, Any], theme: Theme, body: Any) -> None:
        flow = self.app.session.flow
        tr = self.app.tr
        s = view["state"]
        if s == "entry":
            if not view.get("message"):
                self.ids.message.text = view["prompt"]
            self.code_entry(theme, body, view.get("typed") or "", flow, lambda: self.act(flow.submit))
        elif s in ("checking", "sending"):
            self.busy(view, theme, body)
        elif s == "level":
            for lv in view["levels"]:
                body.add_widget(
                    button(
                        theme,
                        lv["label"],
                        functools.partial(self.act, flow.choose_level, lv["id"]),
                        f"level:{lv['id']}",
                        role="warn" if lv["bad"] else ("green" if lv["id"] == 1 else "normal"),
                        size=52,
                        height=180,
                    )
                )
        elif s == "reason":
            for r in view["reasons"]:
                body.add_widget(
                    button(
                        theme,
                        r["label"],
                        functools.partial(self.act, flow.choose_reason, r["id"]),
                        f"reason:{r['id']}",
                        size=48,
                        height=170,
                    )
                )
        elif s in ("thanks", "already", "unavailable"):
            body.add_widget(label(theme, view.get("message", ""), 56, theme.fg, bold=True, halign="center", pad=100))
            body.add_widget(button(theme, tr("common.finish"), flow.close, "done", role="primary", size=50))


SCREEN = RateScreen
