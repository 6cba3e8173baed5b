"""Home (首页): the journeys as large tiles, today's hours, and the connection state."""

from __future__ import annotations

from typing import Any

from ui.screens.base import KioskScreen
from ui.theme import Theme
from ui.widgets import button


def render_home(self: KioskScreen, view: dict[str, Any], theme: Theme) -> None:
    """Tiles, banner, device notices and status of the home and out-of-hours screens."""
    self.ids.title.text = f"[b]{view['welcome']}[/b]"
    self.ids.message.text = view.get("title", "")
    self.ids.banner.text = view["banner"]
    notices = "\n".join(view.get("notices", []))
    self.ids.notices.text = notices
    self.ids.notice_panel.opacity = 1 if notices else 0
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
                height=TILE_HEIGHT[self.portrait()],
            )
        )
    fit_tiles(self)


def fit_tiles(self: KioskScreen, *_: Any) -> None:
    """Make the tiles as tall as the design asks, but no taller than lets every tile show without scrolling
    (elder mode's larger type would push 服务评价 below the fold)."""
    body, room = self.ids.body, self.ids.scroll.height
    tiles = list(body.children)
    if not tiles or room < 100:
        return
    rows = -(-len(tiles) // self.cols)
    pad_y = body.padding[1] + body.padding[3]
    fit = (room - pad_y - body.spacing[1] * (rows - 1)) / rows
    height = max(120.0, min(self.app.theme.fs(TILE_HEIGHT[self.portrait()]), fit))
    for tile in tiles:
        tile.height = height


TILE_HEIGHT = {True: 300, False: 185}  # design height of a home tile in portrait / landscape


class HomeScreen(KioskScreen):
    def on_kv_post(self, base_widget: Any) -> None:
        self.ids.scroll.bind(height=lambda *_: fit_tiles(self))

    def update(self, view: dict[str, Any], theme: Theme) -> None:
        if not self.unchanged(view, theme):
            render_home(self, view, theme)


SCREEN = HomeScreen
