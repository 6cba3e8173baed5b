"""Error (温馨提示): a clear message and a way on (retry, back or home), never a frozen screen."""

from __future__ import annotations

from typing import Any

from ui.screens.base import KioskScreen
from ui.theme import Theme
from ui.widgets import button, label


class ErrorScreen(KioskScreen):
    def update(self, view: dict[str, Any], theme: Theme) -> None:
        super().update(view, theme)
        self.ids.title.text = "[b]{}[/b]".format(self.app.tr("error.title"))

    def fill(self, view: dict[str, Any], theme: Theme, body: Any) -> None:
        self.ids.message.text = ""
        body.add_widget(label(theme, view.get("message", ""), 48, theme.warn, bold=True, halign="center", pad=120))
        flow = self.app.session.flow
        if flow is not None and hasattr(flow, "retry") and view.get("state") == "bus_error":
            body.add_widget(
                button(
                    theme,
                    self.app.tr("common.retry"),
                    lambda: self.act(flow.retry),
                    "retry",
                    role="primary",
                    size=52,
                    height=180,
                )
            )
        if flow is not None and hasattr(flow, "back"):
            body.add_widget(
                button(theme, self.app.tr("common.back"), lambda: self.act(flow.back), "error:back", size=44)
            )


SCREEN = ErrorScreen
