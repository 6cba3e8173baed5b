"""Pickup security over mosquitto: brute-force lockout per kiosk and per code, no bare door commands,
replayed and expired commands refused (also after restarts), append-only audit, one item per compartment."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.client import RequestFailed
from hall_bus.features.pickup.security import hall_secret, locker_auth
from tests.hall_bus.features.pickup.pickup_harness import PickupHall, token_of
from tests.helpers import wait_for

CARD = "11010119480312103X"


class ResponseSpy:
    """Listens on another client's response topic (no ACL in the test broker) and collects responses by tx."""

    def __init__(self, bus_factory, hall_id: str, client_id: str, topic: str | None = None) -> None:
        self.got: dict[str, list] = {}
        self.cond = threading.Condition()
        self.bus = bus_factory(f"spy-{client_id}")
        topic = topic or topics.client_response(hall_id, client_id)
        self.bus.subscribe(topic, self._on)
        for n in range(50):  # the subscription is live once our own probe comes back
            probe = messages.Envelope("response", "spy", time.time(), op="probe", tx=f"probe-{n}", status="ok")
            self.bus.publish_raw(topic, probe.to_json())
            with self.cond:
                if self.cond.wait_for(lambda probe=probe: probe.tx in self.got, 0.2):
                    break

    def _on(self, topic, env) -> None:
        with self.cond:
            self.got.setdefault(env.tx, []).append(env)
            self.cond.notify_all()

    def wait(self, tx: str, n: int = 1, timeout: float = 10.0):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.got.get(tx, [])) >= n, timeout), f"no response #{n} for {tx}"
            return self.got[tx][n - 1]


@pytest.fixture
def hall(tmp_hall, bus_factory):
    h = PickupHall(tmp_hall, bus_factory, more_kiosks=("kiosk-2",)).start()
    yield h
    h.stop()


def fired(hall, comp) -> int:
    return hall.sim.doors[(comp.board, comp.lock)].fired


def test_wrong_codes_lock_out_the_kiosk_but_not_id_cards(tmp_hall, bus_factory):
    hall = PickupHall(tmp_hall, bus_factory, pickup={"lockout_s": 1}).start()
    try:
        d = hall.deposit("SB2026000701")
        wrong = [c for c in ("111111", "222222", "333333", "444444", "555555", "666666") if c != d["code"]]
        for n, code in enumerate(wrong[:4]):
            with pytest.raises(RequestFailed) as exc:
                hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "code", "code": code})
            assert exc.value.code == "wrong_code" and f"{4 - n} attempt" in str(exc.value)
        with pytest.raises(RequestFailed) as exc:
            hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "code", "code": wrong[4]})
        assert exc.value.code == "locked_out"
        with pytest.raises(RequestFailed) as exc:  # even the right code while locked
            hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "code", "code": d["code"]})
        assert exc.value.code == "locked_out"
        s = hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "card", "token": token_of(CARD)})
        assert len(s["items"]) == 1
        assert any(a["action"] == "locked_out" for a in hall.feature.service.audit())

        def unlocked():
            try:
                return hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "code", "code": d["code"]})
            except RequestFailed as e:
                assert e.code == "locked_out"
                return None

        assert wait_for(unlocked, what="lockout to end")["items"][0]["item_id"] == d["item"]["item_id"]
    finally:
        hall.stop()


def test_one_code_tried_from_two_kiosks_is_locked(hall):
    d = hall.deposit("SB2026000702")
    guess = "000000" if d["code"] != "000000" else "999999"
    k2 = hall.bus_factory("kiosk-2")
    for bus, kiosk in ((hall.kiosk, "kiosk-1"),) * 3 + ((k2, "kiosk-2"),) * 2:
        with pytest.raises(RequestFailed):
            bus.request("pickup.identify", {"kiosk": kiosk, "method": "code", "code": guess})
    with pytest.raises(RequestFailed) as exc:
        k2.request("pickup.identify", {"kiosk": "kiosk-2", "method": "code", "code": guess})
    assert exc.value.code == "locked_out" and "code" in str(exc.value)
    s = k2.request(
        "pickup.identify", {"kiosk": "kiosk-2", "method": "code", "code": d["code"]}
    )  # kiosk-2 itself is not locked
    assert s["items"][0]["item_id"] == d["item"]["item_id"]


def test_a_kiosk_cannot_open_a_door_itself(hall):
    d = hall.deposit("SB2026000801")
    comp, h = d["comp"], hall.config.hall_id
    before = fired(hall, comp)
    data = {
        "board": comp.board,
        "lock": comp.lock,
        "reason": "pickup",
        "pickup_id": "op-forged",
        "expires_at": time.time() + 10,
        "auth": "0" * 64,
    }
    with pytest.raises(RequestFailed) as exc:  # as itself: only the controller sends device requests
        hall.kiosk.request("locker.open", data, topic=topics.device_request(h, "lockers-a", "locker.open"))
    assert exc.value.code == "sender_mismatch"
    answers = topics.device_response(h, "lockers-a")
    spy = ResponseSpy(hall.bus_factory, h, "controller", answers)  # claiming to be the controller, without the key
    env = messages.request("locker.open", data, "controller", answers, ttl_s=10)
    hall.kiosk.publish_raw(topics.device_request(h, "lockers-a", "locker.open"), env.to_json())
    assert spy.wait(env.tx).error["code"] == "bad_auth"
    for op, body in (
        ("pickup.deposit.start", {"case_no": "SB2026000801", "size": "S", "actor": "x"}),
        ("pickup.return", {"item_id": d["item"]["item_id"], "actor": "x"}),
    ):
        with pytest.raises(RequestFailed) as exc:
            hall.kiosk.request(op, body)
        assert exc.value.code == "forbidden"
    s = hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "card", "token": token_of(CARD)})
    with pytest.raises(RequestFailed) as exc:  # speaking for another kiosk
        hall.kiosk.request(
            "pickup.open", {"kiosk": "kiosk-2", "session_id": s["session_id"], "item_ids": [d["item"]["item_id"]]}
        )
    assert exc.value.code == "forbidden"
    with pytest.raises(RequestFailed) as exc:  # another kiosk using this kiosk's session
        hall.bus_factory("kiosk-2").request(
            "pickup.open", {"kiosk": "kiosk-2", "session_id": s["session_id"], "item_ids": [d["item"]["item_id"]]}
        )
    assert exc.value.code == "forbidden"
    assert fired(hall, comp) == before and not hall.sim.door_open(comp.board, comp.lock)


def test_replayed_open_gets_its_first_answer_before_and_after_a_restart(hall):
    d = hall.deposit("SB2026000901")
    comp, h = d["comp"], hall.config.hall_id
    s = hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "code", "code": d["code"]})
    spy = ResponseSpy(hall.bus_factory, h, "kiosk-1")
    env = messages.request(
        "pickup.open",
        {"kiosk": "kiosk-1", "session_id": s["session_id"], "item_ids": [d["item"]["item_id"]]},
        "kiosk-1",
        topics.client_response(h, "kiosk-1"),
        ttl_s=120,
    )
    raw = env.to_json()
    before = fired(hall, comp)
    hall.kiosk.publish_raw(topics.client_request(h, "kiosk-1", "pickup.open"), raw)
    first = spy.wait(env.tx)
    assert first.status == "ok"
    wait_for(lambda: hall.sim.door_open(comp.board, comp.lock), what="door open")
    hall.sim.close_door(comp.board, comp.lock)
    wait_for(lambda: hall.item(d["item"]["item_id"])["state"] == "collected", what="collected")
    hall.kiosk.publish_raw(topics.client_request(h, "kiosk-1", "pickup.open"), raw)  # the same bytes again
    assert spy.wait(env.tx, 2).data == first.data  # answered from the bus client's memory, not executed
    assert hall.controller.bus.stats["duplicate_requests"] >= 1
    hall.stop_controller()
    hall.start_controller()
    hall.kiosk.publish_raw(topics.client_request(h, "kiosk-1", "pickup.open"), raw)
    again = spy.wait(env.tx, 3)  # after a restart: the first answer from the store (the kiosk learns it opened)
    assert again.status == "ok" and again.data == first.data
    assert fired(hall, comp) == before + 1


def test_expired_commands_are_refused(hall):
    d = hall.deposit("SB2026001001")
    comp, h = d["comp"], hall.config.hall_id
    s = hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "card", "token": token_of(CARD)})
    spy = ResponseSpy(hall.bus_factory, h, "kiosk-1")
    before = fired(hall, comp)
    env = messages.request(
        "pickup.open",
        {"kiosk": "kiosk-1", "session_id": s["session_id"], "item_ids": [d["item"]["item_id"]]},
        "kiosk-1",
        topics.client_response(h, "kiosk-1"),
        ttl_s=5,
        now=time.time() - 60,
    )
    hall.kiosk.publish_raw(topics.client_request(h, "kiosk-1", "pickup.open"), env.to_json())
    assert spy.wait(env.tx).error["code"] == "expired"
    # straight to the locker host, correctly signed by the hall key, but its own expiry has passed
    answers = topics.device_response(h, "lockers-a")
    cspy = ResponseSpy(hall.bus_factory, h, "controller", answers)
    secret = hall_secret(hall.config.data_dir)
    exp = round(time.time() - 1, 3)
    data = {
        "board": comp.board,
        "lock": comp.lock,
        "reason": "pickup",
        "pickup_id": "op-late",
        "expires_at": exp,
        "auth": locker_auth(secret, h, "lockers-a", comp.board, comp.lock, "op-late", exp),
    }
    env2 = messages.request("locker.open", data, "controller", answers, ttl_s=10)
    hall.kiosk.publish_raw(topics.device_request(h, "lockers-a", "locker.open"), env2.to_json())
    assert cspy.wait(env2.tx).error["code"] == "expired"
    assert fired(hall, comp) == before and hall.item(d["item"]["item_id"])["state"] == "deposited"


def test_locker_host_refuses_a_replay_after_its_restart(hall):
    comp = hall.feature.settings.compartment("D01")
    h = hall.config.hall_id
    answers = topics.device_response(h, "lockers-a")
    cspy = ResponseSpy(hall.bus_factory, h, "controller", answers)
    secret = hall_secret(hall.config.data_dir)
    exp = round(time.time() + 60, 3)
    data = {
        "board": comp.board,
        "lock": comp.lock,
        "reason": "test",
        "pickup_id": "op-replay",
        "expires_at": exp,
        "auth": locker_auth(secret, h, "lockers-a", comp.board, comp.lock, "op-replay", exp),
    }
    env = messages.request("locker.open", data, "controller", answers, ttl_s=60)
    raw = env.to_json()
    topic = topics.device_request(h, "lockers-a", "locker.open")
    hall.kiosk.publish_raw(topic, raw)
    assert cspy.wait(env.tx).data["opened"] is True
    assert fired(hall, comp) == 1
    hall.stop_host()
    hall.start_host()
    hall.kiosk.publish_raw(topic, raw)
    assert cspy.wait(env.tx, 2).error["code"] == "replayed"
    assert fired(hall, comp) == 0  # the new simulator instance never fired


def test_audit_is_append_only_and_compartments_are_never_double_assigned(hall):
    d = hall.deposit("SB2026001101")
    db = hall.controller.store.db
    rows = db.execute("SELECT * FROM pickup_audit WHERE item_id=? ORDER BY id", (d["item"]["item_id"],)).fetchall()
    assert [r["action"] for r in rows] == ["open_requested", "opened", "closed"]
    assert all(r["actor"] == "window-6/S0106" and r["reason"] == "deposit" and r["at"] > 0 for r in rows)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE pickup_audit SET actor='someone' WHERE id=?", (rows[0]["id"],))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM pickup_audit")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO pickup_items (hall, case_no, compartment, size, state, actor, created_at, updated_at)"
            " VALUES (?, 'X', ?, 'S', 'depositing', 't', 0, 0)",
            (hall.config.hall_id, d["comp"].no),
        )


def test_a_kiosk_learns_its_door_opened_when_the_controller_died_before_answering(hall):
    """The controller commits the open and dies before its answer leaves: the kiosk's retry of the same
    transaction, after the restart, gets the first answer (not ``replayed``), and the door fires once."""
    d = hall.deposit("SB2026001201")
    comp, h = d["comp"], hall.config.hall_id
    s = hall.kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "code", "code": d["code"]})
    before = fired(hall, comp)
    ctl_bus = hall.controller.bus
    send = ctl_bus.publish_raw
    answers = topics.client_response(h, "kiosk-1")

    def lost(topic: str, payload: bytes, retain: bool = False) -> None:
        if topic != answers:
            send(topic, payload, retain)  # the answer to the kiosk is lost with the dying controller

    ctl_bus.publish_raw = lost  # type: ignore[method-assign]
    pending = hall.kiosk.request_async(
        "pickup.open",
        {"kiosk": "kiosk-1", "session_id": s["session_id"], "item_ids": [d["item"]["item_id"]]},
        timeout=60,
        retry_s=0.5,
    )
    wait_for(lambda: hall.item(d["item"]["item_id"])["state"] == "collecting", what="open committed")
    hall.stop_controller()
    assert not pending.done()
    hall.start_controller()
    out = pending.result(30)  # the kiosk's own resend, same tx, answered from the store
    assert out["items"][0]["item_id"] == d["item"]["item_id"]
    wait_for(lambda: hall.sim.door_open(comp.board, comp.lock), what="door open")
    assert fired(hall, comp) == before + 1
