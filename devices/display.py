"""The window LED display (窗口屏) as a device."""

from __future__ import annotations

from devices.base import NotSupported
from devices.factory import register_kind
from devices.halldev import HallFrameDeviceBase
from drivers.display import DisplayDriver


class WindowDisplay(HallFrameDeviceBase):
    kind = "display"
    driver_class = DisplayDriver

    def show(self, *lines: str, align: str = "center") -> None:
        """Show lines top to bottom (the rest cleared); a line wider than the display scrolls if the
        model can (profile feature ``scroll``)."""
        rows = int(self.profile.get("rows", 2))
        if len(lines) > rows:
            raise NotSupported(self.id, f"{len(lines)} lines given; the {self.profile.name} display has {rows}")

        width = 2 * int(self.profile.get("chars_per_row", 0))  # in GB2312 bytes (a hanzi is 2)
        can_scroll = self.profile.supports("scroll")

        def run() -> None:
            for i in range(rows):
                text = lines[i] if i < len(lines) else ""
                long = bool(width) and len(text.encode("gb2312", errors="replace")) > width
                self.driver.show_line(i, text, align, "scroll" if long and can_scroll else "static")

        self.guard(run)

    def clear(self) -> None:
        self.call("clear")

    def brightness(self, level: int) -> None:
        self.call("brightness", level)


register_kind("display", WindowDisplay)
