"""Caller keypad (呼叫器) simulator, kind ``caller``: ``sim.press("call_next")``,
``sim.press("transfer", 3)``; what the host shows on the keypad is in ``sim.text``.

A clerk can be scripted from the URL too: ``keys=call_next,start,finish,transfer:3&every=1.5`` presses
those keys (``key:arg`` for transfer's target window) one every 1.5 s (default 1 s), the first one
``every`` seconds after the keypad starts.
"""

from __future__ import annotations

from drivers import hallframe as hf
from drivers.caller import KEY_CODES
from simulators import registry
from simulators.halldev import HallFrameDevice


class CallerSimulator(HallFrameDevice):
    kind = "caller"
    OPTIONS = {
        **HallFrameDevice.OPTIONS,
        "keys": "keys a clerk presses, e.g. call_next,start,finish,transfer:3",
        "every": "seconds between the scripted keys (default 1)",
    }

    def __init__(self, query: dict[str, str] | None = None) -> None:
        super().__init__(query)
        self.text = ""
        self.script: list[tuple[str, int]] = []
        for item in filter(None, (k.strip() for k in self.query.get("keys", "").split(","))):
            key, _, arg = item.partition(":")
            if key not in KEY_CODES:
                raise ValueError(f"keys={item!r}: no key {key!r} (keys: {', '.join(KEY_CODES)})")
            try:
                self.script.append((key, int(arg or 0)))
            except ValueError:
                raise ValueError(f"keys={item!r}: {arg!r} is not a window number") from None
        self.every = float(self.query.get("every", 1.0))
        self._next_key = self.now() + self.every

    def command(self, cmd: int, data: bytes) -> tuple[int, bytes]:
        if cmd == hf.CALLER_SHOW_TEXT:
            if len(data) > 32:
                return 0x03, b""
            try:
                self.text = hf.from_gb2312(data)
            except UnicodeDecodeError:
                return 0x03, b""
            return 0, b""
        return 0x02, b""

    def press(self, key: str, arg: int = 0) -> int:
        """The clerk presses ``key`` (``arg``: transfer's target window); returns the event's SEQ."""
        if key not in KEY_CODES:
            raise ValueError(f"no key {key!r} (keys: {', '.join(KEY_CODES)})")
        if not 0 <= arg <= 255:
            raise ValueError(f"key argument {arg} is not 0..255")
        return self.emit(hf.EV_KEY, bytes([KEY_CODES[key], arg]))

    def device_tick(self, now: float) -> None:
        if self.script and now >= self._next_key:
            key, arg = self.script.pop(0)
            self.press(key, arg)
            self._next_key = now + self.every


registry.register("caller", CallerSimulator)
