"""Base of the staff and hall screens (display, terminal, manager): a dark bar, a body grid."""

from __future__ import annotations

import time

from kivy.properties import ListProperty

from ui.screens.base import HallScreen
from ui.theme import rgba


class StaffScreen(HallScreen):
    role = "staff"
    bg = ListProperty(rgba("#0E1A2B"))
    bar = ListProperty(rgba("#16365F"))

    def set_title(self, text: str) -> None:
        self.ids.title.text = f"[b]{text}[/b]"
        self.ids.clock.text = time.strftime("%H:%M:%S")
