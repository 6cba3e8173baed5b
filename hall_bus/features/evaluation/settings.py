"""``[evaluation]`` and ``[[staff]]`` of hall.toml, checked by the pydantic models below."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo, field_validator

from hall_bus.config import ConfigError, HallConfig, Section, checked, int_between

STAFF_ROLES = ("clerk", "manager", "admin")  # the web console's roles (docs/web.md)


@dataclass(frozen=True)
class Staff:
    staff_no: str
    name: str
    windows: tuple[int, ...]
    roles: tuple[str, ...] = ("clerk",)
    photo: str = ""  # an image file shown on the window's tablet (optional)


@dataclass(frozen=True)
class EvaluationSettings:
    timeout_s: int = 60
    return_visit_days: int = 1
    rectify_days: int = 15
    staff: tuple[Staff, ...] = field(default_factory=tuple)

    def clerk_of(self, window: int) -> Staff | None:
        for s in self.staff:
            if window in s.windows:
                return s
        return None


class EvaluationSection(Section):
    timeout_s: Annotated[int, int_between(5, 600)] = 60
    return_visit_days: Annotated[int, int_between(0, 30)] = 1
    rectify_days: Annotated[int, int_between(1, 90)] = 15


def _text(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        raise ValueError("missing or not a string")
    return value


class StaffModel(Section):
    staff_no: Annotated[str, BeforeValidator(_text)]
    name: Annotated[str, BeforeValidator(_text)]
    windows: list[Any] = []
    roles: list[str] = ["clerk"]
    photo: str = ""

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: list[str]) -> list[str]:
        unknown = [r for r in roles if r not in STAFF_ROLES]
        if unknown or not roles:
            raise ValueError(f"must list roles among {list(STAFF_ROLES)}, at least one (got {roles})")
        return roles

    @field_validator("windows")
    @classmethod
    def _hall_windows(cls, wins: list[Any], info: ValidationInfo) -> list[Any]:
        numbers = (info.context or {}).get("windows", set())
        if any(w not in numbers for w in wins):
            raise ValueError(f"must list window numbers of this hall ({sorted(numbers)})")
        return wins


def load(config: HallConfig) -> EvaluationSettings:
    src = config.source
    sec = config.extra.get("evaluation", {})
    if not isinstance(sec, dict):
        raise ConfigError(src, "evaluation", "must be a table")
    staff_raw = config.extra.get("staff", [])
    if not isinstance(staff_raw, list):
        raise ConfigError(src, "staff", "must be an array of tables ([[staff]])")
    section = checked(EvaluationSection, sec, src, "evaluation")
    context = {"windows": {w.number for w in config.windows}}
    staff = []
    for i, s in enumerate(staff_raw):
        if not isinstance(s, dict):
            raise ConfigError(src, f"staff[{i}]", "must be a table ([[staff]])")
        m = checked(StaffModel, s, src, f"staff[{i}]", context)
        staff.append(Staff(m.staff_no, m.name, tuple(m.windows), tuple(m.roles), m.photo))
    return EvaluationSettings(staff=tuple(staff), **section.model_dump())
