"""``booking.report`` over the real broker: appointments kept (预约履约) over a range of days, by day,
week, month and service, from bookings in every state: still to come, checked in at the kiosk, a
ticket that ended as a no-show at the window, a slot that passed without a check-in, and cancelled.
The states are the very ones ``booking.list`` shows for a day."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from hall_bus.bus.client import RequestFailed
from hall_bus.controller.service import HallController
from tests.hall_bus.features.booking.booking_harness import local_day

SERVICE = "budongchan-register"


def book(client, slot: dict, phone: str) -> dict:
    return client.request("booking.book", {"service": SERVICE, "slot_start": slot["start"], "phone": phone})


def slots_of(client, day: str) -> list[dict]:
    return client.request("booking.slots", {"service": SERVICE, "date": day})["slots"]


def refused(code: str, fn) -> None:
    with pytest.raises(RequestFailed) as exc:
        fn()
    assert exc.value.code == code, exc.value


def report(client, first: str, last: str, group: str = "day", **more: Any) -> dict:
    return client.request("booking.report", {"from_day": first, "to_day": last, "group": group, **more})


def figures(row: dict) -> tuple:
    return tuple(row[k] for k in ("total", "booked", "checked_in", "no_show", "cancelled", "no_show_rate"))


def seed_kept(ctl: HallController, bus_factory) -> dict[str, Any]:
    """Day 1 (tomorrow): slot A with two check-ins, one of whose tickets ends as a no-show at the
    window; slot B with a booking cancelled and one never checked in. Day 2: two bookings to come.
    The controller's clock is then put just after slot B of day 1. (The hall: ``booking_harness.ALL_DAY``.)"""
    web, kiosk, manager = bus_factory("web"), bus_factory("kiosk-1"), bus_factory("manager")
    today, day1, day2 = local_day(ctl), local_day(ctl, 1), local_day(ctl, 2)
    a, b = slots_of(web, day1)[60:62]  # 10:00-10:10, 10:10-10:20
    c = slots_of(web, day2)[60]
    a1, a2 = book(web, a, "13800000001"), book(web, a, "13800000002")
    b1, b2 = book(web, b, "13800000003"), book(web, b, "13800000004")
    book(web, c, "13800000005")
    book(web, c, "13800000006")
    web.request("booking.cancel", {"code": b1["code"], "phone_last4": "0003"})

    ctl.engine.clock = lambda: a["start"] + 60  # in slot A: both check in at the kiosk
    for code in (a1["code"], a2["code"]):
        issued = kiosk.request(
            "ticket.issue", {"service": SERVICE, "idempotency_key": uuid.uuid4().hex[:16], "appointment": code}
        )
        assert issued["created"]
    window = next(w.number for w in ctl.config.windows if "budongchan" in w.domains)
    called = manager.request("window.call", {"window": window})["ticket"]["code"]
    assert manager.request("window.no_show", {"window": window})["ticket"]["state"] == "no_show"
    ctl.engine.clock = lambda: b["end"] + 1  # slot B is over: b2 never came
    return {"today": today, "day1": day1, "day2": day2, "b2": b2["code"], "called": called}


@pytest.fixture
def kept(booking_hall, bus_factory) -> dict[str, Any]:
    return seed_kept(booking_hall(), bus_factory)


def test_a_range_by_day_counts_each_state_and_the_no_show_rate(kept, bus_factory) -> None:
    manager = bus_factory("manager")
    answer = report(manager, kept["day1"], kept["day2"])
    assert (answer["from_day"], answer["to_day"], answer["group"]) == (kept["day1"], kept["day2"], "day")
    rows = {r["key"]: r for r in answer["rows"]}
    assert list(rows) == [kept["day1"], kept["day2"]]
    # day 1: a1 checked in, a2's ticket a no-show at the window, b2's slot passed, b1 cancelled
    assert figures(rows[kept["day1"]]) == (4, 0, 1, 2, 1, round(2 / 3, 4))
    assert figures(rows[kept["day2"]]) == (2, 2, 0, 0, 0, None)  # still to come: no rate yet
    assert figures(answer["totals"]) == (6, 2, 1, 2, 1, round(2 / 3, 4))
    # the same states as the manager's list of day 1 (one rule for both)
    listed = manager.request("booking.list", {"date": kept["day1"]})
    states = [b["state"] for s in listed["slots"] for b in s["bookings"]]
    assert sorted(states) == ["cancelled", "checked_in", "no_show", "no_show"]
    for state in ("checked_in", "no_show", "cancelled"):
        assert listed["totals"][state] == rows[kept["day1"]][state]
    no_show_ticket = next(
        b for s in listed["slots"] for b in s["bookings"] if b["state"] == "no_show" and b["code"] != kept["b2"]
    )
    assert no_show_ticket["ticket"] == kept["called"]


def test_days_outside_the_range_are_not_counted(kept, bus_factory) -> None:
    web = bus_factory("web")
    only_day2 = report(web, kept["day2"], kept["day2"])
    assert [r["key"] for r in only_day2["rows"]] == [kept["day2"]]
    assert figures(only_day2["totals"]) == (2, 2, 0, 0, 0, None)
    nothing = report(web, kept["today"], kept["today"])
    assert nothing["rows"] == [] and figures(nothing["totals"]) == (0, 0, 0, 0, 0, None)


def test_weeks_months_and_services_fold_the_same_bookings(kept, bus_factory) -> None:
    manager = bus_factory("integrator")  # a provincial platform may read the counts too
    day1, day2 = dt.date.fromisoformat(kept["day1"]), dt.date.fromisoformat(kept["day2"])
    for group, key in (
        ("week", lambda d: f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}"),
        ("month", lambda d: d.isoformat()[:7]),
    ):
        answer = report(manager, kept["day1"], kept["day2"], group)
        assert [r["key"] for r in answer["rows"]] == sorted({key(day1), key(day2)})
        assert all(r["label"]["zh"] and r["label"]["en"] for r in answer["rows"])
        summed = [sum(r[k] for r in answer["rows"]) for k in ("total", "booked", "checked_in", "no_show", "cancelled")]
        assert summed == [6, 2, 1, 2, 1]
        assert figures(answer["totals"]) == (6, 2, 1, 2, 1, round(2 / 3, 4))
    by_service = report(manager, kept["day1"], kept["day2"], "service")
    assert [(r["key"], r["label"]["zh"]) for r in by_service["rows"]] == [(SERVICE, "不动产登记")]
    assert figures(by_service["rows"][0]) == (6, 2, 1, 2, 1, round(2 / 3, 4))


def test_a_service_filter_counts_only_that_service(kept, bus_factory) -> None:
    manager = bus_factory("manager")
    mine = report(manager, kept["day1"], kept["day2"], service=SERVICE)
    assert mine["service"] == SERVICE and figures(mine["totals"]) == (6, 2, 1, 2, 1, round(2 / 3, 4))
    other = report(manager, kept["day1"], kept["day2"], "service", service="shebao-card")
    assert other["rows"] == [] and other["totals"]["total"] == 0
    refused("not_found", lambda: report(manager, kept["day1"], kept["day2"], service="no-such-service"))


def test_bad_ranges_and_groups_are_refused_with_their_codes(booking_hall, bus_factory) -> None:
    booking_hall()
    manager = bus_factory("manager")
    refused("invalid_range", lambda: report(manager, "2026-11-30", "2026-11-01"))
    refused("invalid_range", lambda: report(manager, "2026-02-30", "2026-03-01"))
    refused("range_too_long", lambda: report(manager, "2025-01-01", "2026-01-02"))
    assert report(manager, "2025-01-01", "2026-01-01")["rows"] == []  # 366 days: the longest range
    refused("invalid_data", lambda: report(manager, "2026-11-01", "2026-11-30", "hour"))
    refused("invalid_data", lambda: report(manager, "26-11-01", "2026-11-30"))


def test_a_kiosk_a_window_and_the_display_may_not_read_the_report(booking_hall, bus_factory) -> None:
    ctl = booking_hall()
    today = local_day(ctl)
    for client in ("kiosk-1", "window-1", "display"):
        refused("forbidden", lambda client=client: report(bus_factory(client), today, today))
    for client in ("manager", "web", "integrator"):
        assert report(bus_factory(client), today, today)["totals"]["total"] == 0
