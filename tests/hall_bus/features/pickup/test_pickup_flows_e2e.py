"""Pickup journeys end to end over mosquitto: code, QR, several items, door left open, jammed door,
board offline, overdue and return-to-window."""

from __future__ import annotations

import pytest

from tests.hall_bus.features.pickup.pickup_harness import PickupHall, token_of
from tests.helpers import wait_for

CARD = "11010119480312103X"


@pytest.fixture
def hall(tmp_hall, bus_factory):
    h = PickupHall(tmp_hall, bus_factory, pickup={"door_open_alarm_s": 1}).start()
    yield h
    h.stop()


def identify(hall, **kw) -> dict:
    return hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", **kw})


def open_items(hall, session: dict, ids: list[int]) -> dict:
    return hall.kiosk.request("pickup.open", {"kiosk": "kiosk-1", "session_id": session["session_id"], "item_ids": ids})


def collect(hall, d: dict) -> None:
    comp = d["comp"]
    wait_for(lambda: hall.sim.door_open(comp.board, comp.lock), what=f"{comp.no} open")
    hall.sim.close_door(comp.board, comp.lock)
    wait_for(
        lambda: hall.item(d["item"]["item_id"])["state"] == "collected", what=f"item {d['item']['item_id']} collected"
    )


def test_pickup_by_code_is_one_time(hall):
    d = hall.deposit("SB2026000101")
    assert len(d["code"]) == 6 and d["code"].isdigit()
    row = hall.controller.store.db.execute(
        "SELECT code_hash FROM pickup_items WHERE id=?", (d["item"]["item_id"],)
    ).fetchone()
    assert row["code_hash"] != d["code"] and d["code"] not in row["code_hash"]  # only a keyed hash is stored
    s = identify(hall, method="code", code=d["code"])
    assert [i["compartment"]["no"] for i in s["items"]] == [d["comp"].no]
    open_items(hall, s, [d["item"]["item_id"]])
    collect(hall, d)
    with pytest.raises(Exception) as exc:
        identify(hall, method="code", code=d["code"])
    assert exc.value.code == "wrong_code"


def test_pickup_by_qr_and_tampered_qr(hall):
    d = hall.deposit("SB2026000102")
    head, payload, sig = d["qr"].split(".")
    with pytest.raises(Exception) as exc:
        identify(hall, method="qr", qr=f"{head}.{payload}.{sig[:-2]}AA")
    assert exc.value.code == "invalid_qr"
    s = identify(hall, method="qr", qr=d["qr"])
    open_items(hall, s, [d["item"]["item_id"]])
    collect(hall, d)
    with pytest.raises(Exception) as exc:
        identify(hall, method="qr", qr=d["qr"])
    assert exc.value.code == "not_found"  # used


def test_several_items_together_then_in_sequence(hall):
    items = [hall.deposit(f"SB20260002{i:02d}", size=size) for i, size in enumerate(("S", "M", "L", "S"))]
    other = hall.deposit("SB2026000299", id_number="310104195507181282")  # someone else's item
    s = identify(hall, method="card", token=token_of(CARD))
    ids = [i["item_id"] for i in s["items"]]
    assert ids == [d["item"]["item_id"] for d in items] and other["item"]["item_id"] not in ids
    assert {i["compartment"]["size"] for i in s["items"]} == {"S", "M", "L"}
    # the first two together
    open_items(hall, s, ids[:2])
    for d in items[:2]:
        wait_for(lambda d=d: hall.sim.door_open(d["comp"].board, d["comp"].lock), what="both open")
    collect(hall, items[0])
    assert hall.item(ids[1])["phase"] == "awaiting_close"
    collect(hall, items[1])
    # then one after the other in the same session
    for d in items[2:]:
        open_items(hall, s, [d["item"]["item_id"]])
        collect(hall, d)
    assert not hall.sim.door_open(other["comp"].board, other["comp"].lock)
    assert hall.item(other["item"]["item_id"])["state"] == "deposited"
    with pytest.raises(Exception) as exc:
        open_items(hall, s, [other["item"]["item_id"]])
    assert exc.value.code == "forbidden"


def test_door_never_closed_raises_alarm_then_collects(hall):
    d = hall.deposit("SB2026000301")
    s = identify(hall, method="code", code=d["code"])
    open_items(hall, s, [d["item"]["item_id"]])
    wait_for(lambda: "door_left_open" in hall.actions(d["item"]["item_id"]), what="door_left_open alarm")
    item = hall.item(d["item"]["item_id"])
    assert (
        item["state"] == "collecting"
        and item["phase"] == "awaiting_close"
        and item["alarm"]
        and item["door_open_s"] >= 1
    )
    audit = hall.feature.service.audit()
    assert any(a["action"] == "alarm" and a["compartment"] == d["comp"].no for a in audit)
    collect(hall, d)


def test_jammed_door_is_reported_and_item_stays_assigned(hall):
    d = hall.deposit("SB2026000401")
    comp = d["comp"]
    hall.sim.script(comp.board, comp.lock, "jammed")
    s = identify(hall, method="card", token=token_of(CARD))
    open_items(hall, s, [d["item"]["item_id"]])
    wait_for(lambda: "open_failed" in hall.actions(d["item"]["item_id"]), what="open_failed event")
    item = hall.item(d["item"]["item_id"])
    assert item["state"] == "deposited" and "door_jammed" in item["error"]
    listing = hall.staff.request("pickup.list", {})
    assert [f["compartment"] for f in listing["faults"]] == [comp.no]
    assert any(a["action"] == "open_failed" for a in hall.feature.service.audit())
    # the next deposit avoids the faulty compartment; after repair it is used again
    d2 = hall.deposit("SB2026000402")
    assert d2["comp"].no != comp.no
    assert hall.staff.request("pickup.fault.clear", {"compartment": comp.no, "actor": "S0106"})["cleared"]
    hall.sim.script(comp.board, comp.lock, "open_then_close", after_s=60)
    s = identify(hall, method="card", token=token_of(CARD))
    open_items(hall, s, [d["item"]["item_id"]])
    collect(hall, d)


def test_board_offline_and_deposit_into_jammed_compartment(hall):
    hall.sim.script(1, 1, "jammed")  # A01, the first small compartment
    hall.case("SB2026000501")
    item = hall.staff.request("pickup.deposit.start", {"case_no": "SB2026000501", "size": "S", "actor": "S0106"})[
        "item"
    ]
    assert item["compartment"]["no"] == "A01"
    wait_for(lambda: hall.item(item["item_id"])["state"] == "cancelled", what="deposit cancelled")
    d = hall.deposit("SB2026000501")
    assert d["comp"].no == "A02"
    hall.sim.set_offline(d["comp"].board, True)
    s = identify(hall, method="code", code=d["code"])
    open_items(hall, s, [d["item"]["item_id"]])
    wait_for(lambda: hall.item(d["item"]["item_id"])["error"], what="board error reported")
    assert hall.item(d["item"]["item_id"])["state"] == "deposited"
    assert "board_timeout" in hall.item(d["item"]["item_id"])["error"]


def test_overdue_and_return_to_window(hall):
    d = hall.deposit("SB2026000601")
    fresh = hall.deposit("SB2026000602")
    assert hall.staff.request("pickup.overdue", {})["items"] == []
    with hall.controller.store.transaction() as db:  # test setup: the first item was deposited 8 days ago
        db.execute("UPDATE pickup_items SET deposited_at=deposited_at-8*86400 WHERE id=?", (d["item"]["item_id"],))
    overdue = hall.staff.request("pickup.overdue", {})
    assert [i["item_id"] for i in overdue["items"]] == [d["item"]["item_id"]] and overdue["days"] == 7
    assert fresh["item"]["item_id"] not in [i["item_id"] for i in overdue["items"]]
    out = hall.staff.request("pickup.return", {"item_id": d["item"]["item_id"], "actor": "S0106", "reason": "overdue"})
    assert out["item"]["state"] == "returning"
    wait_for(lambda: hall.sim.door_open(d["comp"].board, d["comp"].lock), what="return door open")
    hall.sim.close_door(d["comp"].board, d["comp"].lock)
    wait_for(lambda: hall.item(d["item"]["item_id"])["state"] == "returned", what="returned")
    assert hall.staff.request("case.lookup", {"case_no": "SB2026000601"})["cases"][0]["status"] == "returned"
    with pytest.raises(Exception) as exc:
        identify(hall, method="code", code=d["code"])
    assert exc.value.code == "wrong_code"
    # the compartment is free again
    assert hall.staff.request("pickup.list", {})["free"]["S"] == 11
