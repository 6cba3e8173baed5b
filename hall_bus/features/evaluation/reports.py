"""Daily hall report: per window, clerk, domain and service, and for the whole hall.

Definitions (docs/evaluation.md):
* tickets: issued that day; served: finished; no-show rate: no-shows / (served + no-shows);
* wait: issue to first call, in minutes, over called tickets; p90 by nearest rank (the value at
  position ceil(0.9 n) of the sorted waits); handling: start to finish of served tickets;
* evaluated: served tickets with a rating; 非常满意率 = level 1 / evaluated; 好评率 = levels 1-3 /
  evaluated (非常满意, 满意, 基本满意); 未评价率 = served tickets without a rating / served;
* bad reviews: levels 4-5, with their follow-up states.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hall_bus.controller.store import Store


class ReadOnlyStore:
    """The controller's store file opened read-only (``hallkit report daily --db``): no migration, no
    write, safe next to a running controller (WAL)."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such store file")
        self.db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        if self.db.execute("SELECT 1 FROM sqlite_master WHERE name='tickets'").fetchone() is None:
            self.db.close()
            raise ValueError(f"{path}: not a HallKit controller store (no tickets table)")

    def close(self) -> None:
        self.db.close()


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    served = [r for r in rows if r["state"] == "finished"]
    no_show = sum(1 for r in rows if r["state"] == "no_show")
    waits = [(r["called_at"] - r["issued_at"]) / 60 for r in rows if r["called_at"] is not None]
    handling = [(r["finished_at"] - r["started_at"]) / 60 for r in served if r["started_at"] is not None]
    levels = {lvl: sum(1 for r in served if r["eval_status"] == "rated" and r["level"] == lvl) for lvl in range(1, 6)}
    evaluated = sum(levels.values())
    bad = [r for r in served if r["eval_status"] == "rated" and r["level"] in (4, 5)]
    followup: defaultdict[str, int] = defaultdict(int)
    for r in bad:
        followup[r["followup_state"] or "none"] += 1

    def mins(v: float | None) -> float | None:  # minutes to 0.01
        return None if v is None else round(v, 2)

    def rate(n: int, d: int) -> float | None:  # shares to 0.01 %
        return round(n / d, 4) if d else None

    return {
        "tickets": len(rows),
        "served": len(served),
        "no_shows": no_show,
        "no_show_rate": rate(no_show, len(served) + no_show),
        "wait_mean_min": mins(_mean(waits)),
        "wait_p90_min": mins(p90(waits)),
        "handling_mean_min": mins(_mean(handling)),
        "evaluations": {str(k): v for k, v in levels.items()},
        "evaluated": evaluated,
        "very_satisfied_rate": rate(levels[1], evaluated),
        "good_rate": rate(levels[1] + levels[2] + levels[3], evaluated),
        "not_evaluated_rate": rate(len(served) - evaluated, len(served)),
        "bad_reviews": len(bad),
        "followups": dict(followup),
    }


def _no_clerk(window: int) -> str | None:
    return None


def daily(
    store: Store | ReadOnlyStore,
    hall: str,
    day: str,
    clerk_of: Callable[[int], str | None] = _no_clerk,
    tz: dt.tzinfo | None = None,
) -> dict[str, Any]:
    """The report of one day (``clerk_of(window) -> staff_no`` fills in clerks for unevaluated tickets)."""
    with store.lock:
        has_eval = store.db.execute("SELECT 1 FROM sqlite_master WHERE name='evaluations'").fetchone() is not None
        sql = (
            (
                "SELECT t.*, e.status AS eval_status, e.level, e.reason, e.staff_no AS eval_staff, f.state AS followup_state "
                "FROM tickets t LEFT JOIN evaluations e ON e.ticket_id = t.id LEFT JOIN followups f ON f.ticket_id = t.id "
                "WHERE t.hall=? AND t.day=?"
            )
            if has_eval
            else (
                "SELECT t.*, NULL AS eval_status, NULL AS level, NULL AS reason, NULL AS eval_staff, NULL AS followup_state "
                "FROM tickets t WHERE t.hall=? AND t.day=?"
            )
        )
        rows = [dict(r) for r in store.db.execute(sql, (hall, day))]
    for r in rows:
        r["clerk"] = r["eval_staff"] or (clerk_of(r["window"]) if r["window"] else None)
    groups: dict[str, dict[str, list[Any]]] = {
        "window": defaultdict(list),
        "clerk": defaultdict(list),
        "domain": defaultdict(list),
        "service": defaultdict(list),
    }
    for r in rows:
        if r["window"] is not None:
            groups["window"][str(r["window"])].append(r)
        if r["clerk"]:
            groups["clerk"][r["clerk"]].append(r)
        groups["domain"][r["domain"]].append(r)
        groups["service"][r["service"]].append(r)
    hourly = defaultdict(list)
    for r in rows:
        if r["called_at"] is not None:
            hourly[dt.datetime.fromtimestamp(r["issued_at"], tz).hour].append((r["called_at"] - r["issued_at"]) / 60)
    return {
        "hall": hall,
        "day": day,
        "overall": _figures(rows),
        "by": {k: {name: _figures(v) for name, v in sorted(g.items())} for k, g in groups.items()},
        "hourly_wait_mean_min": {h: round(sum(v) / len(v), 2) for h, v in sorted(hourly.items())},
    }
