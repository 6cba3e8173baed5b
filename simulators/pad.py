"""Evaluation pad (评价器) simulator, kind ``pad``.

Script a citizen from a test (``sim.press(2)``, ``sim.press(5, "attitude")``) or from the URL:
``press=2&after=1.5`` (or ``delay=1.5``) presses level 2 1.5 s after each evaluation request; ``press=timeout`` lets every
request time out; ``press=random`` presses a level drawn like a real hall (mostly 1-2, now and then
a bad one with a reason). ``double=1`` presses twice (the second press must be ignored upstream).
"""

from __future__ import annotations

import random
from typing import Any

from drivers import hallframe as hf
from drivers.pad import REASON_CODES
from simulators import registry
from simulators.halldev import HallFrameDevice


class PadSimulator(HallFrameDevice):
    kind = "pad"
    OPTIONS = {
        **HallFrameDevice.OPTIONS,
        "press": "a level 1..5, timeout or random: what the citizen presses after each request",
        "after": "seconds before the press (default 1)",
        "delay": "the same as after",
        "double": "1: press twice",
        "seed": "random seed for press=random",
    }

    def __init__(self, query: dict[str, str] | None = None) -> None:
        super().__init__(query)
        self.info: dict[str, Any] | None = None
        self.pending_eval: tuple[str, float] | None = None  # (ticket, deadline)
        self.plan = self.query.get("press", "")
        if self.plan not in ("", "timeout", "random", "1", "2", "3", "4", "5"):
            raise ValueError(f"press={self.plan!r}: give a level 1..5, timeout or random")
        self.after = float(self.query.get("after", self.query.get("delay", 1.0)))
        self.double = self.query.get("double", "0") == "1"
        self.rng = random.Random(int(self.query.get("seed", 0)))
        self._scheduled: float | None = None
        self.results: list[tuple[str, int | None, str | None]] = []

    def command(self, cmd: int, data: bytes) -> tuple[int, bytes]:
        if cmd == hf.PAD_SHOW_INFO:
            if len(data) < 10 or len(data) != 10 + data[9]:
                return 0x03, b""
            try:
                self.info = {
                    "window": data[0],
                    "staff_no": data[1:9].decode("ascii").strip(),
                    "staff_name": hf.from_gb2312(data[10:]),
                }
            except UnicodeDecodeError:
                return 0x03, b""
            return 0, b""
        if cmd == hf.PAD_REQUEST_EVAL:
            if len(data) != 7:
                return 0x03, b""
            if not all(0x20 <= c < 0x7F for c in data[:6]) or not data[:6].strip() or data[6] == 0:
                return 0x03, b""
            ticket = data[:6].decode("ascii").strip()
            self.pending_eval = (ticket, self.now() + data[6])
            if self.plan and self.plan != "timeout":
                self._scheduled = self.now() + self.after
            return 0, b""
        if cmd == hf.PAD_CANCEL_EVAL:
            if self.pending_eval is None:
                return 0x05, b""
            self.pending_eval = None
            return 0, b""
        return 0x02, b""

    def press(self, level: int, reason: str | None = None) -> bool:
        """The citizen presses a level (and a reason for 4/5). False if no evaluation was pending.
        Like the real pad, a level 4/5 is only sent with a reason: without one it is a ValueError."""
        if level not in range(1, 6):
            raise ValueError(f"level {level} is not 1..5")
        if reason is not None and reason not in REASON_CODES:
            raise ValueError(f"no reason {reason!r} (reasons: {', '.join(REASON_CODES)})")
        if level >= 4 and reason is None:
            raise ValueError(f"level {level} needs a reason ({', '.join(REASON_CODES)})")
        with self.lock:
            if self.pending_eval is None:
                return False
            ticket = self.pending_eval[0]
            code = REASON_CODES.get(reason or "", 0)
            self.emit(hf.EV_EVAL_RESULT, hf.ticket_field(ticket) + bytes([level, code]))
            if self.double:
                self.emit(hf.EV_EVAL_RESULT, hf.ticket_field(ticket) + bytes([1, 0]))
            self.results.append((ticket, level, reason))
            self.pending_eval = None
            return True

    def _planned_press(self) -> None:
        if self.plan == "random":
            level = self.rng.choices([1, 2, 3, 4, 5], [55, 30, 9, 4, 2])[0]
        else:
            level = int(self.plan)
        reason = self.rng.choice(list(REASON_CODES)) if level >= 4 else None
        self.press(level, reason)

    def device_tick(self, now: float) -> None:
        if self._scheduled is not None and now >= self._scheduled:
            self._scheduled = None
            self._planned_press()
        if self.pending_eval is not None and now >= self.pending_eval[1]:
            ticket = self.pending_eval[0]
            self.pending_eval = None
            self.results.append((ticket, None, None))
            self.emit(hf.EV_EVAL_TIMEOUT, hf.ticket_field(ticket))


registry.register("pad", PadSimulator)
