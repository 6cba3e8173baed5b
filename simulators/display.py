"""Window LED display (窗口屏) simulator, kind ``display``: ``sim.lines`` is what it shows."""

from __future__ import annotations

from drivers import hallframe as hf
from simulators import registry
from simulators.halldev import HallFrameDevice


class DisplaySimulator(HallFrameDevice):
    kind = "display"
    OPTIONS = {**HallFrameDevice.OPTIONS, "rows": "text rows of the LED panel (default 2)"}

    def __init__(self, query: dict[str, str] | None = None) -> None:
        super().__init__(query)
        self.rows = int(self.query.get("rows", 2))
        self.lines = [""] * self.rows
        self.effects = ["static"] * self.rows  # per line: static | scroll (and the alignment below)
        self.aligns = ["center"] * self.rows
        self.brightness = 8

    def command(self, cmd: int, data: bytes) -> tuple[int, bytes]:
        if cmd == hf.DISPLAY_SHOW_LINE:
            if len(data) < 3 or data[0] >= self.rows or data[1] > 2 or data[2] > 1:
                return 0x03, b""
            try:
                self.lines[data[0]] = hf.from_gb2312(data[3:])
            except UnicodeDecodeError:
                return 0x03, b""
            self.aligns[data[0]] = ("left", "center", "right")[data[1]]
            self.effects[data[0]] = ("static", "scroll")[data[2]]
            return 0, b""
        if cmd == hf.DISPLAY_CLEAR:
            self.lines = [""] * self.rows
            self.effects = ["static"] * self.rows
            return 0, b""
        if cmd == hf.DISPLAY_BRIGHTNESS:
            if len(data) != 1 or data[0] > 15:
                return 0x03, b""
            self.brightness = data[0]
            return 0, b""
        return 0x02, b""


registry.register("display", DisplaySimulator)
