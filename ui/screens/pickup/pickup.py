"""24-hour pickup (24小时取件): draws the pickup feature's PickupFlow view.

The pickup flow (kiosk/pickup_flow.py) owns the journey; this screen shows its title, message and
the actions its view offers (``actions``: [{id, label}] calling the flow method of that name with
optional ``arg``), a keypad when it asks for a code, and any lines it lists.
"""

from __future__ import annotations

import functools
from typing import Any

from ui.screens.base import KioskScreen
from ui.theme import Theme
from ui.widgets import button, label


class PickupScreen(KioskScreen):
    def fill(self, view: dict[str, Any], theme: Theme, body: Any) -> None:
        flow = self.app.session.flow
        tr = self.app.tr
        if flow is None:
            body.add_widget(label(theme, tr("pickup.unavailable"), 46, theme.warn, halign="center", pad=80))
            return
        if not view.get("title"):
            self.ids.title.text = "[b]{}[/b]".format(tr("pickup.title"))
        for line in view.get("lines", []) or []:
            body.add_widget(label(theme, str(line), 40, theme.fg))
        if view.get("keypad") or view.get("typed") is not None and hasattr(flow, "type_char"):
            submit = getattr(flow, "submit", None) or getattr(flow, "submit_code", None)
            on_ok = lambda: self.act(submit) if submit else None  # noqa: E731
            self.code_entry(theme, body, view.get("typed") or "", flow, on_ok, letters="")
        for a in view.get("actions", []) or []:
            method = getattr(flow, a["id"], None)
            if method is None:
                continue
            args = (a["arg"],) if "arg" in a else ()
            body.add_widget(
                button(
                    theme,
                    a.get("label", a["id"]),
                    functools.partial(self.act, method, *args),
                    f"pickup:{a['id']}",
                    role=a.get("role", "normal"),
                    size=46,
                )
            )


SCREEN = PickupScreen
