"""The caller keypad (呼叫器) of a window as a device."""

from __future__ import annotations

from devices.factory import register_kind
from devices.halldev import HallFrameDeviceBase
from drivers.caller import CallerDriver, KeyPress


class CallerKeypad(HallFrameDeviceBase):
    kind = "caller"
    driver_class = CallerDriver

    def show_text(self, text: str) -> None:
        self.call("show_text", text)

    def poll(self, wait_s: float = 0.0) -> list[KeyPress]:
        presses: list[KeyPress] = self.listen("poll", wait_s)
        return presses


register_kind("caller", CallerKeypad)
