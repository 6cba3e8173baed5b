"""Second-generation resident ID card reader, SAM protocol (GA 467 style): frames, codec, driver
(docs/protocols/idcard-sam.md); the card text layouts are in ``drivers.idcard_text``.

Frames in both directions::

    AA AA AA 96 69 | LEN_HI LEN_LO | body... | CHK

``LEN`` counts every byte after itself (CHK included); ``CHK`` is the XOR of the LEN bytes and the
body. A host body is ``CMD PARA DATA...``; a reader body is ``SW1 SW2 SW3 DATA...``.

:class:`IdCardCodec` turns a byte stream in any chunking into frames, skipping line noise and
raising :class:`~drivers.errors.FrameError` (and nothing else) for a broken frame, after which
it carries on with the bytes that follow: one bad frame never costs the next good one.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

from drivers.errors import DeviceReported, FrameError, ReplyTimeout, serial_hint

# re-exported: the card text is part of this protocol's API (drivers.idcard_text)
from drivers.idcard_text import CARD_TYPES as CARD_TYPES
from drivers.idcard_text import SEX_CODES as SEX_CODES
from drivers.idcard_text import Card as Card
from drivers.idcard_text import encode_text as encode_text
from drivers.idcard_text import id_check_digit as id_check_digit
from drivers.idcard_text import id_checksum_ok as id_checksum_ok
from drivers.idcard_text import parse_text as parse_text

log = logging.getLogger(__name__)

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
MIN_LEN = 3  # CMD PARA CHK
MAX_LEN = 0x1000  # text + photo + fingerprint is 2321 bytes; anything longer is noise

# commands (CMD, PARA)
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_PHOTO = (0x30, 0x01)
READ_NEW_ADDRESS = (0x30, 0x03)
READ_TEXT_PHOTO_FP = (0x30, 0x10)

# SW3 status values
OK = 0x90
FIND_OK = 0x9F
NO_CARD = 0x80
SELECT_FAILED = 0x81
READ_FAILED = 0x41
STATUS_TEXT = {
    0x90: "success",
    0x9F: "find card success",
    0x10: "checksum error in host frame",
    0x11: "length error in host frame",
    0x21: "bad command or parameter",
    0x23: "unrecognised error (0x23)",
    0x24: "unrecognised error (0x24)",
    0x31: "card failed to authenticate the reader",
    0x32: "reader failed to authenticate the card",
    0x33: "information verification error",
    0x40: "wrong card type",
    0x41: "card read failed",
    0x47: "get-random failed",
    0x60: "SAM self-test failed",
    0x66: "SAM not authorised",
    0x80: "find card failed (no card)",
    0x81: "select card failed",
    0x91: "no content for this item",
}
# statuses worth another find/select/read round: the card moved, the RF link hiccuped,
# or our frame got damaged on the line
TRANSIENT = frozenset({0x10, 0x11, 0x23, 0x24, 0x33, 0x41, 0x47, 0x81})


def shown(raw: bytes | bytearray) -> bytes:
    """What of a frame may go into an error message: short frames whole, long ones (card text)
    only their header, so no personal data reaches a log."""
    return bytes(raw) if len(raw) <= 32 else bytes(raw[:14])


def checksum(length_and_body: bytes | bytearray) -> int:
    x = 0
    for b in length_and_body:
        x ^= b
    return x


def encode_frame(body: bytes) -> bytes:
    """A whole frame around ``body`` (host ``CMD PARA DATA`` or reader ``SW1 SW2 SW3 DATA``)."""
    n = len(body) + 1
    if n > MAX_LEN:
        raise ValueError(f"frame body of {len(body)} bytes is too long")
    head = n.to_bytes(2, "big") + body
    return PREAMBLE + head + bytes([checksum(head)])


def request(cmd: int, para: int, data: bytes = b"") -> bytes:
    return encode_frame(bytes([cmd, para]) + data)


def reply(sw3: int, data: bytes = b"", sw1: int = 0x00, sw2: int = 0x00) -> bytes:
    return encode_frame(bytes([sw1, sw2, sw3]) + data)


@dataclasses.dataclass(frozen=True)
class Frame:
    """One checked frame; ``body`` is everything between LEN and CHK."""

    body: bytes

    # host view
    @property
    def cmd(self) -> int:
        return self.body[0]

    @property
    def para(self) -> int:
        return self.body[1] if len(self.body) > 1 else -1

    @property
    def request_data(self) -> bytes:
        return self.body[2:]

    # reader view
    @property
    def sw3(self) -> int:
        if len(self.body) < 3:
            raise FrameError("reader frame shorter than SW1 SW2 SW3", self.encode())
        return self.body[2]

    @property
    def data(self) -> bytes:
        return self.body[3:]

    def encode(self) -> bytes:
        return encode_frame(self.body)


class IdCardCodec:
    """Stream framer. ``feed(bytes) -> [Frame, ...]``; a broken frame raises FrameError once its
    bytes are consumed, and the rest stays buffered: call ``feed(b"")`` to carry on."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.skipped = 0  # noise bytes dropped while looking for a preamble

    def reset(self) -> None:
        self.buffer.clear()

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames: list[Frame] = []
        while True:
            start = self.buffer.find(PREAMBLE)
            if start < 0:
                # keep a possible preamble prefix at the end, drop the rest
                keep = 0
                for k in range(min(len(PREAMBLE) - 1, len(self.buffer)), 0, -1):
                    if self.buffer.endswith(PREAMBLE[:k]):
                        keep = k
                        break
                self.skipped += len(self.buffer) - keep
                del self.buffer[: len(self.buffer) - keep]
                return frames
            if start:
                self.skipped += start
                del self.buffer[:start]
            if len(self.buffer) < 7:
                return frames
            n = int.from_bytes(self.buffer[5:7], "big")
            if n < MIN_LEN or n > MAX_LEN:
                bad = bytes(self.buffer[:7])
                del self.buffer[: len(PREAMBLE)]
                self._raise(frames, FrameError(f"ID card frame length {n} out of range {MIN_LEN}..{MAX_LEN}", bad))
            end = 7 + n
            if len(self.buffer) < end:
                # incomplete; but if a complete valid frame starts later, this one was cut short
                later = self._later_valid_frame()
                if later is None:
                    return frames
                bad = bytes(self.buffer[:later])
                del self.buffer[:later]
                self._raise(frames, FrameError("ID card frame cut short (a new frame began inside it)", shown(bad)))
            raw = bytes(self.buffer[:end])
            if checksum(raw[5:-1]) != raw[-1]:
                del self.buffer[: len(PREAMBLE)]  # the length may be the damaged byte: resync just past the preamble
                self._raise(
                    frames,
                    FrameError(f"ID card frame checksum {raw[-1]:02X}, computed {checksum(raw[5:-1]):02X}", shown(raw)),
                )
            straddle = self.buffer.find(PREAMBLE, max(7, end - 4), end + 4)
            if 0 <= straddle < end:
                # a preamble runs across this frame's end: the frame lost bytes and borrowed the
                # next frame's head to fill its length (back-to-back good frames never look like this)
                del self.buffer[:straddle]
                self._raise(frames, FrameError("ID card frame overlaps the next frame's preamble", shown(raw)))
            del self.buffer[:end]
            frames.append(Frame(raw[7:-1]))

    def _later_valid_frame(self) -> int | None:
        pos = 1
        while True:
            pos = self.buffer.find(PREAMBLE, pos)
            if pos < 0 or len(self.buffer) < pos + 7:
                return None
            n = int.from_bytes(self.buffer[pos + 5 : pos + 7], "big")
            end = pos + 7 + n
            if (
                MIN_LEN <= n <= MAX_LEN
                and end <= len(self.buffer)
                and checksum(self.buffer[pos + 5 : end - 1]) == self.buffer[end - 1]
            ):
                return pos
            pos += 1

    def _raise(self, frames: list[Frame], err: FrameError) -> None:
        # good frames decoded before the broken one travel with the error
        err.frames = list(frames)
        raise err


def decode_all(codec: IdCardCodec, data: bytes) -> tuple[list[Frame], list[FrameError]]:
    """Feed ``data`` and drain the codec: every good frame and every error, in order."""
    frames: list[Frame] = []
    errors: list[FrameError] = []
    chunk = data
    while True:
        try:
            frames += codec.feed(chunk)
            return frames, errors
        except FrameError as exc:
            frames += exc.frames
            errors.append(exc)
            chunk = b""


def split_read_reply(data: bytes, with_fingerprint: bool = False) -> bytes:
    """The text block of a ``30 01`` / ``30 10`` reply's data; the photo (and fingerprint) is dropped."""
    heads = 6 if with_fingerprint else 4
    if len(data) < heads:
        raise FrameError("read reply shorter than its length fields", data)
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    fp_len = int.from_bytes(data[4:6], "big") if with_fingerprint else 0
    if len(data) != heads + text_len + photo_len + fp_len:
        raise FrameError(
            f"read reply holds {len(data) - heads} bytes, its lengths say {text_len}+{photo_len}+{fp_len}", data[:heads]
        )
    return bytes(data[heads : heads + text_len])


# ---------------------------------------------------------------------------------- driver
class IdCardDriver:
    """Find, select and read cards through a SAM module on an open serial port."""

    def __init__(self, port: Any, reply_timeout_s: float = 1.0, retries: int = 2) -> None:
        self.port = port
        self.codec = IdCardCodec()
        self.reply_timeout_s = reply_timeout_s
        self.retries = retries

    def close(self) -> None:
        self.port.close()

    def exchange(self, cmd: int, para: int, data: bytes = b"", timeout_s: float | None = None) -> Frame:
        """Send one command, return the reader's frame (any status); ReplyTimeout / FrameError."""
        sent = request(cmd, para, data)
        self.codec.reset()
        try:
            self.port.reset_input_buffer()  # a late reply to an earlier command must not answer this one
        except (AttributeError, NotImplementedError):
            pass
        self.port.write(sent)
        received = bytearray()
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else self.reply_timeout_s)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReplyTimeout(
                    f"ID card reader: no complete reply to {cmd:02X} {para:02X}",
                    sent,
                    shown(received),
                    serial_hint(bytes(received), "ID card reader (SAM readers run at 115200 baud)"),
                )
            self.port.timeout = min(left, 0.1)
            chunk = self.port.read(max(1, self.port.in_waiting))
            if not chunk:
                continue
            received += chunk
            frames = self.codec.feed(chunk)  # FrameError propagates: the caller decides to retry
            if frames:
                return frames[0]

    def command(
        self, cmd: int, para: int, data: bytes = b"", accept: tuple[int, ...] = (OK,), timeout_s: float | None = None
    ) -> Frame:
        frame = self.exchange(cmd, para, data, timeout_s)
        if frame.sw3 not in accept:
            raise DeviceReported(frame.sw3, STATUS_TEXT.get(frame.sw3, "unknown status"))
        return frame

    def sam_status(self) -> None:
        self.command(*SAM_STATUS)

    def sam_id(self) -> bytes:
        return self.command(*SAM_ID).data

    def find(self) -> bool:
        """True if a card lies on the reader (0x9F), False if not (0x80)."""
        return self.command(*FIND_CARD, accept=(FIND_OK, NO_CARD)).sw3 == FIND_OK

    def select(self) -> bytes:
        return self.command(*SELECT_CARD).data

    def read_text(self) -> bytes:
        """Read text and photo; the photo bytes are dropped here and never leave the driver."""
        frame = self.command(*READ_TEXT_PHOTO, timeout_s=max(self.reply_timeout_s, 2.0))
        return split_read_reply(frame.data)

    def read_card(self) -> Card:
        """find -> select -> read, again from find after a transient failure (``retries`` times).
        Raises DeviceReported(0x80) if no card is there."""
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                if not self.find():
                    raise DeviceReported(NO_CARD, STATUS_TEXT[NO_CARD])
                self.select()
                return parse_text(self.read_text())
            except DeviceReported as exc:
                if exc.code not in TRANSIENT:
                    raise
                last = exc
            except (FrameError, ReplyTimeout) as exc:
                last = exc
            log.info("ID card read attempt %d failed: %s", attempt + 1, last)
        assert last is not None
        raise last
