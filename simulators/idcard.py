"""ID card reader simulator (SAM protocol, docs/protocols/idcard-sam.md), kind ``idcard``.

Query: ``card=N`` puts card N of :data:`simulators.cards.DECK` on the reader at start (default
none; ``card=none`` too), ``baud=`` (115200 by default, the SAM default), ``fault=`` with the device
faults ``no_card`` (find always answers 0x80) and ``read_fail`` (every read answers 0x41, a card
whose chip cannot be read; ``read_fail:N`` only the next N reads, which the driver's retries hide).

Scripting: ``sim.insert(n)`` / ``sim.insert(card)`` and ``sim.remove()``.
"""

from __future__ import annotations

import os

from drivers import idcard as sam
from drivers.errors import FrameError
from simulators import registry
from simulators.base import SimulatedDevice
from simulators.cards import DECK

PHOTO_BYTES = 1024
SAM_SERIAL = bytes.fromhex("0501000020170615000012345678abcd")


class IdCardSimulator(SimulatedDevice):
    kind = "idcard"
    DEFAULT_BAUD = 115200
    OPTIONS = {"card": f"the card on the reader at start: none or 0..{len(DECK) - 1}"}
    FAULTS = {
        "no_card": "the reader never finds a card",
        "read_fail": "no read succeeds; read_fail:N: only the next N reads fail",
    }

    def __init__(self, query: dict[str, str] | None = None) -> None:
        query = dict(query or {})
        super().__init__(query)
        self.codec = sam.IdCardCodec()
        self.card: sam.Card | None = None
        self.selected = False
        self.reads = 0
        self.read_failures = 0
        for args in self.faults.device_args("read_fail"):
            try:
                self.read_failures = int(args[0]) if args else -1  # a card the reader cannot read
            except ValueError:
                raise ValueError(f"read_fail:{args[0]}: give the number of reads that fail") from None
        card = query.get("card", "none")
        if card not in ("", "none"):
            try:
                self.insert(int(card))
            except (ValueError, IndexError):
                raise ValueError(f"card={card!r}: expected none or 0..{len(DECK) - 1}") from None

    # -------------------------------------------------------------- a person at the reader
    def insert(self, card: int | sam.Card) -> None:
        with self.lock:
            self.card = DECK[card] if isinstance(card, int) else card
            self.selected = False

    def remove(self) -> None:
        with self.lock:
            self.card = None
            self.selected = False

    # -------------------------------------------------------------- protocol
    def handle(self, data: bytes) -> list[bytes]:
        replies: list[bytes] = []
        chunk = data
        while True:
            try:
                for frame in self.codec.feed(chunk):
                    replies.append(self._answer(frame))
                return replies
            except FrameError as exc:
                replies += [self._answer(f) for f in getattr(exc, "frames", [])]
                replies.append(sam.reply(0x10))  # checksum error in the host frame
                chunk = b""

    def _answer(self, frame: sam.Frame) -> bytes:
        key = (frame.cmd, frame.para)
        if key in (sam.RESET_SAM, sam.SAM_STATUS):
            return sam.reply(sam.OK)
        if key == sam.SAM_ID:
            return sam.reply(sam.OK, SAM_SERIAL)
        if key == sam.FIND_CARD:
            if self.card is None or self.faults.has("no_card"):
                self.selected = False
                return sam.reply(sam.NO_CARD)
            return sam.reply(sam.FIND_OK, bytes(4))
        if key == sam.SELECT_CARD:
            if self.card is None or self.faults.has("no_card"):
                return sam.reply(sam.SELECT_FAILED)
            self.selected = True
            return sam.reply(sam.OK, bytes(8))
        if key in (sam.READ_TEXT_PHOTO, sam.READ_TEXT_PHOTO_FP, sam.READ_NEW_ADDRESS):
            if self.card is None or not self.selected:
                return sam.reply(sam.READ_FAILED)
            if self.read_failures:
                self.read_failures -= 1 if self.read_failures > 0 else 0
                self.selected = False
                return sam.reply(sam.READ_FAILED)
            if key == sam.READ_NEW_ADDRESS:
                return sam.reply(0x91)
            self.reads += 1
            text = sam.encode_text(self.card)
            photo = os.urandom(PHOTO_BYTES)  # opaque WLT stand-in; a real one needs the vendor's decoder
            lengths = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
            if key == sam.READ_TEXT_PHOTO_FP:
                return sam.reply(sam.OK, lengths + (0).to_bytes(2, "big") + text + photo)
            return sam.reply(sam.OK, lengths + text + photo)
        return sam.reply(0x21)  # bad command or parameter


registry.register("idcard", IdCardSimulator)
