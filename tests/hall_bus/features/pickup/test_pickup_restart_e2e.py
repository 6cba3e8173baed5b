"""Crash safety: the controller stops at each step of deposit and pickup and a new controller on the
same store file resumes - no item lost, no compartment assigned twice, no door opened twice."""

from __future__ import annotations

import pytest

from hall_bus.bus.client import RequestFailed
from tests.hall_bus.features.pickup.pickup_harness import PickupHall, token_of
from tests.helpers import wait_for

CARD = "11010119480312103X"


def active_per_compartment(hall) -> dict:
    rows = hall.controller.store.db.execute(
        "SELECT compartment, COUNT(*) AS n FROM pickup_items WHERE state IN ('depositing','deposited','collecting','returning')"
        " GROUP BY compartment"
    ).fetchall()
    return {r["compartment"]: r["n"] for r in rows}


def identify(hall) -> dict:
    return hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "card", "token": token_of(CARD)})


def open_items(hall, s, ids):
    return hall.kiosk.request("pickup.open", {"kiosk": "kiosk-1", "session_id": s["session_id"], "item_ids": ids})


@pytest.fixture
def hall(tmp_hall, bus_factory):
    h = PickupHall(tmp_hall, bus_factory).start()
    yield h
    h.stop()


def test_restart_while_the_deposit_door_is_open(hall):
    hall.case("SB2026002001")
    item = hall.staff.request("pickup.deposit.start", {"case_no": "SB2026002001", "size": "M", "actor": "S0106"})[
        "item"
    ]
    comp = hall.feature.settings.compartment(item["compartment"]["no"])
    wait_for(lambda: hall.item(item["item_id"])["phase"] == "awaiting_close", what="deposit door open")
    hall.stop_controller()
    hall.sim.close_door(comp.board, comp.lock)  # staff closes the door while the controller is down
    hall.start_controller()
    wait_for(lambda: hall.item(item["item_id"])["state"] == "deposited", what="deposit resumed")
    assert hall.notifier.for_item(item["item_id"]).compartment == comp.no
    # the next deposit of the same size does not get the same compartment
    d2 = hall.deposit("SB2026002002", size="M")
    assert d2["comp"].no != comp.no
    assert set(active_per_compartment(hall).values()) == {1}


def test_restart_after_identify_and_while_the_pickup_door_is_open(hall):
    d = hall.deposit("SB2026002101")
    comp = d["comp"]
    s = identify(hall)
    hall.stop_controller()
    hall.start_controller()
    open_items(hall, s, [d["item"]["item_id"]])  # the session survived
    wait_for(lambda: hall.item(d["item"]["item_id"])["phase"] == "awaiting_close", what="door open")
    hall.stop_controller()
    hall.start_controller()
    assert hall.item(d["item"]["item_id"])["state"] == "collecting"
    hall.sim.close_door(comp.board, comp.lock)
    wait_for(lambda: hall.item(d["item"]["item_id"])["state"] == "collected", what="collected after restart")
    assert hall.sim.doors[(comp.board, comp.lock)].fired == 2  # deposit + pickup, never again on resume
    assert hall.staff.request("case.lookup", {"case_no": "SB2026002101"})["cases"][0]["status"] == "collected"


def test_restart_before_the_open_reached_the_locker_host(tmp_hall, bus_factory):
    hall = PickupHall(tmp_hall, bus_factory, pickup={"open_timeout_s": 1}).start()
    try:
        d = hall.deposit("SB2026002201")
        s = identify(hall)
        hall.stop_host()
        open_items(hall, s, [d["item"]["item_id"]])
        assert hall.item(d["item"]["item_id"])["phase"] == "opening"
        hall.stop_controller()
        hall.start_host()  # the locker host is back (a fresh simulator: the door is shut)
        hall.start_controller()
        comp = d["comp"]
        wait_for(lambda: hall.sim.door_open(comp.board, comp.lock), what="the open sent again on resume")
        hall.sim.close_door(comp.board, comp.lock)
        wait_for(lambda: hall.item(d["item"]["item_id"])["state"] == "collected", what="collected")
        assert hall.sim.doors[(comp.board, comp.lock)].fired == 1
    finally:
        hall.stop()


def test_restart_while_the_lock_is_firing(tmp_hall, bus_factory):
    hall = PickupHall(tmp_hall, bus_factory, sim="fire_ms=1500").start()
    try:
        d = hall.deposit("SB2026002301")
        comp = d["comp"]
        s = identify(hall)
        sent = len(hall.sim.received)
        open_items(hall, s, [d["item"]["item_id"]])
        wait_for(lambda: len(hall.sim.received) > sent, what="the open command on the RS485 line")
        hall.stop_controller()  # dies while the board is still firing the coil
        wait_for(lambda: hall.sim.door_open(comp.board, comp.lock), what="door open")
        hall.start_controller()
        wait_for(
            lambda: hall.item(d["item"]["item_id"])["phase"] == "awaiting_close", what="resumed from the host's record"
        )
        hall.sim.close_door(comp.board, comp.lock)
        wait_for(lambda: hall.item(d["item"]["item_id"])["state"] == "collected", what="collected")
        assert hall.sim.doors[(comp.board, comp.lock)].fired == 2  # deposit + this pickup: never fired twice
    finally:
        hall.stop()


def test_an_old_unconfirmed_open_is_abandoned_not_fired(tmp_hall, bus_factory):
    hall = PickupHall(tmp_hall, bus_factory, pickup={"open_timeout_s": 1, "resume_open_s": 0}).start()
    try:
        d = hall.deposit("SB2026002401")
        s = identify(hall)
        hall.stop_host()
        open_items(hall, s, [d["item"]["item_id"]])
        hall.stop_controller()
        hall.start_host()
        hall.start_controller()
        wait_for(lambda: hall.item(d["item"]["item_id"])["state"] == "deposited", what="open abandoned")
        # the event is published after the commit and reaches the staff client on its own: wait for it too
        wait_for(lambda: "open_abandoned" in hall.actions(d["item"]["item_id"]), what="open_abandoned event")
        assert hall.sim.doors[(d["comp"].board, d["comp"].lock)].fired == 0
        with pytest.raises(RequestFailed) as exc:  # the old session's kiosk may try again: it is a new request
            open_items(hall, {"session_id": "0" * 16}, [d["item"]["item_id"]])
        assert exc.value.code == "no_session"
        s2 = identify(hall)
        open_items(hall, s2, [d["item"]["item_id"]])
        wait_for(lambda: hall.sim.door_open(d["comp"].board, d["comp"].lock), what="opens on a new request")
    finally:
        hall.stop()


class GatewayDown:
    """A notifier whose SMS gateway is unreachable."""

    name = "sms"

    def notify(self, n) -> None:
        raise ConnectionError("SMS gateway unreachable")


def test_a_deposit_never_notified_gets_a_new_code_after_a_restart(hall):
    hall.case("SB2026002501")
    hall.feature.service.notifier = GatewayDown()
    item = hall.staff.request("pickup.deposit.start", {"case_no": "SB2026002501", "size": "S", "actor": "S0106"})[
        "item"
    ]
    comp = hall.feature.settings.compartment(item["compartment"]["no"])
    wait_for(lambda: hall.sim.door_open(comp.board, comp.lock), what="door open")
    hall.sim.close_door(comp.board, comp.lock)
    wait_for(lambda: hall.item(item["item_id"])["state"] == "deposited", what="deposited")
    assert "notified" not in hall.actions(item["item_id"])
    hall.stop_controller()
    hall.start_controller()  # the harness's notifier works again
    n = hall.notifier.for_item(item["item_id"])
    s = hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "code", "code": n.code})
    assert s["items"][0]["item_id"] == item["item_id"]
    out = hall.staff.request("pickup.notify", {"item_id": item["item_id"], "actor": "S0106"})  # staff resends: new code
    assert out["notified"]
    codes = [x.code for x in hall.notifier.sent if x.item_id == item["item_id"]]
    assert len(codes) == 2
    with pytest.raises(RequestFailed) as exc:
        hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "code", "code": codes[0]})
    assert exc.value.code == "wrong_code"
    assert hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "code", "code": codes[1]})["items"]
