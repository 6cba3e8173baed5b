"""``[pickup]`` and ``[[lockers]]`` of hall.toml, validated with ConfigError (file, key, problem).

::

    [pickup]
    overdue_days = 7          # items not collected after this many days are listed as overdue
    door_open_alarm_s = 60    # a door left open this long raises an alarm event for the manager
    code_digits = 6           # one-time pickup code length, 6..8
    notifier = "log"          # log | memory | package.module:Class (SMS gateway adapter)
    max_failures = 5          # wrong codes/QRs before a kiosk (or a code) is locked out
    lockout_s = 900           # how long the lockout lasts
    session_ttl_s = 300       # an identified citizen has this long to choose items

    [[lockers]]
    id = "lockers-a"
    device = "lockers-a"      # a [[devices]] entry of kind "locker"
    name = "A柜"
    compartments = [ { no = "A01", board = 1, lock = 1, size = "S", position = "A列第1格" }, ... ]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hall_bus.config import ConfigError, HallConfig

SIZES = ("S", "M", "L")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$")
_NOTIFIER = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class Compartment:
    """One locker compartment (柜格): its number, where it is, how big, which lock."""

    no: str
    bank: str
    device: str
    board: int
    lock: int
    size: str
    position: str

    def public(self) -> dict:
        return {"no": self.no, "bank": self.bank, "size": self.size, "position": self.position}


@dataclass(frozen=True)
class LockerBank:
    id: str
    device: str
    name: str
    compartments: tuple[Compartment, ...]


@dataclass(frozen=True)
class PickupSettings:
    overdue_days: float = 7
    door_open_alarm_s: float = 60
    door_reminder_s: float = 20
    code_digits: int = 6
    max_failures: int = 5
    lockout_s: float = 900
    attempt_window_s: float = 900
    session_ttl_s: float = 300
    qr_ttl_days: float = 14
    resume_open_s: float = 60      # after a restart an unconfirmed open is re-sent only this soon after it was asked
    status_poll_s: float = 2.0     # how often open doors are re-queried besides the door events
    open_timeout_s: float = 8.0    # bus request timeout for locker.open
    notifier: str = "log"          # log | memory | package.module:Class (an SMS/WeChat gateway adapter)
    banks: tuple[LockerBank, ...] = ()

    @property
    def compartments(self) -> tuple[Compartment, ...]:
        return tuple(c for b in self.banks for c in b.compartments)

    def compartment(self, no: str) -> Compartment:
        for c in self.compartments:
            if c.no == no:
                return c
        raise KeyError(no)


_NUMBERS = {  # key: (type, min, max)
    "overdue_days": (float, 0.01, 365), "door_open_alarm_s": (float, 1, 3600), "door_reminder_s": (float, 1, 3600),
    "code_digits": (int, 6, 8), "max_failures": (int, 1, 100), "lockout_s": (float, 1, 86400),
    "attempt_window_s": (float, 1, 86400), "session_ttl_s": (float, 10, 3600),
    "qr_ttl_days": (float, 0.01, 365), "resume_open_s": (float, 0, 3600), "status_poll_s": (float, 0.1, 60),
    "open_timeout_s": (float, 1, 60),
}


def from_config(config: HallConfig) -> PickupSettings:
    src = config.source
    raw = config.extra.get("pickup", {}) or {}
    if not isinstance(raw, dict):
        raise ConfigError(src, "pickup", "must be a table")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "notifier":
            if not isinstance(value, str) or not (value in ("log", "memory") or _NOTIFIER.match(value)):
                raise ConfigError(src, "pickup.notifier", f"must be log, memory or package.module:Class, got {value!r}")
            values[key] = value
            continue
        if key not in _NUMBERS:
            raise ConfigError(src, f"pickup.{key}", f"unknown key (known: {', '.join(sorted([*_NUMBERS, 'notifier']))})")
        kind, lo, hi = _NUMBERS[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
            raise ConfigError(src, f"pickup.{key}", f"must be {'an integer' if kind is int else 'a number'}, got {value!r}")
        if not lo <= value <= hi:
            raise ConfigError(src, f"pickup.{key}", f"{value} outside {lo}..{hi}")
        values[key] = kind(value)
    return PickupSettings(banks=_banks(config), **values)


def _banks(config: HallConfig) -> tuple[LockerBank, ...]:
    src = config.source
    raw = config.extra.get("lockers", []) or []
    if not isinstance(raw, list):
        raise ConfigError(src, "lockers", "must be an array of tables ([[lockers]])")
    devices = {d.id: d for d in config.devices}
    banks: list[LockerBank] = []
    seen_no: set[str] = set()
    seen_lock: set[tuple[str, int, int]] = set()
    for i, b in enumerate(raw):
        key = f"lockers[{i}]"
        if not isinstance(b, dict):
            raise ConfigError(src, key, "must be a table")
        unknown = set(b) - {"id", "device", "name", "compartments"}
        if unknown:
            raise ConfigError(src, f"{key}.{sorted(unknown)[0]}", "unknown key (known: id, device, name, compartments)")
        bank_id = b.get("id")
        if not isinstance(bank_id, str) or not _ID.match(bank_id):
            raise ConfigError(src, f"{key}.id", "must be a lower-case id like lockers-a")
        if any(x.id == bank_id for x in banks):
            raise ConfigError(src, f"{key}.id", f"bank {bank_id!r} is defined twice")
        device = b.get("device", bank_id)
        dev = devices.get(device) if isinstance(device, str) else None
        if dev is None:
            raise ConfigError(src, f"{key}.device", f"{device!r} is not a [[devices]] id")
        if dev.kind != "locker":
            raise ConfigError(src, f"{key}.device", f"device {device!r} is of kind {dev.kind!r}, not locker")
        boards = dev.options.get("boards")
        comps_raw = b.get("compartments")
        if not isinstance(comps_raw, list) or not comps_raw:
            raise ConfigError(src, f"{key}.compartments", "must list at least one compartment")
        comps = []
        for j, c in enumerate(comps_raw):
            ck = f"{key}.compartments[{j}]"
            if not isinstance(c, dict):
                raise ConfigError(src, ck, "must be a table {no, board, lock, size, position}")
            unknown = set(c) - {"no", "board", "lock", "size", "position"}
            if unknown:
                raise ConfigError(src, f"{ck}.{sorted(unknown)[0]}", "unknown key (known: no, board, lock, size, position)")
            no = c.get("no")
            if not isinstance(no, str) or not _NO.match(no):
                raise ConfigError(src, f"{ck}.no", "must be a compartment number like A01")
            if no in seen_no:
                raise ConfigError(src, f"{ck}.no", f"compartment {no} is defined twice")
            board, lock = c.get("board"), c.get("lock")
            if isinstance(board, bool) or not isinstance(board, int) or not 1 <= board <= 64:
                raise ConfigError(src, f"{ck}.board", "must be a board address 1..64")
            if boards and board not in boards:
                raise ConfigError(src, f"{ck}.board", f"board {board} is not in device {device}'s boards {boards}")
            if isinstance(lock, bool) or not isinstance(lock, int) or not 1 <= lock <= 32:
                raise ConfigError(src, f"{ck}.lock", "must be a lock number 1..32")
            if (device, board, lock) in seen_lock:
                raise ConfigError(src, f"{ck}.lock", f"board {board} lock {lock} of {device} already belongs to another compartment")
            size = c.get("size")
            if size not in SIZES:
                raise ConfigError(src, f"{ck}.size", f"must be one of {', '.join(SIZES)}, got {size!r}")
            position = c.get("position", "")
            if not isinstance(position, str) or len(position) > 32:
                raise ConfigError(src, f"{ck}.position", "must be a short text like A列第3格")
            seen_no.add(no)
            seen_lock.add((device, board, lock))
            comps.append(Compartment(no, bank_id, device, board, lock, size, position))
        name = b.get("name", bank_id)
        if not isinstance(name, str):
            raise ConfigError(src, f"{key}.name", "must be text")
        banks.append(LockerBank(bank_id, device, name, tuple(comps)))
    return tuple(banks)
