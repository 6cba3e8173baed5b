"""Out of hours (非工作时间): staffed services closed with today's hours, self-service stays open."""
from __future__ import annotations

from ...theme import Theme
from ...widgets import button
from ..home.home import HomeScreen


class ClosedScreen(HomeScreen):
    def update(self, view: dict, theme: Theme) -> None:
        super().update(view, theme)
        self.ids.title.text = "[b]{}[/b]".format("24小时自助服务" if view["lang"] == "zh" else "24-hour self-service")
        self.ids.message.text = view["welcome"]


SCREEN = ClosedScreen
