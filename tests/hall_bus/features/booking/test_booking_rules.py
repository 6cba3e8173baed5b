"""The slot rules of ``[booking]`` (checked strictly, with the key and the problem named), the slots
they make, and the store's booking staying race-free even across separate database connections."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest

from hall_bus import config as hallconfig
from hall_bus.config import ConfigError
from hall_bus.controller.store import Store
from hall_bus.features.booking import rules
from hall_bus.features.booking.store import BookingError, BookingStore
from tests.helpers import ROOT

CFG = hallconfig.load(ROOT / "hall.toml")
WEEK = ["monday", "tuesday", "wednesday", "thursday", "friday"]


def service(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "service": "budongchan-register",
        "slot_min": 30,
        "capacity": 3,
        "periods": [{"days": WEEK, "times": ["09:00-12:00"]}],
    }
    return {**base, **over}


def problem(section: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as exc:
        rules.parse(section, CFG)
    return f"{exc.value.key}: {exc.value.problem}"


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ({"services": [service(service="nope")]}, "booking.services[0].service: unknown service 'nope'"),
        ({"services": [service(service="zonghe-pickup")]}, "self-service around the clock"),
        ({"services": [service(), service()]}, "booking.services[1].service: 'budongchan-register' has rules twice"),
        ({"services": [service(capacity=0)]}, "booking.services[0].capacity: must be an integer 1..500, got 0"),
        ({"services": [service(capacity="3")]}, "booking.services[0].capacity"),
        ({"days_ahead": 120}, "booking.days_ahead: must be an integer 0..90, got 120"),
        ({"cutof_min": 30}, "booking.cutof_min: unknown key"),
        (
            {"services": [service(periods=[{"days": ["mon"], "times": ["09:00-12:00"]}])]},
            "booking.services[0].periods[0].days[0]: 'mon' is not a day of the week",
        ),
        (
            {"services": [service(periods=[{"days": WEEK, "times": ["09:00-12:10"]}])]},
            "booking.services[0].periods[0].times[0]: 09:00-12:10 is not a whole number of 30-minute slots",
        ),
        (
            {"services": [service(periods=[{"days": WEEK, "times": ["12:00-09:00"]}])]},
            "ends before it starts",
        ),
        (
            {
                "services": [
                    service(
                        periods=[
                            {"days": WEEK, "times": ["09:00-12:00"]},
                            {"days": ["friday"], "times": ["11:30-13:00"], "kind": "extended"},
                        ]
                    )
                ]
            },
            "booking.services[0].periods[1].times: overlaps another period on friday",
        ),
        (
            {"services": [service(periods=[{"days": ["friday"], "times": ["09:00-12:00"], "kind": "saturday"}])]},
            'booking.services[0].periods[0].days: a period of kind "saturday" must have days = ["saturday"]',
        ),
        (
            {"services": [service(periods=[{"days": WEEK, "times": ["09:00-12:00"], "kind": "evening"}])]},
            "booking.services[0].periods[0].kind: 'evening': must be regular|saturday|extended",
        ),
        ({"services": [service(periods=[])]}, "booking.services[0].periods"),
    ],
)
def test_a_wrong_booking_section_names_its_key_and_problem(section: dict[str, Any], says: str) -> None:
    assert says in problem(section)


def test_the_demo_hall_rules_make_saturday_and_evening_slots() -> None:
    settings = rules.from_config(CFG)
    reg = settings.rules("budongchan-register")
    assert reg is not None and reg.days_ahead == 14 and reg.cutoff_min == 60
    thursday = dt.date(2026, 12, 3)
    slots = rules.slots_on(CFG, reg, thursday)
    assert [s.label for s in slots[:2]] == ["09:00-09:30", "09:30-10:00"]
    evening = [s for s in slots if s.kind == "extended"]
    assert [s.label for s in evening] == ["17:30-18:00", "18:00-18:30", "18:30-19:00", "19:00-19:30"]
    assert {s.capacity for s in evening} == {2} and slots[0].capacity == 3
    saturday = rules.slots_on(CFG, reg, dt.date(2026, 12, 5))
    assert {s.kind for s in saturday} == {"saturday"} and len(saturday) == 6
    assert rules.slots_on(CFG, reg, dt.date(2026, 12, 6)) == []  # Sunday
    assert rules.slots_on(CFG, reg, dt.date(2027, 1, 1)) == []  # a holiday
    assert len(rules.slots_on(CFG, reg, dt.date(2026, 10, 10))) == 14  # 调休: Monday's slots on a Saturday
    hukou = settings.rules("gongan-hukou")
    assert hukou is not None and hukou.days_ahead == 7 and hukou.cutoff_min == 30


def test_booking_closes_at_the_cut_off_and_after_days_ahead() -> None:
    reg = rules.from_config(CFG).rules("budongchan-register")
    assert reg is not None
    day = dt.date(2026, 12, 3)
    slot = rules.slots_on(CFG, reg, day)[0]  # 09:00, cut-off 60 min
    assert rules.is_open_for_booking(reg, slot, slot.start - 3600, day, day)
    assert not rules.is_open_for_booking(reg, slot, slot.start - 3599, day, day)
    assert rules.is_open_for_booking(reg, slot, 0, day - dt.timedelta(days=14), day)
    assert not rules.is_open_for_booking(reg, slot, 0, day - dt.timedelta(days=15), day)


def test_the_last_place_goes_once_even_to_twenty_separate_connections(tmp_path: Path) -> None:
    """Without the controller's one-at-a-time dispatch: 20 threads, each on its own SQLite connection
    to the same file, book the last place; exactly one gets it."""
    path = tmp_path / "hall.db"
    Store(path).close()
    reg = rules.from_config(CFG).rules("gongan-hukou")
    assert reg is not None
    slot = rules.slots_on(CFG, reg, dt.date(2026, 12, 3))[0]  # capacity 2
    BookingStore(Store(path), "h", b"k" * 32).book(slot, "13900000000", "web", 5)
    stores = [BookingStore(Store(path), "h", b"k" * 32) for _ in range(20)]
    gate = threading.Barrier(20)

    def race(i: int) -> str:
        gate.wait()
        try:
            stores[i].book(slot, f"1370000{i:04d}", "web", 5)
            return "won"
        except BookingError as exc:
            return exc.code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(race, range(20)))
    assert outcomes.count("won") == 1 and outcomes.count("slot_full") == 19, outcomes
    db = Store(path).db
    assert db.execute("SELECT COUNT(*) FROM bookings WHERE state='booked'").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM appointments").fetchone()[0] == 2
