"""Base of the staff and hall screens (display, terminal): a dark bar, a body grid.

The bar's clock is the hall's (its ``[hall] timezone``, from the model's view: ``kiosk.clock``), never
the machine's.
"""

from __future__ import annotations

from kivy.properties import ListProperty

from ui.screens.base import HallScreen
from ui.theme import rgba


class StaffScreen(HallScreen):
    role = "staff"
    bg = ListProperty(rgba("#0E1A2B"))
    bar = ListProperty(rgba("#16365F"))

    def set_title(self, text: str, clock: str) -> None:
        """The bar: ``text`` and ``clock``, the hall's time from the model's view."""
        self.ids.title.text = f"[b]{text}[/b]"
        self.ids.clock.text = clock
