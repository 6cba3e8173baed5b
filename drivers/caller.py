"""Caller keypad (呼叫器) commands and key events over :class:`drivers.hallframe.HallLink`."""

from __future__ import annotations

from dataclasses import dataclass

from drivers import hallframe as hf
from drivers.errors import FrameError

KEYS = {
    0x01: "call_next",
    0x02: "recall",
    0x03: "no_show",
    0x04: "transfer",
    0x05: "pause",
    0x06: "resume",
    0x07: "start",
    0x08: "finish",
}
KEY_CODES = {v: k for k, v in KEYS.items()}


@dataclass(frozen=True)
class KeyPress:
    seq: int
    key: str
    arg: int  # transfer: the target window number (0: back to the domain's queue)


def parse_event(frame: hf.Frame) -> KeyPress:
    d = frame.data
    if frame.cmd != hf.EV_KEY or len(d) != 3 or d[1] not in KEYS:
        raise FrameError(f"not a caller key event (CMD {frame.cmd:02X}, data {d.hex(' ')})", frame.encode())
    return KeyPress(d[0], KEYS[d[1]], d[2])


class CallerDriver:
    def __init__(self, link: hf.HallLink) -> None:
        self.link = link
        self._events = hf.EventPoller(link, (hf.EV_KEY,), parse_event)

    def heartbeat(self) -> bytes:
        return self.link.request(hf.HEARTBEAT)

    def show_text(self, text: str) -> None:
        self.link.request(hf.CALLER_SHOW_TEXT, hf.gb2312(text, 32))

    def poll(self, wait_s: float = 0.0) -> list[KeyPress]:
        """Key presses that arrived. A malformed key event raises FrameError; the good
        presses that came with it are kept for the next call, so none is lost."""
        return self._events.poll(wait_s)
