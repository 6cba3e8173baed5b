"""The window LED display (窗口屏) as a device."""
from __future__ import annotations

from drivers.display import DisplayDriver

from .factory import register_kind
from .halldev import HallFrameDeviceBase


class WindowDisplay(HallFrameDeviceBase):
    kind = "display"
    driver_class = DisplayDriver

    def show(self, *lines: str, align: str = "center") -> None:
        """Show lines top to bottom (the rest cleared)."""
        rows = int(self.profile.get("rows", 2))

        def run() -> None:
            for i in range(rows):
                self.driver.show_line(i, lines[i] if i < len(lines) else "", align)

        self.guard(run)


register_kind("display", WindowDisplay)
