"""Out of hours (非工作时间): staffed services closed with today's hours, self-service stays open."""

from __future__ import annotations

from typing import Any

from kiosk.i18n import tr
from ui.screens.base import KioskScreen
from ui.screens.home.home import fit_tiles, render_home
from ui.theme import Theme


class ClosedScreen(KioskScreen):
    def on_kv_post(self, base_widget: Any) -> None:
        self.ids.scroll.bind(height=lambda *_: fit_tiles(self))

    def update(self, view: dict[str, Any], theme: Theme) -> None:
        if self.unchanged(view, theme):
            return
        render_home(self, view, theme)
        self.ids.title.text = "[b]{}[/b]".format(tr("home.self_service", view["lang"]))
        self.ids.message.text = view["welcome"]


SCREEN = ClosedScreen
