"""Deposit, then pickup by ID card token, over mosquitto with the locker simulator."""

from __future__ import annotations

import pytest

from tests.hall_bus.features.pickup.pickup_harness import PickupHall, token_of
from tests.helpers import wait_for


@pytest.fixture
def hall(tmp_hall, bus_factory):
    h = PickupHall(tmp_hall, bus_factory).start()
    yield h
    h.stop()


def test_deposit_then_pickup_by_card(hall):
    d = hall.deposit("SB2026000001")
    comp = d["comp"]
    assert hall.staff.request("case.lookup", {"case_no": "SB2026000001"})["cases"][0]["status"] == "deposited"
    s = hall.kiosk.request(
        "pickup.identify", {"kiosk": "kiosk-1", "method": "card", "token": token_of("11010119480312103X")}
    )
    assert [i["item_id"] for i in s["items"]] == [d["item"]["item_id"]]
    assert "identity_token" not in str(s) and "SB2026000001" not in str(s)
    fired = hall.sim.doors[(comp.board, comp.lock)].fired
    out = hall.kiosk.request(
        "pickup.open", {"kiosk": "kiosk-1", "session_id": s["session_id"], "item_ids": [d["item"]["item_id"]]}
    )
    assert out["items"][0]["state"] == "collecting"
    wait_for(lambda: hall.sim.door_open(comp.board, comp.lock), what="door open for the citizen")
    assert hall.sim.doors[(comp.board, comp.lock)].fired == fired + 1
    hall.sim.close_door(comp.board, comp.lock)
    wait_for(lambda: hall.item(d["item"]["item_id"])["state"] == "collected", what="collected")
    case = hall.staff.request("case.lookup", {"case_no": "SB2026000001"})["cases"][0]
    assert case["status"] == "collected" and case["steps"][-1]["status"] == "collected"
    assert {"deposited", "notified", "opened", "collected"} <= set(hall.actions(d["item"]["item_id"]))
