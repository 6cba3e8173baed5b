"""Home (首页): the journeys as large tiles, today's hours, and the connection state."""

from __future__ import annotations

from typing import Any

from ui.screens.base import KioskScreen
from ui.theme import Theme
from ui.widgets import button


def render_home(self: KioskScreen, view: dict[str, Any], theme: Theme) -> None:
    """Tiles, banner and status of the home and out-of-hours screens."""
    self.ids.title.text = f"[b]{view['welcome']}[/b]"
    self.ids.message.text = view.get("title", "")
    self.ids.banner.text = view["banner"]
    self.ids.status.text = view.get("offline_text", "")
    body = self.ids.body
    body.clear_widgets()
    self.cols = self.tile_cols()
    for t in view["tiles"]:
        role = ("primary" if t["id"] == "ticket" else "normal") if t["enabled"] else "disabled"
        tap = (lambda tid=t["id"]: self.app.start_flow(tid)) if t["enabled"] else None
        body.add_widget(
            button(
                theme,
                t["label"],
                tap,
                f"tile:{t['id']}",
                role=role,
                sub=t["sub"],
                size=50,
                height=300 if self.portrait() else 185,
            )
        )


class HomeScreen(KioskScreen):
    def update(self, view: dict[str, Any], theme: Theme) -> None:
        if not self.unchanged(view, theme):
            render_home(self, view, theme)


SCREEN = HomeScreen
