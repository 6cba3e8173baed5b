"""Queue flows over a real mosquitto: a controller and clients talking through the hall bus."""

from __future__ import annotations

import concurrent.futures
import json
import queue
import threading
import time
import uuid
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.client import BusClient, RequestFailed
from hall_bus.controller.service import HallController


@pytest.fixture
def controller(tmp_hall: Path, bus_factory) -> HallController:
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    yield ctl
    ctl.stop()


def key() -> str:
    return uuid.uuid4().hex[:16]


def issue(client: BusClient, service: str = "shebao-card", **kw) -> dict:
    return client.request("ticket.issue", {"service": service, "idempotency_key": key(), **kw})


def test_issue_call_start_finish_flow_with_events_and_state(
    controller: HallController, bus_factory, hall_id: str
) -> None:
    kiosk = bus_factory("kiosk-1")
    display = bus_factory("display")
    calls: queue.Queue = queue.Queue()
    windows: queue.Queue = queue.Queue()
    display.subscribe(topics.event(hall_id, "call"), lambda t, env: calls.put(env.data))
    display.subscribe(topics.window_state(hall_id, 1), lambda t, env: windows.put(env.data))

    out = issue(kiosk)
    assert out["created"] and out["ticket"]["code"] == "A001"
    assert out["waiting_ahead"] == 0 and out["hall_name"] == controller.config.name
    assert "identity_token" not in out["ticket"]

    terminal = bus_factory("window-1")
    called = terminal.request("window.call", {"window": 1, "staff": "S001"})
    assert called["ticket"]["code"] == "A001"
    event = calls.get(timeout=5)
    assert event["announcement"] == "请 A001 号到 1 号窗口办理" and event["window"] == 1
    assert terminal.request("window.start", {"window": 1})["ticket"]["state"] == "serving"
    assert terminal.request("window.finish", {"window": 1})["ticket"]["state"] == "finished"
    deadline = time.time() + 5
    seen = None
    while time.time() < deadline:
        seen = windows.get(timeout=5)
        if seen["state"] == "idle" and seen["current"] is None:
            break
    assert seen["state"] == "idle"
    terminal.request("window.pause", {"window": 1, "staff": "S001", "reason": "break"})
    audit = bus_factory("manager").request("audit.list", {"limit": 10})["entries"]
    assert any(e["actor"] == "window-1/S001" for e in audit)  # the authenticated client and its clerk


def test_recall_limit_and_no_show_over_bus(controller: HallController, bus_factory) -> None:
    kiosk, terminal = bus_factory("kiosk-1"), bus_factory("window-1")
    issue(kiosk)
    terminal.request("window.call", {"window": 1})
    for _ in range(controller.config.queue.max_recalls):
        assert terminal.request("window.recall", {"window": 1})["call"]["recall"] is True
    with pytest.raises(RequestFailed) as err:
        terminal.request("window.recall", {"window": 1})
    assert err.value.code == "recall_limit"
    assert terminal.request("window.no_show", {"window": 1})["ticket"]["state"] == "no_show"


def test_transfer_over_bus(controller: HallController, bus_factory) -> None:
    kiosk, terminal = bus_factory("kiosk-1"), bus_factory("window-1")
    issue(kiosk)
    terminal.request("window.call", {"window": 1})
    moved = terminal.request("window.transfer", {"window": 1, "to_domain": "yibao"})["ticket"]
    assert moved["domain"] == "yibao" and moved["state"] == "waiting"
    assert bus_factory("window-3").request("window.call", {"window": 3})["ticket"]["code"] == "A001"


def test_windows_list_and_assign_over_bus(controller: HallController, bus_factory) -> None:
    manager = bus_factory("manager")
    windows = manager.request("windows.list", {})["windows"]
    assert [w["number"] for w in windows] == [1, 2, 3, 4, 5, 6]
    out = manager.request(
        "window.assign", {"window": 1, "domains": ["yibao", "shebao"], "actor": "li", "reason": "test"}
    )
    assert out["applied_now"] and out["window"]["domains"] == ["yibao", "shebao"]
    entry = manager.request("audit.list", {"limit": 5})["entries"][0]
    assert entry["action"].startswith("window.assign") and "manager/li" in entry["actor"]
    with pytest.raises(RequestFailed) as err:
        manager.request("window.assign", {"window": 4, "domains": ["shebao"], "actor": "li"})
    assert err.value.code == "skill_mismatch"


def test_retried_request_returns_the_same_ticket(controller: HallController, bus_factory) -> None:
    kiosk = bus_factory("kiosk-1")
    data = {"service": "shebao-card", "idempotency_key": "retry-key-0001"}
    first = kiosk.request("ticket.issue", data)
    second = kiosk.request("ticket.issue", data)  # a new tx, same idempotency key: the kiosk retried after a crash
    assert first["ticket"]["id"] == second["ticket"]["id"]
    assert first["created"] and not second["created"]
    # the same tx sent twice (a network retry) is answered from the dedupe cache
    env = messages.request(
        "ticket.issue",
        {"service": "shebao-card", "idempotency_key": "retry-key-0002"},
        "kiosk-1",
        kiosk.response_topic,
        ttl_s=5,
    )
    answers: queue.Queue = queue.Queue()
    listener = bus_factory("listener")
    listener.subscribe(kiosk.response_topic, lambda t, e: answers.put(e))
    time.sleep(0.2)
    for _ in range(2):
        kiosk.publish_raw(topics.client_request(controller.hall, "kiosk-1", "ticket.issue"), env.to_json())
    a, b = answers.get(timeout=5), answers.get(timeout=5)
    assert a.data["ticket"]["id"] == b.data["ticket"]["id"]
    assert controller.engine.snapshot("shebao")["waiting"] == 2


def test_many_kiosks_at_once_never_duplicate_a_number(controller: HallController, bus_factory) -> None:
    ids = [k.id for k in controller.config.kiosks]
    kiosks = [bus_factory(ids[i % len(ids)]) for i in range(8)]  # several machines may share a kiosk's id
    codes: list[str] = []
    lock = threading.Lock()

    def run(client: BusClient) -> None:
        futures = [
            client.request_async("ticket.issue", {"service": "shebao-card", "idempotency_key": key()})
            for _ in range(40)
        ]
        got = [f.result(15)["ticket"]["code"] for f in futures]
        with lock:
            codes.extend(got)

    with concurrent.futures.ThreadPoolExecutor(len(kiosks)) as pool:
        list(pool.map(run, kiosks))
    assert len(codes) == 320
    assert len(set(codes)) == 320
    assert sorted(codes) == [f"A{n:03d}" for n in range(1, 321)]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"not json at all", None),  # unparseable without reply_to: dropped (logged), nothing to answer
        (
            json.dumps(
                {
                    "v": 1,
                    "kind": "request",
                    "op": "ticket.issue",
                    "tx": "t1",
                    "sender": "kiosk-1",
                    "reply_to": "REPLY",
                    "sent_at": "@NOW@",
                    "expires_at": "@EXP@",
                    "data": {"service": "shebao-card"},
                }
            ).encode(),
            "invalid_data",
        ),
        (
            json.dumps(
                {
                    "v": 1,
                    "kind": "request",
                    "op": "ticket.issue",
                    "tx": "t2",
                    "sender": "kiosk-1",
                    "reply_to": "REPLY",
                    "sent_at": "@NOW@",
                    "expires_at": "@EXP@",
                    "data": {"service": "shebao-card", "idempotency_key": "abcdefgh", "priority": "vip"},
                }
            ).encode(),
            "invalid_data",
        ),
        (
            json.dumps(
                {
                    "v": 99,
                    "kind": "request",
                    "op": "ticket.issue",
                    "tx": "t3",
                    "sender": "kiosk-1",
                    "reply_to": "REPLY",
                    "sent_at": "@NOW@",
                    "expires_at": "@EXP@",
                    "data": {},
                }
            ).encode(),
            "unsupported_version",
        ),
        (
            json.dumps(
                {
                    "v": 1,
                    "kind": "request",
                    "op": "ticket.issue",
                    "tx": "t4",
                    "sender": "kiosk-1",
                    "reply_to": "REPLY",
                    "sent_at": time.time() - 20,
                    "expires_at": time.time() - 10,
                    "data": {"service": "shebao-card", "idempotency_key": "abcdefgh"},
                }
            ).encode(),
            "expired",
        ),
    ],
)
def test_invalid_or_expired_requests_get_error_responses(
    controller: HallController, bus_factory, payload: bytes, code: str | None
) -> None:
    kiosk, listener = bus_factory("kiosk-1"), bus_factory("listener")
    answers: queue.Queue = queue.Queue()
    listener.subscribe(kiosk.response_topic, lambda t, e: answers.put(e))
    time.sleep(0.2)
    payload = payload.replace(b"REPLY", kiosk.response_topic.encode())
    payload = payload.replace(b'"@NOW@"', str(time.time()).encode()).replace(b'"@EXP@"', str(time.time() + 30).encode())
    kiosk.publish_raw(topics.client_request(controller.hall, "kiosk-1", "ticket.issue"), payload)
    if code is None:
        with pytest.raises(queue.Empty):
            answers.get(timeout=1)
    else:
        env = answers.get(timeout=5)
        assert env.data is None or env.status == "error"
        assert env.status == "error" and env.error["code"] == code, env.error
    # the controller is still alive and nothing was issued by the bad messages
    assert kiosk.request("queue.snapshot", {})["domains"][0]["waiting"] == 0


def test_reply_to_must_be_the_senders_own_topic(controller: HallController, bus_factory, hall_id: str) -> None:
    kiosk, victim = bus_factory("kiosk-1"), bus_factory("victim")
    got: queue.Queue = queue.Queue()
    victim.subscribe(topics.hall(hall_id) + "/victim/#", lambda t, e: got.put(e))
    env = messages.request("hall.info", {}, "kiosk-1", topics.hall(hall_id) + "/victim/inbox", ttl_s=5)
    time.sleep(0.2)
    kiosk.publish_raw(topics.client_request(hall_id, "kiosk-1", "hall.info"), env.to_json())
    with pytest.raises(queue.Empty):
        got.get(timeout=1)


def test_retained_state_and_availability(controller: HallController, bus_factory, hall_id: str) -> None:
    late = bus_factory("late-joiner")
    seen: dict[str, object] = {}
    done = threading.Event()

    def on(topic: str, env) -> None:
        seen[topic] = env
        if len(seen) >= 3:
            done.set()

    late.subscribe(topics.hall_state(hall_id), on)
    late.subscribe(topics.queue_state(hall_id, "shebao"), on)
    late.subscribe(topics.client_availability(hall_id, "controller"), on)
    assert done.wait(5), seen.keys()
    assert seen[topics.client_availability(hall_id, "controller")].data is None or True
    assert seen[topics.queue_state(hall_id, "shebao")].data["domain"] == "shebao"
