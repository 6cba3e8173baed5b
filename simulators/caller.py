"""Caller keypad (呼叫器) simulator, kind ``caller``: ``sim.press("call_next")``,
``sim.press("transfer", 3)``; what the host shows on the keypad is in ``sim.text``."""
from __future__ import annotations

from drivers import hallframe as hf
from drivers.caller import KEY_CODES

from . import registry
from .halldev import HallFrameDevice


class CallerSimulator(HallFrameDevice):
    kind = "caller"

    def __init__(self, query: dict[str, str] | None = None) -> None:
        super().__init__(query)
        self.text = ""

    def command(self, cmd: int, data: bytes) -> tuple[int, bytes]:
        if cmd == hf.CALLER_SHOW_TEXT:
            try:
                self.text = data.decode("gb2312")
            except UnicodeDecodeError:
                return 0x03, b""
            return 0, b""
        return 0x02, b""

    def press(self, key: str, arg: int = 0) -> int:
        if key not in KEY_CODES:
            raise ValueError(f"no key {key!r} (keys: {', '.join(KEY_CODES)})")
        return self.emit(hf.EV_KEY, bytes([KEY_CODES[key], arg & 0xFF]))


registry.register("caller", CallerSimulator)
