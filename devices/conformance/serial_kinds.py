"""Conformance checks of the serial devices with vendor protocols: ID card reader, locker boards
(the receipt printer's are in ``devices.conformance.printer``)."""

from __future__ import annotations

import time

from devices.conformance.core import CheckSet, Probe, expect
from drivers.idcard import IdCardDriver
from drivers.locker import LockBoardBus

CHECKS = CheckSet()
check = CHECKS.check


# ---------------------------------------------------------------------------------------------- ID card
@check("idcard", "SAM status answers 90 (ready)")
def _idcard_status(p: Probe) -> None:
    IdCardDriver(p.port).sam_status()


@check("idcard", "find, select and read a card; the ID number's check digit is right")
def _idcard_read(p: Probe) -> None:
    drv = IdCardDriver(p.port)
    expect(drv.find(), "no card found: put a card on the reader")
    drv.select()
    card = drv.read_card()
    expect(bool(card.checksum_ok), f"the card's ID number {card.masked_id} fails its check digit")
    expect(card.card_type in ("resident", "J", "I"), f"unknown card type {card.card_type!r}")


@check("idcard", "a corrupted frame does not upset the next exchange")
def _idcard_resync(p: Probe) -> None:
    p.port.write(b"\xaa\xaa\xaa\x96\x69\x00\x03\x20\x01\x00")  # a frame with a wrong checksum
    time.sleep(0.2)
    p.port._port.reset_input_buffer()
    IdCardDriver(p.port).sam_status()


# ---------------------------------------------------------------------------------------------- locker
@check("locker", "query all locks of board 1")
def _locker_query(p: Probe) -> None:
    doors = LockBoardBus(p.port).query_all(int(p.options.get("board", 1)))
    expect(len(doors) >= 1, "no door states in the reply")


@check("locker", "open a lock and see its door open")
def _locker_open(p: Probe) -> None:
    board, lock = int(p.options.get("board", 1)), int(p.options.get("lock", 1))
    bus = LockBoardBus(p.port)
    expect(bus.open_lock(board, lock), f"board {board} did not confirm opening lock {lock}")
    expect(bus.query(board, lock), f"lock {lock} reports its door closed right after opening")
