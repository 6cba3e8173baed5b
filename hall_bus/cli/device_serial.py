"""``hallkit device idcard read`` and ``hallkit device locker open|status``: technician tools that
talk to an ID card reader or a locker bank by URL (a tty, ``socket://``, or ``sim://``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from devices.base import DeviceError
from devices.config import DeviceConfig
from devices.idcard import IdCardReader
from devices.locker import LockerBank
from devices.profiles import ProfileError
from hall_bus.cli.common import fail, opened, reporting
from hall_bus.cli.main import CommandLine

ERRORS = (DeviceError, ProfileError, ValueError)  # ValueError: a board not in the bank, a URL pyserial cannot parse


def register(cli: CommandLine) -> None:
    cli.describe(("device",), "talk to one hall device by URL (technician tools)")
    cli.describe(("device", "idcard"), "ID card reader (SAM) / 身份证阅读器")
    p = cli.command(
        ("device", "idcard", "read"), help="read the card on the reader (masked unless --reveal)", handler=idcard_read
    )
    p.add_argument("--url", required=True, help="/dev/ttyUSB0, socket://HOST:PORT or sim://idcard?card=0")
    p.add_argument("--profile", default="generic-sam", help="capability profile (default generic-sam)")
    p.add_argument("--baud", type=int, default=None, help="serial baud rate (default: the profile's, 115200)")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for a card to be put on the reader")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--reveal", action="store_true", help="print the full name, ID number and address")

    cli.describe(("device", "locker"), "pickup-locker lock boards (8A/80, RS485) / 智能柜锁控板")
    p = cli.command(("device", "locker", "open"), help="fire one lock and report its door", handler=locker_open)
    _locker_common(p)
    p.add_argument("--lock", type=int, required=True, help="lock number on the board (1..)")
    p = cli.command(("device", "locker", "status"), help="door state of each lock (or one)", handler=locker_status)
    _locker_common(p)
    p.add_argument("--lock", type=int, default=None, help="only this lock")


def _locker_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True, help="/dev/ttyUSB0, socket://HOST:PORT or sim://locker?boards=1,2")
    p.add_argument("--board", type=int, required=True, help="board address on the RS485 line (1..64)")
    p.add_argument("--profile", default="8a80-24", help="board model profile (default 8a80-24)")
    p.add_argument("--baud", type=int, default=None, help="serial baud rate (default: the profile's, 9600)")
    p.add_argument("--json", action="store_true", help="print JSON")


def idcard_read(args: argparse.Namespace) -> int:
    options = {"baudrate": args.baud} if args.baud else {}
    config = DeviceConfig(id="idcard", kind="idcard", url=args.url, profile=args.profile, options=options)
    with reporting("device idcard read", (DeviceError, ProfileError)), opened(IdCardReader(config)) as reader:
        if not reader.wait_for_card(args.wait):
            return fail("no card on the reader / 未检测到身份证", 2, "device idcard read")
        card = reader.read_card()
    data = card.public(reveal=args.reveal)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    labels = {
        "card_type": "证件类型 card type",
        "name": "姓名 name",
        "sex": "性别 sex",
        "nation": "民族/国籍 nation",
        "birth": "出生 birth",
        "id_masked": "号码 ID",
        "id_number": "号码(完整) full ID",
        "address": "住址 address",
        "issuer": "签发机关 issuer",
        "valid_from": "有效期起 valid from",
        "valid_to": "有效期止 valid to",
        "checksum_ok": "校验位 check digit",
    }
    for key, label in labels.items():
        if key in data:
            value = data[key]
            if key == "valid_to" and value is None:
                value = "长期 (no expiry)"
            if key == "checksum_ok":
                value = {True: "ok", False: "WRONG", None: "n/a (no public rule)"}[value]
            print(f"{label}: {value}")
    return 0


def _bank(args: argparse.Namespace) -> LockerBank:
    options: dict[str, Any] = {"boards": [args.board]}
    if args.baud:
        options["baudrate"] = args.baud
    return LockerBank(DeviceConfig(id="locker", kind="locker", url=args.url, profile=args.profile, options=options))


def locker_open(args: argparse.Namespace) -> int:
    with reporting("device locker open", ERRORS), opened(_bank(args)) as bank:
        opened_ = bool(bank.open(args.board, args.lock))
    if args.json:
        print(json.dumps({"board": args.board, "lock": args.lock, "door": "open" if opened_ else "closed"}))
    else:
        door = "open / 已打开" if opened_ else "still closed / 未打开 (jammed?)"
        print(f"board {args.board} lock {args.lock}: door {door}")
    return 0 if opened_ else 3


def locker_status(args: argparse.Namespace) -> int:
    with reporting("device locker status", ERRORS), opened(_bank(args)) as bank:
        if args.lock is not None:
            doors = {args.lock: "open" if bank.is_open(args.board, args.lock) else "closed"}
        else:
            doors = bank.status(args.board)
    if args.json:
        print(json.dumps({"board": args.board, "doors": {str(k): v for k, v in doors.items()}}))
    else:
        for lock, door in doors.items():
            print(f"board {args.board} lock {lock}: {door}")
    return 0
