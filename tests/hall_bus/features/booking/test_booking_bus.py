"""Appointments over the real broker: slots, booking, cancelling, the list, the kiosk's check-in, and
20 clients racing for the last place of a slot."""

from __future__ import annotations

import concurrent.futures
import threading
import uuid

import pytest

from hall_bus.bus.client import RequestFailed
from tests.hall_bus.features.booking.booking_harness import ALL_DAY, local_day

PHONE = "13812345678"


def first_open(client, day: str, service: str = "budongchan-register") -> dict:
    answer = client.request("booking.slots", {"service": service, "date": day})
    return next(s for s in answer["slots"] if s["open"] and s["free"] > 0)


def book(client, slot: dict, phone: str = PHONE) -> dict:
    return client.request(
        "booking.book", {"service": "budongchan-register", "slot_start": slot["start"], "phone": phone}, timeout=10.0
    )


def refused(code: str, fn) -> None:
    with pytest.raises(RequestFailed) as exc:
        fn()
    assert exc.value.code == code, exc.value


def test_slots_count_free_places_and_a_full_slot_refuses_with_slot_full(booking_hall, bus_factory) -> None:
    ctl = booking_hall()
    web = bus_factory("web")
    day = local_day(ctl, 1)
    answer = web.request("booking.slots", {"service": "budongchan-register", "date": day})
    assert len(answer["slots"]) == 144 and answer["slots"][0]["label"] == "00:00-00:10"
    assert answer["slots"][-1]["label"] == "23:50-24:00"
    assert answer["days"] == [local_day(ctl, i) for i in range(4)]
    slot = answer["slots"][60]
    assert (slot["capacity"], slot["booked"], slot["free"], slot["open"]) == (2, 0, 2, True)
    first = book(web, slot)
    assert first["code"].startswith("YY") and len(first["code"]) == 8
    assert first["phone_masked"] == "138****5678" and PHONE not in str(first)
    assert first["free"] == 1 and first["date"] == day and first["label"] == slot["label"]
    book(web, slot, "13900001111")
    again = web.request("booking.slots", {"service": "budongchan-register", "date": day})["slots"][60]
    assert (again["booked"], again["free"]) == (2, 0)
    refused("slot_full", lambda: book(web, slot, "13700002222"))
    # the phone number is stored as a keyed hash and masked, never in the clear
    dump = "\n".join(ctl.store.db.iterdump())
    assert PHONE not in dump and "138****5678" in dump


def test_rules_refuse_what_cannot_be_booked(booking_hall, bus_factory) -> None:
    ctl = booking_hall()
    web = bus_factory("manager")
    refused("not_bookable", lambda: web.request("booking.slots", {"service": "shebao-card", "date": local_day(ctl)}))
    too_far = web.request("booking.slots", {"service": "budongchan-register", "date": local_day(ctl, 4)})
    assert too_far["slots"] and not any(s["open"] for s in too_far["slots"])
    refused("slot_closed", lambda: book(web, too_far["slots"][50]))
    past = web.request("booking.slots", {"service": "budongchan-register", "date": local_day(ctl, -1)})["slots"][0]
    refused("slot_closed", lambda: book(web, past))
    slot = first_open(web, local_day(ctl, 1))
    refused("slot_closed", lambda: book(web, {**slot, "start": slot["start"] + 60}))  # not a slot's start
    refused("invalid_phone", lambda: book(web, slot, "12345678901"))
    refused(
        "forbidden",
        lambda: bus_factory("kiosk-1").request(
            "booking.book", {"service": "budongchan-register", "slot_start": slot["start"], "phone": PHONE}
        ),
    )


def test_one_phone_holds_at_most_max_per_phone_bookings(booking_hall, bus_factory) -> None:
    ctl = booking_hall({**ALL_DAY, "max_per_phone": 2})
    web = bus_factory("web")
    slots = web.request("booking.slots", {"service": "budongchan-register", "date": local_day(ctl, 1)})["slots"]
    book(web, slots[10])
    refused("booking_limit", lambda: book(web, slots[10]))  # the same slot twice
    book(web, slots[11])
    refused("booking_limit", lambda: book(web, slots[12]))
    book(web, slots[12], "13900001111")


def test_cancel_with_last_digits_or_token_frees_the_place_and_wrong_tries_lock(booking_hall, bus_factory) -> None:
    ctl = booking_hall()
    web = bus_factory("web")
    slot = first_open(web, local_day(ctl, 2))
    a = book(web, slot)
    b = book(web, slot, "13900001111")
    refused("cancel_denied", lambda: web.request("booking.cancel", {"code": a["code"], "phone_last4": "0000"}))
    done = web.request("booking.cancel", {"code": a["code"], "phone_last4": "5678"})
    assert done["code"] == a["code"]
    refused("booking_cancelled", lambda: web.request("booking.cancel", {"code": a["code"], "phone_last4": "5678"}))
    refused("not_found", lambda: web.request("appointment.lookup", {"code": a["code"]}))
    web.request("booking.cancel", {"code": b["code"], "cancel_token": b["cancel_token"]})
    free = web.request("booking.slots", {"service": "budongchan-register", "date": local_day(ctl, 2)})
    assert next(s for s in free["slots"] if s["start"] == slot["start"])["free"] == 2
    c = book(web, slot)
    for _ in range(5):  # each wrong answer is counted although it is refused
        refused("cancel_denied", lambda: web.request("booking.cancel", {"code": c["code"], "phone_last4": "1111"}))
    refused("cancel_locked", lambda: web.request("booking.cancel", {"code": c["code"], "phone_last4": "5678"}))


def test_the_kiosk_checks_in_a_booking_and_the_list_counts_check_ins(booking_hall, bus_factory) -> None:
    ctl = booking_hall()
    web, kiosk, manager = bus_factory("web"), bus_factory("kiosk-1"), bus_factory("manager")
    today = local_day(ctl)
    slot = first_open(web, today)
    mine = book(web, slot)
    other = book(web, slot, "13900001111")
    found = kiosk.request("appointment.lookup", {"code": mine["code"]})
    assert found["service"] == "budongchan-register" and found["slot_start"] == slot["start"]
    assert found["checked_in"] is False
    issued = kiosk.request(
        "ticket.issue",
        {"service": "budongchan-register", "idempotency_key": uuid.uuid4().hex[:16], "appointment": mine["code"]},
    )
    assert issued["ticket"]["service"] == "budongchan-register" and issued["created"]
    assert kiosk.request("appointment.lookup", {"code": mine["code"]})["checked_in"] is True
    refused("appointment_used", lambda: web.request("booking.cancel", {"code": mine["code"], "phone_last4": "5678"}))
    listed = manager.request("booking.list", {"date": today})
    group = next(g for g in listed["slots"] if g["start"] == slot["start"])
    assert (group["booked"], group["checked_in"], group["no_show"]) == (2, 1, 0)
    states = {b["code"]: b["state"] for b in group["bookings"]}
    assert states == {mine["code"]: "checked_in", other["code"]: "booked"}
    assert all(b["phone_masked"].startswith("1") and "****" in b["phone_masked"] for b in group["bookings"])
    assert listed["totals"]["checked_in"] == 1
    refused("forbidden", lambda: kiosk.request("booking.list", {"date": today}))


def test_a_booking_whose_slot_ended_without_check_in_is_a_no_show(booking_hall, bus_factory) -> None:
    ctl = booking_hall()
    web = bus_factory("web")
    slot = first_open(web, local_day(ctl, 1))
    mine = book(web, slot)
    ctl.engine.clock = lambda: slot["end"] + 1  # the slot is over
    day_after = web.request("booking.list", {"date": mine["date"]})
    group = next(g for g in day_after["slots"] if g["start"] == slot["start"])
    assert (group["booked"], group["no_show"]) == (1, 1) and day_after["totals"]["no_show"] == 1


def test_twenty_clients_racing_for_the_last_place_exactly_one_wins(booking_hall, bus_factory) -> None:
    ctl = booking_hall()
    web = bus_factory("web")
    slot = first_open(web, local_day(ctl, 1))
    book(web, slot, "13900000000")  # one of the two places taken: one left
    clients = [bus_factory(("web", "manager")[i % 2]) for i in range(20)]  # 20 connections, two roles
    start = threading.Barrier(20)

    def race(i: int) -> str:
        start.wait()
        try:
            book(clients[i], slot, f"1370000{i:04d}")
            return "won"
        except RequestFailed as exc:
            return exc.code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(race, range(20)))
    assert outcomes.count("won") == 1 and outcomes.count("slot_full") == 19, outcomes
    rows = ctl.store.db.execute(
        "SELECT COUNT(*) FROM bookings WHERE slot_start=? AND state='booked'", (slot["start"],)
    ).fetchone()[0]
    appts = ctl.store.db.execute("SELECT COUNT(*) FROM appointments WHERE slot_start=?", (slot["start"],)).fetchone()[0]
    assert rows == appts == 2
