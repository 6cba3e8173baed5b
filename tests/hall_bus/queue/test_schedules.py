"""The queue engine with hours per window and domain (延时/错时): who may take a ticket when, what the
windows' states say, and the wait estimate counting only the windows that serve now."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hall_bus import config as hallconfig
from hall_bus.controller.store import Store
from hall_bus.queue.engine import QueueEngine
from hall_bus.queue.models import Closed, QueueError

TZ = ZoneInfo("Asia/Shanghai")
HALL = Path(__file__).parents[2] / "fixtures" / "schedule-hall.toml"
MONDAY = dt.date(2026, 11, 23)
THURSDAY = dt.date(2026, 11, 26)
SATURDAY = dt.date(2026, 11, 28)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def set(self, day: dt.date, hh: int, mm: int = 0) -> float:
        self.t = dt.datetime.combine(day, dt.time(hh, mm), TZ).timestamp()
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> QueueEngine:
    clock.set(MONDAY, 10)
    return QueueEngine(hallconfig.load(HALL), Store(tmp_path / "hall.db"), clock=clock)


def take(engine: QueueEngine, service: str, **kw):
    return engine.issue(service, idempotency_key=f"k-{random.getrandbits(64):x}", **kw)[0]


def hours(engine: QueueEngine) -> dict[int, str]:
    return {w.number: w.hours for w in engine.windows()}


def test_on_saturday_only_the_saturday_window_s_domain_takes_tickets(engine: QueueEngine, clock: Clock) -> None:
    clock.set(SATURDAY, 10)
    assert take(engine, "s").code == "A001"  # 社保: window 2 works Saturday mornings
    with pytest.raises(Closed, match="opening hours only") as err:
        take(engine, "b")  # 不动产's window 3 is closed on Saturdays
    assert err.value.code == "closed"
    assert hours(engine) == {1: "closed", 2: "open", 3: "closed"}
    assert engine.snapshot("shebao")["windows_open"] == [2]
    assert engine.snapshot("budongchan")["estimated_wait_min"] is None  # no window serves it today


def test_at_lunch_time_the_lunch_window_serves_and_the_estimate_counts_it_alone(
    engine: QueueEngine, clock: Clock
) -> None:
    clock.set(MONDAY, 12, 15)
    for _ in range(3):
        take(engine, "s")  # 10 minutes each (the default)
    assert hours(engine)[1] == "closed" and hours(engine)[2] == "open"
    snap = engine.snapshot("shebao")
    assert snap["windows_open"] == [2]
    assert snap["estimated_wait_min"] == 30.0  # one window for three tickets, not two
    with pytest.raises(Closed):
        take(engine, "g")  # 公安 is served by window 1 only, closed at lunch


def test_an_evening_window_takes_appointments_and_refuses_walk_ins_with_their_own_code(
    engine: QueueEngine, clock: Clock
) -> None:
    start = clock.set(THURSDAY, 18, 30)
    engine.add_appointment("Y2611260001", "b", start, start + 1800)
    clock.set(THURSDAY, 18, 10)
    with pytest.raises(QueueError) as err:
        take(engine, "b")
    assert err.value.code == "appointments_only" and "walk-in tickets today: 09:00-12:00, 13:30-17:30" in str(err.value)
    ticket = take(engine, "b", appointment="Y2611260001")
    assert ticket.appointment == "Y2611260001"
    assert hours(engine)[3] == "appointments"
    clock.set(THURSDAY, 18, 20)  # due: the evening window calls it
    called, _ = engine.call_next(3)
    assert called is not None and called.id == ticket.id


def test_an_appointment_checks_in_before_the_doors_open_but_not_hours_before(engine: QueueEngine, clock: Clock) -> None:
    start = clock.set(MONDAY + dt.timedelta(days=1), 9, 0)
    engine.add_appointment("Y2611240001", "b", start, start + 1800)
    clock.set(MONDAY + dt.timedelta(days=1), 7, 0)
    with pytest.raises(Closed):
        take(engine, "b", appointment="Y2611240001")
    clock.set(MONDAY + dt.timedelta(days=1), 8, 50)  # within appointment_early_minutes of its slot
    assert take(engine, "b", appointment="Y2611240001").appointment == "Y2611240001"


def test_a_closed_window_finishes_the_tickets_taken_before_it_closed(engine: QueueEngine, clock: Clock) -> None:
    clock.set(MONDAY, 17, 20)
    late = take(engine, "b")  # 不动产, window 3 closes at 17:30
    clock.set(MONDAY, 17, 40)
    assert hours(engine)[3] == "finishing"
    assert engine.snapshot("budongchan")["windows_open"] == [3]
    assert engine.position(late)[1] == 0.0  # still an estimate: window 3 will call it
    with pytest.raises(Closed):
        take(engine, "b")
    called, _ = engine.call_next(3)
    assert called is not None and called.id == late.id
    engine.finish(3)
    assert hours(engine)[3] == "closed"  # nothing left from the day: closed


def test_the_domain_with_its_own_hours_stops_walk_ins_first(engine: QueueEngine, clock: Clock) -> None:
    clock.set(MONDAY, 16, 40)
    with pytest.raises(QueueError) as err:
        take(engine, "g")
    assert err.value.code == "appointments_only" and "13:30-16:30" in str(err.value)
    assert take(engine, "s").code == "A001"  # window 1's other domain still takes walk-ins
