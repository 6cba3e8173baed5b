"""``[pickup]`` and ``[[lockers]]`` of hall.toml, validated by the pydantic models below with
ConfigError (file, key, problem).

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
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from hall_bus.config import ConfigError, HallConfig, Problem, Section, between, checked, is_id

SIZES = ("S", "M", "L")
_NO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,15}")
_NOTIFIER = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


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

    def public(self) -> dict[str, Any]:
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
    resume_open_s: float = 60  # after a restart an unconfirmed open is re-sent only this soon after it was asked
    status_poll_s: float = 2.0  # how often open doors are re-queried besides the door events
    open_timeout_s: float = 8.0  # bus request timeout for locker.open
    notifier: str = "log"  # log | memory | package.module:Class (an SMS/WeChat gateway adapter)
    banks: tuple[LockerBank, ...] = ()

    @property
    def compartments(self) -> tuple[Compartment, ...]:
        return tuple(c for b in self.banks for c in b.compartments)

    def compartment(self, no: str) -> Compartment:
        for c in self.compartments:
            if c.no == no:
                return c
        raise KeyError(no)


def _when(ok: Any, problem: str) -> BeforeValidator:
    """A raw-value check with the one sentence the operator reads whatever is wrong."""

    def check(value: Any) -> Any:
        if not ok(value):
            raise ValueError(problem)
        return value

    return BeforeValidator(check)


def _int_in(lo: int, hi: int) -> Any:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _notifier(value: Any) -> Any:
    if not isinstance(value, str) or not (value in ("log", "memory") or _NOTIFIER.fullmatch(value)):
        raise ValueError(f"must be log, memory or package.module:Class, got {value!r}")
    return value


def _size(value: Any) -> Any:
    if value not in SIZES:
        raise ValueError(f"must be one of {', '.join(SIZES)}, got {value!r}")
    return value


class PickupSection(Section):
    """``[pickup]``: every key optional, defaults in :class:`PickupSettings`."""

    unknown_word: ClassVar[str] = "known"

    overdue_days: Annotated[float, between(0.01, 365)] = 7
    door_open_alarm_s: Annotated[float, between(1, 3600)] = 60
    door_reminder_s: Annotated[float, between(1, 3600)] = 20
    code_digits: Annotated[int, between(6, 8)] = 6
    max_failures: Annotated[int, between(1, 100)] = 5
    lockout_s: Annotated[float, between(1, 86400)] = 900
    attempt_window_s: Annotated[float, between(1, 86400)] = 900
    session_ttl_s: Annotated[float, between(10, 3600)] = 300
    qr_ttl_days: Annotated[float, between(0.01, 365)] = 14
    resume_open_s: Annotated[float, between(0, 3600)] = 60
    status_poll_s: Annotated[float, between(0.1, 60)] = 2.0
    open_timeout_s: Annotated[float, between(1, 60)] = 8.0
    notifier: Annotated[str, BeforeValidator(_notifier)] = "log"


class CompartmentModel(Section):
    unknown_word: ClassVar[str] = "known"

    no: Annotated[
        str, _when(lambda v: isinstance(v, str) and _NO.fullmatch(v), "must be a compartment number like A01")
    ]
    board: Annotated[int, _when(_int_in(1, 64), "must be a board address 1..64")]
    lock: Annotated[int, _when(_int_in(1, 32), "must be a lock number 1..32")]
    size: Annotated[str, BeforeValidator(_size)]
    position: Annotated[
        str, _when(lambda v: isinstance(v, str) and len(v) <= 32, "must be a short text like A列第3格")
    ] = ""


class LockerBankModel(Section):
    unknown_word: ClassVar[str] = "known"

    id: Annotated[str, _when(lambda v: isinstance(v, str) and is_id(v), "must be a lower-case id like lockers-a")]
    device: Any = Field(None, validate_default=True)  # a [[devices]] id of kind locker; default: the bank id
    name: Annotated[str, _when(lambda v: isinstance(v, str), "must be text")] | None = None
    compartments: Annotated[
        list[
            Annotated[
                CompartmentModel,
                _when(lambda v: isinstance(v, dict), "must be a table {no, board, lock, size, position}"),
            ]
        ],
        _when(lambda v: isinstance(v, list) and v, "must list at least one compartment"),
    ]

    @field_validator("device")
    @classmethod
    def _locker_device(cls, device: Any, info: ValidationInfo) -> str:
        if device is None:
            device = info.data.get("id")
        devices = (info.context or {}).get("devices", {})
        dev = devices.get(device) if isinstance(device, str) else None
        if dev is None:
            raise ValueError(f"{device!r} is not a [[devices]] id")
        if dev.kind != "locker":
            raise ValueError(f"device {device!r} is of kind {dev.kind!r}, not locker")
        return str(device)

    @field_validator("compartments")
    @classmethod
    def _on_boards(cls, comps: list[CompartmentModel], info: ValidationInfo) -> list[CompartmentModel]:
        device = info.data.get("device")
        dev = (info.context or {}).get("devices", {}).get(device)
        boards = dev.options.get("boards") if dev is not None else None
        for j, c in enumerate(comps):
            if boards and c.board not in boards:
                raise Problem((j, "board"), f"board {c.board} is not in device {device}'s boards {boards}")
        return comps


class LockersFile(BaseModel):
    """``[[lockers]]`` of the hall: bank ids, compartment numbers and board/lock pairs are unique."""

    model_config = ConfigDict(strict=True, frozen=True)

    lockers: list[Annotated[LockerBankModel, _when(lambda v: isinstance(v, dict), "must be a table")]] = []

    @model_validator(mode="after")
    def _unique(self) -> LockersFile:
        banks: set[str] = set()
        numbers: set[str] = set()
        locks: set[tuple[str, int, int]] = set()
        for i, b in enumerate(self.lockers):
            if b.id in banks:
                raise Problem(("lockers", i, "id"), f"bank {b.id!r} is defined twice")
            banks.add(b.id)
            for j, c in enumerate(b.compartments):
                where = ("lockers", i, "compartments", j)
                if c.no in numbers:
                    raise Problem((*where, "no"), f"compartment {c.no} is defined twice")
                if (b.device, c.board, c.lock) in locks:
                    raise Problem(
                        (*where, "lock"),
                        f"board {c.board} lock {c.lock} of {b.device} already belongs to another compartment",
                    )
                numbers.add(c.no)
                locks.add((b.device, c.board, c.lock))
        return self


def from_config(config: HallConfig) -> PickupSettings:
    src = config.source
    raw = config.extra.get("pickup", {}) or {}
    if not isinstance(raw, dict):
        raise ConfigError(src, "pickup", "must be a table")
    section = checked(PickupSection, raw, src, "pickup")
    return PickupSettings(banks=_banks(config), **section.model_dump())


def _banks(config: HallConfig) -> tuple[LockerBank, ...]:
    src = config.source
    raw = config.extra.get("lockers", []) or []
    if not isinstance(raw, list):
        raise ConfigError(src, "lockers", "must be an array of tables ([[lockers]])")
    f = checked(LockersFile, {"lockers": raw}, src, context={"devices": {d.id: d for d in config.devices}})
    return tuple(
        LockerBank(
            b.id,
            b.device,
            b.name if b.name is not None else b.id,
            tuple(Compartment(c.no, b.id, b.device, c.board, c.lock, c.size, c.position) for c in b.compartments),
        )
        for b in f.lockers
    )
