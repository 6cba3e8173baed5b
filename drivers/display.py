"""Window LED display (窗口屏) commands over :class:`drivers.hallframe.HallLink`: lines of GB2312 text."""

from __future__ import annotations

from drivers import hallframe as hf

ALIGN = {"left": 0, "center": 1, "right": 2}
EFFECT = {"static": 0, "scroll": 1}


class DisplayDriver:
    def __init__(self, link: hf.HallLink) -> None:
        self.link = link

    def heartbeat(self) -> bytes:
        return self.link.request(hf.HEARTBEAT)

    def show_line(self, line: int, text: str, align: str = "center", effect: str = "static") -> None:
        self.link.request(hf.DISPLAY_SHOW_LINE, bytes([line, ALIGN[align], EFFECT[effect]]) + hf.gb2312(text, 64))

    def clear(self) -> None:
        self.link.request(hf.DISPLAY_CLEAR)

    def brightness(self, level: int) -> None:
        if not 0 <= level <= 15:
            raise ValueError("brightness is 0..15")
        self.link.request(hf.DISPLAY_BRIGHTNESS, bytes([level]))
