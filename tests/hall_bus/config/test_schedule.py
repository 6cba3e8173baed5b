"""Schedules per window and domain (延时/错时, hall_bus.config.schedule): which window and domain
serve at a moment, what the hall.toml tables mean for the days they do not name, and the errors."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hall_bus import config as hallconfig
from hall_bus.config import ConfigError, schedule

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = dt.date(2026, 11, 23)
SATURDAY = dt.date(2026, 11, 28)
HALL = (Path(__file__).parents[2] / "fixtures" / "schedule-hall.toml").read_text(encoding="utf-8")


def cfg(text: str = HALL) -> hallconfig.HallConfig:
    return hallconfig.parse(tomllib.loads(text))


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), TZ)


def test_a_window_without_hours_follows_the_hall_and_one_with_hours_keeps_the_days_it_does_not_name() -> None:
    c = cfg()
    w1, w2, _ = c.windows
    assert w1.hours is None and schedule.window_mode(c, w1, at(MONDAY, 12, 30)) == "closed"
    assert schedule.window_mode(c, w2, at(MONDAY, 12, 30)) == "open"  # 午间不间断
    assert schedule.window_mode(c, w2, at(SATURDAY, 10)) == "open"  # the Saturday-morning window
    assert schedule.window_mode(c, w1, at(SATURDAY, 10)) == "closed"
    assert w2.hours is not None and w2.hours.spans_on(dt.date(2026, 12, 6)) == ()  # a Sunday: the hall's
    assert schedule.window_mode(c, w2, at(dt.date(2026, 12, 1), 10)) == "closed"  # a hall holiday closes it too
    assert schedule.window_mode(c, w2, at(dt.date(2026, 11, 29), 12, 30)) == "open"  # 调休 Sunday: Monday's hours


def test_an_evening_window_serves_appointments_only_and_the_domain_says_so() -> None:
    c = cfg()
    w3 = c.windows[2]
    tuesday, thursday = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=3)
    assert schedule.window_mode(c, w3, at(tuesday, 18)) == "appointments"
    assert schedule.window_mode(c, w3, at(tuesday, 17)) == "open"  # walk-in hours win where they overlap
    assert schedule.window_spans(c, w3, tuesday)[1] == ((dt.time(17, 30), dt.time(19, 30)),)
    assert schedule.domain_mode(c, "budongchan", at(thursday, 18)) == "appointments"
    assert schedule.domain_mode(c, "budongchan", at(thursday, 20)) == "closed"
    assert schedule.domain_mode(c, "budongchan", at(MONDAY, 18)) == "closed"
    assert schedule.hall_open(c, at(thursday, 18)) and not schedule.hall_open(c, at(MONDAY, 18))


def test_a_domain_with_its_own_hours_stops_walk_ins_while_its_window_still_serves() -> None:
    c = cfg()
    assert schedule.domain_mode(c, "gongan", at(MONDAY, 16)) == "open"
    assert schedule.domain_mode(c, "gongan", at(MONDAY, 17)) == "appointments"  # window 1 open, 公安 walk-ins over
    walk, appt = schedule.domain_spans(c, "gongan", MONDAY)
    assert schedule.describe(walk) == "09:00-12:00, 13:30-16:30"
    assert schedule.describe(appt) == "16:30-17:30"


def test_a_domain_is_open_where_a_window_serving_it_now_is_open_also_after_a_tidal_move() -> None:
    c = cfg()
    assert schedule.domain_mode(c, "budongchan", at(SATURDAY, 10)) == "closed"
    moved = {2: ["shebao", "budongchan"]}  # window 2 (open on Saturday) now also calls 不动产
    assert schedule.domain_mode(c, "budongchan", at(SATURDAY, 10), moved) == "open"
    walk, _ = schedule.domain_spans(c, "shebao", MONDAY)
    assert schedule.describe(walk) == "09:00-17:30"  # windows 1 and 2 together
    assert schedule.describe(schedule.hall_spans(c, SATURDAY)[0]) == "09:00-12:00"


def test_last_closing_is_the_end_of_the_latest_span_before_now() -> None:
    c = cfg()
    w1 = c.windows[0]
    assert schedule.last_closing(c, w1, at(MONDAY, 8)) is None
    assert schedule.last_closing(c, w1, at(MONDAY, 12, 30)) == at(MONDAY, 12)
    assert schedule.last_closing(c, w1, at(MONDAY, 18)) == at(MONDAY, 17, 30)


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('hours = { weekdays = ["17:00-09:00"] }', "windows[0].hours.weekdays", "ends before it starts"),
        ('hours = { funday = ["09:00-12:00"] }', "windows[0].hours.funday", "unknown key"),
        ('appointment_hours = { monday = "9-12" }', "windows[0].appointment_hours.monday", "span"),
        ('hours = { friday = ["09:00-12:00", "11:00-13:00"] }', "windows[0].hours.friday", "overlap"),
    ],
)
def test_a_bad_table_is_refused_naming_its_key(table: str, key: str, words: str) -> None:
    text = HALL.replace(
        'number = 1\ndomains = ["shebao", "gongan"]', f'number = 1\ndomains = ["shebao", "gongan"]\n{table}'
    )
    with pytest.raises(ConfigError) as err:
        cfg(text)
    assert key in str(err.value) and words in str(err.value)
