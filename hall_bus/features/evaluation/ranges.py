"""好差评 over any date range (``report.range``): ratings of finished tickets grouped by day, week,
month, window, clerk, domain, service or hour of finishing.

One SQL ``GROUP BY`` over the tickets of the range (found through the ``(hall, day, ...)`` index of
the tickets table, each joined to its evaluation by primary key) answers at most a few thousand
groups, which are then folded in Python where SQLite cannot name the key: ISO weeks, the hall's local
hour (grouped by quarter hour of epoch time, so any time zone and daylight saving come out right) and
the clerk of a window for tickets that were never rated. Definitions (docs/evaluation.md):

* finished: tickets served (办结); evaluated: those with a rating; not evaluated (未评价): the rest;
* 非常满意率 = level 1 / evaluated, against :data:`VERY_SATISFIED_TARGET` (99%);
* 好评率 = levels 1-3 / evaluated; 未评价率 = not evaluated / finished; bad reviews: levels 4-5;
* channels: the ratings per channel (评价渠道): the window's pad, the kiosk, the ticket's QR page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from hall_bus.config import HallConfig
from hall_bus.errors import CodedError
from hall_bus.features.evaluation.settings import EvaluationSettings
from hall_bus.vocabulary import LEVELS, LEVELS_EN

GROUPS = ("day", "week", "month", "window", "clerk", "domain", "service", "hour")
MAX_DAYS = 366  # a year, leap or not
VERY_SATISFIED_TARGET = 0.99  # 非常满意率 target of the national 好差评 rules
UNKNOWN = ""  # the key of tickets without a window or a clerk
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_KEY_SQL = {
    "day": "t.day",
    "week": "t.day",
    "month": "substr(t.day, 1, 7)",
    "window": "t.window",
    "clerk": "e.staff_no, t.window",
    "domain": "t.domain",
    "service": "t.service",
    "hour": "CAST(t.finished_at / 900 AS INTEGER)",
}
_RATED = "e.status = 'rated'"  # (a pending or not-evaluated row still names the clerk who served)
_LEVEL_SQL = ", ".join(f"COALESCE(SUM({_RATED} AND e.level = {n}), 0) AS l{n}" for n in range(1, 6))
CHANNELS = ("pad", "kiosk", "qr")
_CHANNEL_SQL = ", ".join(f"COALESCE(SUM({_RATED} AND e.channel = '{c}'), 0) AS c_{c}" for c in CHANNELS)
_SUMS = 2 + 5 + len(CHANNELS)  # finished, evaluated, the levels, the channels

Labeller = Callable[[str, str], dict[str, str] | None]


class _Store(Protocol):
    db: Any
    lock: Any


class RangeError(CodedError):
    """A date range the report cannot answer (``invalid_range``, ``range_too_long``)."""


def days_of(from_day: str, to_day: str) -> tuple[dt.date, dt.date]:
    try:
        first, last = dt.date.fromisoformat(from_day), dt.date.fromisoformat(to_day)
    except ValueError as exc:
        raise RangeError("invalid_range", f"{from_day} .. {to_day}: {exc}") from None
    if last < first:
        raise RangeError("invalid_range", f"the range ends ({to_day}) before it begins ({from_day})")
    if (last - first).days + 1 > MAX_DAYS:
        raise RangeError("range_too_long", f"a report covers at most {MAX_DAYS} days")
    return first, last


def query(group: str) -> str:
    """The one SQL statement of a grouping (named parameters hall, first, last)."""
    key = _KEY_SQL[group]
    return (
        f"SELECT {key}, COUNT(*) AS finished, COALESCE(SUM({_RATED}), 0) AS evaluated, {_LEVEL_SQL}, {_CHANNEL_SQL} "
        "FROM tickets t LEFT JOIN evaluations e ON e.ticket_id = t.id "
        "WHERE t.hall = :hall AND t.day BETWEEN :first AND :last AND t.state = 'finished' "
        f"GROUP BY {key}"
    )


def _fold_key(group: str, row: Any, clerk_of: Callable[[int], str | None], tz: dt.tzinfo | None) -> str:
    if group == "week":
        year, week, _ = dt.date.fromisoformat(row[0]).isocalendar()
        return f"{year}-W{week:02d}"
    if group == "hour":
        return f"{dt.datetime.fromtimestamp(row[0] * 900, tz).hour:02d}" if row[0] is not None else UNKNOWN
    if group == "clerk":
        return str(row[0] or (clerk_of(row[1]) if row[1] is not None else None) or UNKNOWN)
    return UNKNOWN if row[0] is None else str(row[0])


def figures(finished: int, evaluated: int, levels: list[int], channels: list[int] | None = None) -> dict[str, Any]:
    def rate(n: int, d: int) -> float | None:  # shares to 0.01 %
        return round(n / d, 4) if d else None

    very = rate(levels[0], evaluated)
    return {
        "finished": finished,
        "evaluated": evaluated,
        "not_evaluated": finished - evaluated,
        "levels": {str(n): levels[n - 1] for n in range(1, 6)},
        "very_satisfied_rate": very,
        "good_rate": rate(sum(levels[:3]), evaluated),
        "not_evaluated_rate": rate(finished - evaluated, finished),
        "bad_reviews": levels[3] + levels[4],
        "meets_target": None if very is None else very >= VERY_SATISFIED_TARGET,
        "channels": dict(zip(CHANNELS, channels or [0] * len(CHANNELS), strict=True)),
    }


def _no_clerk(window: int) -> str | None:
    return None


def _no_label(group: str, key: str) -> dict[str, str] | None:
    return None


def report_range(
    store: _Store,
    hall: str,
    from_day: str,
    to_day: str,
    group: str,
    clerk_of: Callable[[int], str | None] = _no_clerk,
    tz: dt.tzinfo | None = None,
    label: Labeller = _no_label,
) -> dict[str, Any]:
    """The ``report.range`` answer (``clerk_of(window) -> staff_no`` names the clerk of unrated tickets)."""
    first, last = days_of(from_day, to_day)
    if group not in GROUPS:
        raise RangeError("invalid_data", f"group must be one of {', '.join(GROUPS)}")
    params = {"hall": hall, "first": first.isoformat(), "last": last.isoformat()}
    with store.lock:
        rows = store.db.execute(query(group), params).fetchall() if _has_evaluations(store) else []
    sums: dict[str, list[int]] = {}
    for r in rows:
        key = _fold_key(group, r, clerk_of, tz)
        acc = sums.setdefault(key, [0] * _SUMS)
        for i, v in enumerate(r[-_SUMS:]):
            acc[i] += v
    out = []
    for key in sorted(sums):
        finished, evaluated, *rest = sums[key]
        out.append({"key": key, "label": label(group, key), **figures(finished, evaluated, rest[:5], rest[5:])})
    total = [sum(col) for col in zip(*sums.values(), strict=True)] if sums else [0] * _SUMS
    return {
        "hall": hall,
        "from_day": params["first"],
        "to_day": params["last"],
        "group": group,
        "target": VERY_SATISFIED_TARGET,
        "levels": [{"level": n, "zh": LEVELS[n], "en": LEVELS_EN[n]} for n in range(1, 6)],
        "rows": out,
        "totals": figures(total[0], total[1], total[2:7], total[7:]),
    }


def _has_evaluations(store: _Store) -> bool:
    """False for a store file of a hall that never ran the evaluation feature: nothing finished was rated."""
    return store.db.execute("SELECT 1 FROM sqlite_master WHERE name='evaluations'").fetchone() is not None


def labeller(config: HallConfig, staff: EvaluationSettings) -> Labeller:
    """Names of the keys in zh and en from hall.toml (windows, domains, services, [[staff]])."""
    windows = {str(w.number): w.name for w in config.windows}
    domains = {d.id: (d.name, d.name_en) for d in config.domains}
    services = {s.id: (s.name, s.name_en) for s in config.services}
    clerks = {s.staff_no: s.name for s in staff.staff}

    def label(group: str, key: str) -> dict[str, str] | None:
        if key == UNKNOWN:
            return {"zh": "未知", "en": "unknown"}
        if group == "window":
            return {"zh": windows.get(key, f"{key}号窗口"), "en": f"Window {key}"}
        if group == "clerk" and key in clerks:
            return {"zh": f"{clerks[key]}（{key}）", "en": f"{clerks[key]} ({key})"}
        if group in ("domain", "service"):
            names = (domains if group == "domain" else services).get(key)
            return {"zh": names[0], "en": names[1]} if names else None
        if group == "week":
            year, week = key.split("-W")
            return {"zh": f"{year}年第{int(week)}周", "en": f"week {int(week)} of {year}"}
        if group == "month":
            year, month = key.split("-")
            return {"zh": f"{year}年{int(month)}月", "en": f"{MONTHS_EN[int(month) - 1]} {year}"}
        if group == "hour":
            return {"zh": f"{key}:00-{int(key) + 1:02d}:00", "en": f"{key}:00-{int(key) + 1:02d}:00"}
        return None

    return label
