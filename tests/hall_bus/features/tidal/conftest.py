"""Fixtures of the tidal tests: an in-process queue engine over an in-memory store with a hand-driven clock,
and synthetic hall loads for the pure policy tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from hall_bus import config as hallconfig
from hall_bus.controller.store import Store
from hall_bus.features.tidal.load import DomainLoad, HallLoad, WindowLoad, _fill_capacity
from hall_bus.queue.engine import QueueEngine
from hall_bus.queue.forecast import Line, forecast


class Clock:
    def __init__(self) -> None:
        self.t = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()

    def __call__(self) -> float:
        return self.t

    def advance(self, minutes: float) -> None:
        self.t += minutes * 60.0


@dataclass
class EngineHall:
    config: hallconfig.HallConfig
    engine: QueueEngine
    clock: Clock

    def issue(self, service: str, n: int = 1) -> list:
        return [self.engine.issue(service, channel="cli")[0] for _ in range(n)]


@pytest.fixture
def engine_hall(tmp_hall) -> EngineHall:
    cfg = hallconfig.load(tmp_hall)
    clock = Clock()
    store = Store(":memory:", durable=False)
    yield EngineHall(cfg, QueueEngine(cfg, store, clock=clock), clock)
    store.close()


def make_load(
    domains: dict[str, tuple[int, float, float, float]],
    windows: list[tuple],
    at: float = 100_000.0,
    horizon_min: float = 15.0,
) -> HallLoad:
    """domains: id -> (waiting, work_min, arrivals_per_h, handling_min): ``waiting`` tickets of
    ``work_min / waiting`` minutes each, issued a minute apart up to ``at``;
    windows: (number, domains, skills, home_domains[, state[, last_move_at]]), all free now.
    The waits are the hall's one estimate (``forecast``) over those tickets and windows."""
    dl = {
        d: DomainLoad(d, d, d, w, work, work / max(w, 1) if w else 0.0, rate, h)
        for d, (w, work, rate, h) in domains.items()
    }
    wl = {}
    for spec in windows:
        number, doms, skills, home = spec[:4]
        state = spec[4] if len(spec) > 4 else "serving"
        last = spec[5] if len(spec) > 5 else None
        wl[number] = WindowLoad(
            number,
            f"{number}号窗口",
            list(doms),
            None,
            list(skills),
            list(home),
            state,
            "serving" if state == "serving" else state,
            None,
            last,
        )
    _fill_capacity(dl, wl.values())
    lines = tuple(
        Line(k * 1000 + i, d, (2, at - (w - i) * 60.0 - k, k * 1000 + i), work / w)
        for k, (d, (w, work, _rate, _h)) in enumerate(domains.items())
        for i in range(w)
    )
    load = HallLoad(at, dl, wl, horizon_min, lines)
    load.apply(forecast(lines, load.desks()))
    return load
