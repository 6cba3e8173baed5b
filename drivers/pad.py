"""Evaluation pad (评价器) commands and events over :class:`drivers.hallframe.HallLink`."""

from __future__ import annotations

from dataclasses import dataclass

from drivers import hallframe as hf
from drivers.errors import FrameError

LEVEL_NAMES = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}
REASONS = {1: "attitude", 2: "efficiency", 3: "process", 4: "result", 5: "other"}
REASON_CODES = {v: k for k, v in REASONS.items()}


@dataclass(frozen=True)
class Evaluation:
    seq: int
    ticket: str
    level: int | None  # 1..5, None on timeout
    reason: str | None

    @property
    def timed_out(self) -> bool:
        return self.level is None


def _ticket(frame: hf.Frame) -> str:
    raw = frame.data[1:7]
    if not all(0x20 <= b < 0x7F for b in raw) or not raw.strip():
        raise FrameError(f"ticket field {raw.hex(' ')} is not a printable ASCII ticket code", frame.encode())
    return raw.decode("ascii").strip()


def parse_event(frame: hf.Frame) -> Evaluation:
    d = frame.data
    if frame.cmd == hf.EV_EVAL_RESULT and len(d) == 9:
        level, reason = d[7], d[8]
        if level not in LEVEL_NAMES or (reason and reason not in REASONS):
            raise FrameError(f"evaluation level {level} / reason {reason} out of range", frame.encode())
        if level >= 4 and not reason:
            raise FrameError("a bad evaluation without a reason", frame.encode())
        return Evaluation(d[0], _ticket(frame), level, REASONS.get(reason))
    if frame.cmd == hf.EV_EVAL_TIMEOUT and len(d) == 7:
        return Evaluation(d[0], _ticket(frame), None, None)
    raise FrameError(f"not a pad event (CMD {frame.cmd:02X}, {len(d)} data bytes)", frame.encode())


class PadDriver:
    def __init__(self, link: hf.HallLink) -> None:
        self.link = link
        self._events = hf.EventPoller(link, (hf.EV_EVAL_RESULT, hf.EV_EVAL_TIMEOUT), parse_event)

    def heartbeat(self) -> bytes:
        return self.link.request(hf.HEARTBEAT)

    def show_info(self, window: int, staff_no: str, staff_name: str) -> None:
        if not 0 <= window <= 255:
            raise ValueError(f"window {window} is not 0..255")
        if len(staff_no) > 8 or not all(" " <= c <= "~" for c in staff_no):
            raise ValueError(f"staff number {staff_no!r} is not up to 8 printable ASCII characters")
        name = hf.gb2312(staff_name, 16)
        self.link.request(
            hf.PAD_SHOW_INFO, bytes([window]) + staff_no.encode("ascii").ljust(8, b" ") + bytes([len(name)]) + name
        )

    def request_evaluation(self, ticket: str, timeout_s: int) -> None:
        """Ask for a rating of ``ticket``; ``timeout_s`` is clamped to 5..255 s."""
        self.link.request(hf.PAD_REQUEST_EVAL, hf.ticket_field(ticket) + bytes([max(5, min(timeout_s, 255))]))

    def cancel(self) -> None:
        self.link.request(hf.PAD_CANCEL_EVAL)

    def poll(self, wait_s: float = 0.0) -> list[Evaluation]:
        """Results and timeouts that arrived. A malformed event raises FrameError; the good
        events that came with it are kept for the next call, so none is lost."""
        return self._events.poll(wait_s)
