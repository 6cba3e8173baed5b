"""The HallKit frame protocol of evaluation pads (评价器), caller keypads (呼叫器) and window LED
displays (窗口屏), in the DL/T 645 style of the published caller family (docs/protocols/evaluation-pad.md):

    FF 68 LEN LEN 68 ADDR CMD DATA... CS 16

LEN counts ADDR..DATA and is sent twice; CS is the low byte of the sum of ADDR..DATA. Host commands
have CMD < 0x40, device events 0x40..0x7F; a reply has the request's CMD with bit 7 set and starts
its DATA with a result code (0 = done). Events carry a sequence number and are repeated until the
host acknowledges them (CMD | 0x80, DATA ``00 SEQ``), so a key press is never lost and a repeated
one is recognised by its SEQ.

:class:`HallFrameCodec` turns a byte stream into frames (resynchronising on junk, counting what it
dropped); :class:`HallLink` runs request/reply over a serial port and queues events met meanwhile.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from drivers.errors import DeviceReported, FrameError, ReplyTimeout, rs485_hint

PREFIX = b"\xff\x68"
END = 0x16
MAX_DATA = 200

# commands (host -> device)
HEARTBEAT = 0x01
PAD_SHOW_INFO, PAD_REQUEST_EVAL, PAD_CANCEL_EVAL = 0x10, 0x11, 0x12
CALLER_SHOW_TEXT = 0x20
DISPLAY_SHOW_LINE, DISPLAY_CLEAR, DISPLAY_BRIGHTNESS = 0x30, 0x31, 0x32
# events (device -> host)
EV_EVAL_RESULT, EV_EVAL_TIMEOUT, EV_KEY = 0x41, 0x42, 0x43
REPLY = 0x80

RESULTS = {
    0x00: "ok",
    0x01: "checksum error",
    0x02: "unknown command",
    0x03: "bad parameter",
    0x04: "busy",
    0x05: "no evaluation pending",
}


def checksum(body: bytes | bytearray) -> int:
    return sum(body) & 0xFF


@dataclass(frozen=True)
class Frame:
    addr: int
    cmd: int
    data: bytes

    @property
    def is_event(self) -> bool:
        return 0x40 <= self.cmd < 0x80

    @property
    def is_reply(self) -> bool:
        return self.cmd >= REPLY

    def encode(self) -> bytes:
        return encode(self.addr, self.cmd, self.data)


def encode(addr: int, cmd: int, data: bytes = b"") -> bytes:
    if not 0 <= addr <= 0xFF or not 0 <= cmd <= 0xFF:
        raise ValueError("address and command are single bytes")
    if len(data) > MAX_DATA:
        raise ValueError(f"frame data of {len(data)} bytes exceeds {MAX_DATA}")
    body = bytes([addr, cmd]) + bytes(data)
    n = len(body)
    return PREFIX + bytes([n, n, 0x68]) + body + bytes([checksum(body), END])


class HallFrameCodec:
    """``feed(bytes) -> frames``. Bad bytes are skipped up to the next plausible frame start;
    ``errors`` keeps the latest drops and why (FrameError objects with the raw bytes, for logs and
    technicians), ``error_count`` counts them all.

    Resync rules (a damaged frame never hides the valid frame after it):

    * a bad header, a wrong end byte: drop one byte and look for the next ``FF 68``;
    * a checksum mismatch: drop the frame, but only up to an ``FF 68`` inside it, if there is one
      (a damaged LEN may have pulled the start of the next frame into this one);
    * a header whose LEN reaches past the bytes received so far is waited for, unless a complete,
      valid frame already starts inside it: then the header was damaged (a real frame does not carry
      a whole valid frame in its data) and is dropped. The same holds for a complete frame, even one
      whose checksum happens to match: the inner frame wins.
    """

    def __init__(self, keep_errors: int = 64) -> None:
        self.buf = bytearray()
        self.errors: collections.deque[FrameError] = collections.deque(maxlen=keep_errors)
        self.error_count = 0

    def feed(self, data: bytes) -> list[Frame]:
        self.buf += data
        frames: list[Frame] = []
        while True:
            start = self.buf.find(PREFIX)
            if start < 0:
                keep = 1 if self.buf.endswith(b"\xff") else 0
                if len(self.buf) > keep:
                    self._drop(len(self.buf) - keep, "no frame start")
                return frames
            if start:
                if self.buf[:start].strip(b"\xff"):
                    self._drop(start, "junk before frame start")
                else:
                    del self.buf[:start]  # more FF wake-up bytes before the frame: a preamble, not an error
            if len(self.buf) < 5:
                return frames
            n1, n2, sep = self.buf[2], self.buf[3], self.buf[4]
            if n1 != n2 or sep != 0x68 or n1 < 2 or n1 > MAX_DATA + 2:
                self._drop(1, f"bad header (LEN {n1:02X}/{n2:02X}, separator {sep:02X})")
                continue
            total = 5 + n1 + 2
            if len(self.buf) < total:
                later = self._valid_frame_after(1)
                if later < 0:
                    return frames  # wait for the rest
                self._drop(later, f"incomplete frame (LEN {n1:02X}) followed by a whole frame")
                continue
            inner = self._valid_frame_after(1, before=total)
            if inner > 0:
                self._drop(inner, f"frame (LEN {n1:02X}) holding a whole valid frame: a damaged header")
                continue
            body = bytes(self.buf[5 : 5 + n1])
            cs, end = self.buf[5 + n1], self.buf[6 + n1]
            if end != END:
                self._drop(1, f"frame does not end with 16 (got {end:02X})")
                continue
            if cs != checksum(body):
                inner = self.buf.find(PREFIX, 1, total)
                self._error(f"checksum mismatch: got {cs:02X}, computed {checksum(body):02X}", bytes(self.buf[:total]))
                del self.buf[: inner if inner > 0 else total]
                continue
            frames.append(Frame(body[0], body[1], body[2:]))
            del self.buf[:total]

    def _valid_frame_after(self, pos: int, before: int | None = None) -> int:
        """Index of the first complete frame with a good checksum starting at ``pos`` or later (and
        before ``before``), or -1."""
        buf = self.buf
        while True:
            i = buf.find(PREFIX, pos, len(buf) if before is None else before)
            if i < 0 or len(buf) < i + 5:
                return -1
            n = buf[i + 2]
            total = 5 + n + 2
            if (
                n == buf[i + 3]
                and buf[i + 4] == 0x68
                and 2 <= n <= MAX_DATA + 2
                and len(buf) >= i + total
                and buf[i + total - 1] == END
                and buf[i + total - 2] == checksum(buf[i + 5 : i + 5 + n])
            ):
                return i
            pos = i + 1

    def _error(self, why: str, raw: bytes) -> None:
        self.errors.append(FrameError(why, raw))
        self.error_count += 1

    def _drop(self, n: int, why: str) -> None:
        self._error(why, bytes(self.buf[:n]))
        del self.buf[:n]


class HallLine:
    """One serial line shared by the devices on it (an RS485 pair: a window's keypad, display and pad
    told apart by address): one framer, one lock for the wire, and an inbox per address for the
    events read while another device's link was using the line (acknowledged by their own link when
    it next listens; the device repeats them meanwhile, so nothing is lost)."""

    def __init__(self, port: Any) -> None:
        self.port = port
        self.codec = HallFrameCodec()
        self.lock = threading.RLock()
        self.inbox: dict[int, collections.deque[Frame]] = collections.defaultdict(lambda: collections.deque(maxlen=64))
        self.broken = False  # set by a device that lost the port: the next one to open gets a new one
        self._timeout: float | None = None

    def read_frames(self, until: float) -> list[Frame]:
        timeout = round(max(0.01, min(0.05, until - time.monotonic())), 2)
        if timeout != self._timeout:  # on a real tty each change is a tcsetattr: set it only when it changes
            self.port.timeout = self._timeout = timeout
        chunk = self.port.read(1)  # returns at the first byte (read(256) would sit out the whole timeout)
        if not chunk:
            return []
        while True:
            waiting = self.port.in_waiting
            if not waiting:
                break
            chunk += self.port.read(min(waiting, 256))
        return self.codec.feed(chunk)


class HallLink:
    """Request/reply and events of one device address over a serial port, or over a
    :class:`HallLine` shared with other addresses.

    Events are acknowledged on arrival. A copy of an event already taken (the same bytes, SEQ
    included, within ``repeat_window_s``, longer than the device's 6 repeats 0.5 s apart) is
    acknowledged again but not handed on, so a key press is acted on once; the same SEQ later (the
    counter wrapped, or the device restarted and counts from 1 again) is a new event.
    """

    RETRY_CODES = (0x01, 0x04)  # the device saw a damaged frame / is busy: send the command again

    def __init__(
        self,
        port: Any,
        addr: int = 1,
        reply_timeout: float = 0.5,
        retries: int = 2,
        repeat_window_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.line = port if isinstance(port, HallLine) else HallLine(port)
        self.port = self.line.port
        self.addr = addr
        self.reply_timeout = reply_timeout
        self.retries = retries
        self.repeat_window_s = repeat_window_s
        self.clock = clock
        self.codec = self.line.codec
        self.events: collections.deque[Frame] = collections.deque()
        self.seen: dict[bytes, float] = {}  # event frame bytes -> when last seen
        self.duplicates = 0
        self.late_replies = 0  # replies that came for a copy already given up on, and were dropped
        self._late: list[tuple[int, float]] = []  # (command, until when) replies still owed

    def _read_frames(self, until: float) -> list[Frame]:
        """This address's frames: first those kept for it while other links used the line, then the
        line's. Other addresses' events go to their inbox; their replies are not awaited by anyone."""
        mine = list(self.line.inbox.pop(self.addr, ()))
        for frame in [] if mine else self.line.read_frames(until):
            if frame.addr == self.addr:
                mine.append(frame)
            elif frame.is_event:
                self.line.inbox[frame.addr].append(frame)
        return mine

    def _take(self, frame: Frame) -> None:
        """An event: acknowledge it, and keep it unless it is a repeat of one taken just now."""
        seq = frame.data[0] if frame.data else 0
        self.port.write(encode(self.addr, frame.cmd | REPLY, bytes([0, seq])))
        now = self.clock()
        for key in [k for k, t in self.seen.items() if now - t > self.repeat_window_s]:
            del self.seen[key]
        key = frame.encode()
        if key in self.seen:
            self.duplicates += 1
            self.seen[key] = now
            return
        self.seen[key] = now
        self.events.append(frame)

    def request(self, cmd: int, data: bytes = b"") -> bytes:
        """Send a command, return the reply's payload (after the result code). Repeats the command
        after a silent or damaged reply and after result 01 (checksum) / 04 (busy).

        A slow device may still answer a copy that was sent again after a timeout. The host notes how
        many copies went unanswered and drops that many replies to the same command arriving in the
        next ``3 * reply_timeout`` s, so a late reply is never taken for the answer to the next
        command (show line 0 late, then show line 1: line 1's result is line 1's)."""
        with self.line.lock:
            return self._request(cmd, data)

    def _request(self, cmd: int, data: bytes) -> bytes:
        wire = encode(self.addr, cmd, data)
        if self.addr == 0:  # a broadcast: every device obeys, none answers
            self.port.write(wire)
            return b""
        received = bytearray()
        errors_before = self.codec.error_count
        reported = 0
        sends: list[float] = []
        replies = 0
        try:
            for _attempt in range(self.retries + 1):
                self.port.write(wire)
                sends.append(time.monotonic())
                deadline = sends[-1] + self.reply_timeout
                answered = False
                while time.monotonic() < deadline and not answered:
                    for frame in self._read_frames(deadline):
                        received += frame.encode()
                        if frame.is_event:
                            self._take(frame)
                        elif frame.is_reply and self._late_reply(frame.cmd & 0x7F):
                            continue  # the answer to a copy of an earlier command
                        elif frame.cmd == cmd | REPLY and not answered:
                            replies += 1
                            if not frame.data:
                                raise FrameError("reply without a result code", frame.encode())
                            code = frame.data[0]
                            if code == 0:
                                return frame.data[1:]
                            if code not in self.RETRY_CODES:
                                raise DeviceReported(code, RESULTS.get(code, "device error"))
                            reported, answered = code, True
        finally:
            if replies:  # the device is alive but slow: the copies it has not answered yet may still be
                late_until = self.clock() + 3 * self.reply_timeout  # answered (a silent one is not owed anything)
                self._late += [(cmd, late_until)] * (len(sends) - replies)
        if reported:
            raise DeviceReported(reported, RESULTS[reported])
        if self.codec.error_count > errors_before:
            err = self.codec.errors[-1]
            why = str(err).split(" [", 1)[0]
            raise FrameError(
                f"no valid reply to command {cmd:02X} after {self.retries + 1} tries ({why}): {rs485_hint(err.raw)}",
                err.raw,
            )
        raise ReplyTimeout(
            f"no reply to command {cmd:02X} at address {self.addr} after {self.retries + 1} tries",
            wire,
            bytes(received),
            rs485_hint(bytes(received)),
        )

    def _late_reply(self, cmd: int) -> bool:
        """True (and one expectation used up) if a reply to ``cmd`` is one still owed to an earlier copy."""
        now = self.clock()
        self._late = [(c, until) for c, until in self._late if until >= now]
        for i, (c, _until) in enumerate(self._late):
            if c == cmd:
                del self._late[i]
                self.late_replies += 1
                return True
        return False

    def poll(self, wait_s: float = 0.0) -> list[Frame]:
        """Events that arrived (acknowledged), waiting up to ``wait_s`` for the first."""
        deadline = time.monotonic() + wait_s
        while True:
            with self.line.lock:  # let other links of the line in between the reads
                for frame in self._read_frames(deadline if wait_s else time.monotonic() + 0.01):
                    if frame.is_event:
                        self._take(frame)
                    elif frame.is_reply:
                        self._late_reply(frame.cmd & 0x7F)
            if self.events or time.monotonic() >= deadline:
                break
        out = list(self.events)
        self.events.clear()
        return out


E = TypeVar("E")


class EventPoller(Generic[E]):
    """The event side of a device driver: polls a :class:`HallLink`, parses the frames whose CMD is
    in ``cmds`` with ``parse`` and hands the results on. A malformed event raises FrameError; the
    good events that came with it are kept for the next call, so none is lost."""

    def __init__(self, link: HallLink, cmds: Collection[int], parse: Callable[[Frame], E]) -> None:
        self.link = link
        self.cmds = frozenset(cmds)
        self.parse = parse
        self._ready: list[E] = []

    def poll(self, wait_s: float = 0.0) -> list[E]:
        bad: FrameError | None = None
        for frame in self.link.poll(wait_s):
            if frame.cmd not in self.cmds:
                continue
            try:
                self._ready.append(self.parse(frame))
            except FrameError as exc:
                bad = bad or exc
        if bad is not None:
            raise bad
        out, self._ready = self._ready, []
        return out


# GB2312 code points that Python's codec maps to other Unicode characters than the ones people type:
# A1A4 is the middle dot of 阿卜杜热依木·买买提 (U+00B7 typed, U+30FB in the codec), A1AA the dash.
_ALIASES = str.maketrans({"\u00b7": "\u30fb", "\u2014": "\u2015"})


def gb2312(text: str, max_bytes: int = 64) -> bytes:
    """Display text as GB2312; characters outside it are an error, not '?'."""
    text = text.translate(_ALIASES)
    try:
        raw = text.encode("gb2312")
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise ValueError(f"{text!r}: {bad!r} is not in GB2312, the device's character set") from None
    if len(raw) > max_bytes:
        raise ValueError(f"{text!r} is {len(raw)} bytes in GB2312 (limit {max_bytes})")
    return raw


def from_gb2312(raw: bytes) -> str:
    """GB2312 bytes back to the text people type (A1A4 as U+00B7 ·); UnicodeDecodeError if invalid."""
    return raw.decode("gb2312").translate(_BACK)


_BACK = str.maketrans({"\u30fb": "\u00b7", "\u2015": "\u2014"})
UNSHOWABLE = "□"


def fit_gb2312(text: str, max_bytes: int = 64) -> str:
    """``text`` made showable: characters outside GB2312 (rare name characters such as 喆 or 堃)
    become □, and the text is cut at a character boundary to ``max_bytes``. For hosts that must
    show something (a clerk's name, a window name) rather than fail."""
    out, used = [], 0
    for ch in text.translate(_ALIASES):
        try:
            n = len(ch.encode("gb2312"))
        except UnicodeEncodeError:
            ch, n = UNSHOWABLE, 2
        if used + n > max_bytes:
            break
        out.append(ch)
        used += n
    return "".join(out)


def ticket_field(code: str) -> bytes:
    if not code or len(code) > 6 or not all("!" <= c <= "~" for c in code):
        raise ValueError(f"ticket code {code!r} is not 1..6 printable ASCII characters")
    return code.encode("ascii").ljust(6, b" ")
