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
import time
from dataclasses import dataclass

from .errors import DeviceReported, ProtocolError, ReplyTimeout

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

RESULTS = {0x00: "ok", 0x01: "checksum error", 0x02: "unknown command", 0x03: "bad parameter", 0x04: "busy",
           0x05: "no evaluation pending"}


def checksum(body: bytes) -> int:
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
    ``errors`` lists what was dropped and why (ProtocolError objects, for logs and technicians)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.errors: list[ProtocolError] = []

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
                self._drop(start, "junk before frame start")
            if len(self.buf) < 5:
                return frames
            n1, n2, sep = self.buf[2], self.buf[3], self.buf[4]
            if n1 != n2 or sep != 0x68 or n1 < 2 or n1 > MAX_DATA + 2:
                self._drop(1, f"bad header (LEN {n1:02X}/{n2:02X}, separator {sep:02X})")
                continue
            total = 5 + n1 + 2
            if len(self.buf) < total:
                return frames
            body = bytes(self.buf[5:5 + n1])
            cs, end = self.buf[5 + n1], self.buf[6 + n1]
            if end != END:
                self._drop(1, f"frame does not end with 16 (got {end:02X})")
                continue
            if cs != checksum(body):
                raw = bytes(self.buf[:total])
                self.errors.append(ProtocolError(f"checksum mismatch: got {cs:02X}, computed {checksum(body):02X}", raw))
                del self.buf[:total]
                continue
            frames.append(Frame(body[0], body[1], body[2:]))
            del self.buf[:total]

    def _drop(self, n: int, why: str) -> None:
        raw = bytes(self.buf[:n])
        self.errors.append(ProtocolError(why, raw))
        del self.buf[:n]


class HallLink:
    """Request/reply and events over one serial port (one device address)."""

    def __init__(self, port, addr: int = 1, reply_timeout: float = 0.5, retries: int = 2) -> None:
        self.port = port
        self.addr = addr
        self.reply_timeout = reply_timeout
        self.retries = retries
        self.codec = HallFrameCodec()
        self.events: collections.deque[Frame] = collections.deque()
        self.seen_seq: collections.deque[int] = collections.deque(maxlen=16)
        self.duplicates = 0

    def _read_frames(self, until: float) -> list[Frame]:
        self.port.timeout = max(0.01, min(0.05, until - time.monotonic()))
        chunk = self.port.read(256)
        return self.codec.feed(chunk) if chunk else []

    def _take(self, frame: Frame) -> None:
        """An event: acknowledge it, and keep it unless its SEQ was seen already (a repeat)."""
        seq = frame.data[0] if frame.data else 0
        self.port.write(encode(self.addr, frame.cmd | REPLY, bytes([0, seq])))
        if seq in self.seen_seq:
            self.duplicates += 1
            return
        self.seen_seq.append(seq)
        self.events.append(frame)

    def request(self, cmd: int, data: bytes = b"") -> bytes:
        """Send a command, return the reply's payload (after the result code)."""
        wire = encode(self.addr, cmd, data)
        received = bytearray()
        for attempt in range(self.retries + 1):
            errors_before = len(self.codec.errors)
            self.port.write(wire)
            deadline = time.monotonic() + self.reply_timeout
            while time.monotonic() < deadline:
                for frame in self._read_frames(deadline):
                    received += frame.encode()
                    if frame.addr != self.addr:
                        continue  # another device on the RS485 bus
                    if frame.is_event:
                        self._take(frame)
                    elif frame.cmd == cmd | REPLY:
                        if not frame.data:
                            raise ProtocolError("reply without a result code", frame.encode())
                        if frame.data[0]:
                            raise DeviceReported(frame.data[0], RESULTS.get(frame.data[0], "device error"))
                        return frame.data[1:]
            if len(self.codec.errors) > errors_before and attempt == self.retries:
                raise self.codec.errors[-1]
        raise ReplyTimeout(f"no reply to command {cmd:02X} after {self.retries + 1} tries", wire, bytes(received))

    def poll(self, wait_s: float = 0.0) -> list[Frame]:
        """Events that arrived (acknowledged), waiting up to ``wait_s`` for the first."""
        deadline = time.monotonic() + wait_s
        while True:
            for frame in self._read_frames(deadline if wait_s else time.monotonic() + 0.01):
                if frame.addr == self.addr and frame.is_event:
                    self._take(frame)
            if self.events or time.monotonic() >= deadline:
                break
        out = list(self.events)
        self.events.clear()
        return out


def gb2312(text: str, max_bytes: int = 64) -> bytes:
    """Display text as GB2312; characters outside it are an error, not '?'."""
    raw = text.encode("gb2312")
    if len(raw) > max_bytes:
        raise ValueError(f"{text!r} is {len(raw)} bytes in GB2312 (limit {max_bytes})")
    return raw


def ticket_field(code: str) -> bytes:
    raw = code.encode("ascii")
    if len(raw) > 6:
        raise ValueError(f"ticket code {code!r} longer than 6 characters")
    return raw.ljust(6, b" ")
