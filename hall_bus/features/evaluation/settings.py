"""``[evaluation]`` and ``[[staff]]`` of hall.toml."""
from __future__ import annotations

from dataclasses import dataclass, field

from hall_bus.config import ConfigError, HallConfig


@dataclass(frozen=True)
class Staff:
    staff_no: str
    name: str
    windows: tuple[int, ...]


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


def load(config: HallConfig) -> EvaluationSettings:
    src = config.source
    sec = config.extra.get("evaluation", {})
    if not isinstance(sec, dict):
        raise ConfigError(src, "evaluation", "must be a table")
    allowed = {"timeout_s", "return_visit_days", "rectify_days"}
    for key in sec:
        if key not in allowed:
            raise ConfigError(src, f"evaluation.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    values = {}
    for key, lo, hi in (("timeout_s", 5, 600), ("return_visit_days", 0, 30), ("rectify_days", 1, 90)):
        if key in sec:
            v = sec[key]
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ConfigError(src, f"evaluation.{key}", f"must be an integer {lo}..{hi}, got {v!r}")
            values[key] = v
    staff = []
    numbers = {w.number for w in config.windows}
    for i, s in enumerate(config.extra.get("staff", [])):
        p = f"staff[{i}]"
        if not isinstance(s, dict):
            raise ConfigError(src, p, "must be a table ([[staff]])")
        for key in ("staff_no", "name"):
            if not isinstance(s.get(key), str) or not s[key]:
                raise ConfigError(src, f"{p}.{key}", "missing or not a string")
        wins = s.get("windows", [])
        if not isinstance(wins, list) or any(w not in numbers for w in wins):
            raise ConfigError(src, f"{p}.windows", f"must list window numbers of this hall ({sorted(numbers)})")
        staff.append(Staff(s["staff_no"], s["name"], tuple(wins)))
    return EvaluationSettings(staff=tuple(staff), **values)
