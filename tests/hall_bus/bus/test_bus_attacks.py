"""The bus as a trust boundary, tried as an attacker holding one kiosk's (or window's) login would.

Each test is an attack from the security issue, and each ends by checking that the controller still
answers a legitimate request and that nothing the attack asked for took effect. The broker here has no
ACL, so these are the controller's own checks (the second of the two); test_bus_acl_attacks.py runs
attacks through a broker with the generated ACL.
"""

from __future__ import annotations

import json
import logging
import queue
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hall_bus import config as hallconfig
from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.client import BusClient, BusSettings, BusTimeout, RequestFailed
from hall_bus.bus.credentials import clients_of
from hall_bus.bus.tls import tls_context
from hall_bus.controller.service import HallController
from tests.helpers import wait_for


@pytest.fixture
def controller(tmp_hall: Path, bus_factory) -> HallController:
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    yield ctl
    ctl.stop()


class Answers:
    """Every response on one client's response topic, by tx (a listener of its own: no ACL here)."""

    def __init__(self, bus_factory, hall_id: str, client_id: str) -> None:
        self.q: dict[str, list] = {}
        self.all: queue.Queue = queue.Queue()
        spy = bus_factory(f"spy-{uuid.uuid4().hex[:6]}")
        spy.subscribe(topics.client_response(hall_id, client_id), self._on)
        time.sleep(0.3)

    def _on(self, topic: str, env) -> None:
        self.q.setdefault(env.tx, []).append(env)
        self.all.put(env)

    def get(self, tx: str, n: int = 1, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.q.get(tx, [])) >= n:
                return self.q[tx][n - 1]
            time.sleep(0.02)
        raise AssertionError(f"no answer #{n} to {tx}")


def forge(
    op: str, data: dict, sender: str, hall_id: str, reply_client: str | None = None, **fields
) -> messages.Envelope:
    env = messages.request(op, data, sender, topics.client_response(hall_id, reply_client or sender), ttl_s=30)
    for k, v in fields.items():
        setattr(env, k, v)
    return env


def still_serves(kiosk: BusClient) -> None:
    out = kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
    assert out["created"]


def test_forged_sender_is_refused_and_opens_nothing(controller: HallController, bus_factory, hall_id: str) -> None:
    kiosk = bus_factory("kiosk-1")
    answers = Answers(bus_factory, hall_id, "kiosk-1")
    victim = Answers(bus_factory, hall_id, "window-6")
    env = forge("window.pause", {"window": 6, "reason": "forged"}, "window-6", hall_id)
    kiosk.publish_raw(topics.client_request(hall_id, "kiosk-1", "window.pause"), env.to_json())
    got = answers.get(env.tx)
    assert got.error["code"] == "sender_mismatch"
    with pytest.raises(AssertionError):
        victim.get(env.tx, timeout=0.5)  # the answer goes to the authenticated client, not the named one
    assert not controller.engine.window(6).paused
    still_serves(kiosk)


@pytest.mark.parametrize(
    ("op", "data"),
    [
        ("window.call", {"window": 1}),
        ("window.assign", {"window": 1, "domains": ["yibao"], "actor": "x"}),
        ("window.pause", {"window": 2, "reason": "x"}),
        ("audit.list", {"limit": 5}),
        ("pickup.return", {"item_id": 1, "actor": "x"}),
        ("tidal.mode", {"mode": "auto", "actor": "x"}),
        ("tidal.mode", {"mode": "no such mode"}),  # refused for the role before the data is even read
        ("followup.list", {}),
    ],
)
def test_a_kiosk_may_not_act_as_staff(controller: HallController, bus_factory, op: str, data: dict) -> None:
    kiosk = bus_factory("kiosk-1")
    kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
    with pytest.raises(RequestFailed) as err:
        kiosk.request(op, data)
    assert err.value.code == "forbidden", err.value
    assert not controller.engine.window(2).paused and controller.engine.window(1).current is None
    assert list(controller.engine.window(1).domains) == list(controller.config.window(1).domains)
    still_serves(kiosk)


def test_window_three_cannot_act_on_window_one(controller: HallController, bus_factory) -> None:
    kiosk, w3 = bus_factory("kiosk-1"), bus_factory("window-3")
    kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
    for op, data in (("window.call", {"window": 1}), ("window.pause", {"window": 1}), ("window.resume", {"window": 1})):
        with pytest.raises(RequestFailed) as err:
            w3.request(op, data)
        assert err.value.code == "forbidden"
    assert controller.engine.window(1).current is None and not controller.engine.window(1).paused
    assert w3.request("window.pause", {"window": 3, "staff": "S003"})["window"]["paused"]
    entry = bus_factory("manager").request("audit.list", {"limit": 1})["entries"][0]
    assert entry["actor"] == "window-3/S003"  # the authenticated client, then the clerk it names


def test_clients_the_hall_does_not_know_are_not_heard(controller: HallController, bus_factory) -> None:
    stranger = bus_factory("kiosk-99")  # its requests are read by no lane (and the ACL would refuse them)
    with pytest.raises(BusTimeout):
        stranger.request("hall.info", {}, timeout=1.0)
    still_serves(bus_factory("kiosk-1"))


def test_replay_after_a_restart_gets_the_first_answer(tmp_hall: Path, bus_factory, hall_id: str) -> None:
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    kiosk, w1 = bus_factory("kiosk-1"), bus_factory("window-1")
    for _ in range(3):
        kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
    answers = Answers(bus_factory, hall_id, "window-1")
    env = forge("window.call", {"window": 1}, "window-1", hall_id)
    raw, topic = env.to_json(), topics.client_request(hall_id, "window-1", "window.call")
    w1.publish_raw(topic, raw)
    first = answers.get(env.tx)
    assert first.data["ticket"]["code"] == "A001"
    ctl.stop()
    ctl = HallController(cfg, bus_factory("controller")).start()
    try:
        assert wait_for(ctl.bus.serving), "the restarted controller never heard its clients"
        w1.publish_raw(topic, raw)  # the same bytes after the restart
        again = answers.get(env.tx, 2)
        assert again.status == "ok" and again.data == first.data
        w = ctl.engine.window(1)
        assert w.current is not None and ctl.engine.ticket("A001").state == "called"  # not finished by a 2nd call
        assert ctl.engine.snapshot("shebao")["waiting"] == 2
    finally:
        ctl.stop()


def test_a_retained_request_is_refused_and_cleared_on_restart(tmp_hall: Path, bus_factory, hall_id: str) -> None:
    cfg = hallconfig.load(tmp_hall)
    manager = bus_factory("manager")
    env = forge("window.pause", {"window": 2, "reason": "retained"}, "manager", hall_id)
    topic = topics.client_request(hall_id, "manager", "window.pause")
    manager.publish_raw(topic, env.to_json(), retain=True)  # before the controller runs: it waits on the broker
    time.sleep(0.3)
    answers = Answers(bus_factory, hall_id, "manager")
    ctl = HallController(cfg, bus_factory("controller")).start()
    try:
        assert answers.get(env.tx).error["code"] == "retained_request"
        assert not ctl.engine.window(2).paused
        late: queue.Queue = queue.Queue()
        bus_factory("late").subscribe(topic, lambda t, e: late.put(e))
        with pytest.raises(queue.Empty):
            late.get(timeout=1)  # cleared from the broker: the next start will not see it
    finally:
        ctl.stop()


@pytest.mark.parametrize(
    ("sent_at", "code"),
    [
        (10_000.0, "clock_skew"),  # seconds from now
        (-3_600.0, "expired"),
        ("NaN", "invalid_json"),
        ("Infinity", "invalid_json"),
        ("1" + "0" * 400, "invalid_envelope"),
        ("true", "invalid_envelope"),
    ],
)
def test_times_from_the_future_or_not_numbers_are_refused(
    controller: HallController, bus_factory, hall_id: str, sent_at, code: str
) -> None:
    kiosk = bus_factory("kiosk-1")
    answers = Answers(bus_factory, hall_id, "kiosk-1")
    tx = uuid.uuid4().hex
    body = {
        "v": 1,
        "kind": "request",
        "op": "ticket.issue",
        "tx": tx,
        "sender": "kiosk-1",
        "reply_to": topics.client_response(hall_id, "kiosk-1"),
        "sent_at": "@S@",
        "expires_at": "@E@",
        "data": {"service": "shebao-card", "idempotency_key": "attack-01"},
    }
    s = sent_at if isinstance(sent_at, str) else repr(time.time() + sent_at)
    e = repr(time.time() + sent_at + 30) if isinstance(sent_at, float) else s
    payload = json.dumps(body).replace('"@S@"', s).replace('"@E@"', e).encode()
    kiosk.publish_raw(topics.client_request(hall_id, "kiosk-1", "ticket.issue"), payload)
    if code == "invalid_json":
        time.sleep(0.5)  # unparseable: nothing to answer (no tx can be read), nothing done
        assert not answers.q.get(tx)
    else:
        assert answers.get(tx).error["code"] == code
    assert controller.engine.snapshot("shebao")["waiting"] == 0
    still_serves(kiosk)


HOSTILE = [
    b'{"v":1,"kind":"request","sent_at":' + b"9" * 400 + b"}",
    b"[" * 50_000,
    b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    b'{"v":true,"kind":"request"}',
    b"\xff\xfe\x00garbage",
    b'{"v":1,"kind":"response","op":"x","tx":"t","sender":"kiosk-1","sent_at":1e999,"status":"ok"}',
]


def test_hostile_payloads_on_every_topic_a_kiosk_may_write(
    controller: HallController, bus_factory, hall_id: str
) -> None:
    kiosk = bus_factory("kiosk-1")
    rules = {r.client_id: r for r in clients_of(controller.config)}
    writable = [t.replace("#", "x") for t in rules["kiosk-1"].write]
    writable += [topics.client_response(hall_id, "controller"), topics.device_response(hall_id, "lockers-a")]
    for topic in writable:
        for payload in HOSTILE:
            kiosk.publish_raw(topic, payload)
    still_serves(kiosk)
    assert controller.bus.stats["loop_errors"] == 0
    assert controller.bus.connected


def test_a_flood_of_distinct_junk_requests(
    controller: HallController, bus_factory, hall_id: str, caplog, mosquitto, tls_ca: str
) -> None:
    honest = bus_factory("manager")  # another client: a flood queues on the flooder's own lane only
    topic = topics.client_request(hall_id, "kiosk-1", "ticket.issue")
    caplog.set_level(logging.WARNING, logger="hall_bus.bus.rejects")
    now = time.time()
    junk = []
    for i in range(100_000):
        env = messages.request(
            "ticket.issue", {"service": "nope"}, "kiosk-1", topics.client_response(hall_id, "kiosk-1"), 30, f"j{i}", now
        )
        junk.append(env.to_json() if i % 2 else b"not json %d" % i)
    flood(mosquitto, tls_ca, topic, junk)
    started = time.monotonic()
    still_serves(honest)
    assert time.monotonic() - started < 30
    assert controller.bus.dedupe_entries <= controller.bus.settings.dedupe_max
    lines = [r for r in caplog.records if r.name == "hall_bus.bus.rejects"]
    assert len(lines) < 20, len(lines)  # one line per sender and interval, not one per message
    assert controller.engine.snapshot("shebao")["waiting"] == 1


def flood(broker, ca: str, topic: str, payloads: list[bytes]) -> None:
    """An attacker's own MQTT client (not HallKit's): QoS 0, as fast as the socket takes them."""
    attacker = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"attacker-{uuid.uuid4().hex[:6]}")
    attacker.tls_set_context(tls_context(BusSettings(tls_ca=ca)))
    attacker.connect(broker.host, broker.port)
    attacker.loop_start()
    try:
        for p in payloads:
            attacker.publish(topic, p, qos=0)
        attacker.publish(topic, b"last", qos=1).wait_for_publish(60)
    finally:
        attacker.loop_stop()
        attacker.disconnect()


def test_tickets_past_9999_and_a_daily_cap(controller: HallController, bus_factory) -> None:
    kiosk = bus_factory("kiosk-1")
    engine = controller.engine
    day = engine.today()
    with controller.store.transaction() as db:  # a busy day: 9999 tickets already issued with prefix A
        db.execute(
            "INSERT INTO tickets (hall, day, prefix, number, code, service, domain, issued_at, state) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (controller.hall, day, "A", 9999, "A9999", "shebao-card", "shebao", time.time(), "finished"),
        )
    out = kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": "past-9999"})
    assert out["ticket"]["code"] == "A10000"
    with controller.store.transaction() as db:
        db.execute("UPDATE tickets SET number=99999, code='A99999' WHERE code='A10000'")
    with pytest.raises(RequestFailed) as err:
        kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": "past-99999"})
    assert err.value.code == "sold_out"
    assert [t.code for t in engine.waiting("shebao")] == ["A99999"]  # no phantom waiting ticket


def test_hall_toml_daily_cap_answers_sold_out(tmp_hall: Path, bus_factory) -> None:
    text = tmp_hall.read_text(encoding="utf-8").replace('prefix = "A"', 'prefix = "A"\ndaily_cap = 2', 1)
    tmp_hall.write_text(text, encoding="utf-8")
    cfg = hallconfig.load(tmp_hall)
    service = next(s for s in cfg.services if s.prefix == "A")
    assert service.daily_cap == 2
    ctl = HallController(cfg, bus_factory("controller")).start()
    try:
        kiosk = bus_factory("kiosk-1")
        for i in range(2):
            kiosk.request("ticket.issue", {"service": service.id, "idempotency_key": f"cap-{i:04d}"})
        with pytest.raises(RequestFailed) as err:
            kiosk.request("ticket.issue", {"service": service.id, "idempotency_key": "cap-0002"})
        assert err.value.code == "sold_out" and "2" in str(err.value)
        assert ctl.engine.snapshot(service.domain)["waiting"] == 2
    finally:
        ctl.stop()


def test_an_answer_that_breaks_its_contract_leaves_no_phantom_ticket(
    controller: HallController, bus_factory, monkeypatch
) -> None:
    kiosk = bus_factory("kiosk-1")
    real = controller.ops["ticket.issue"]
    monkeypatch.setitem(controller.ops, "ticket.issue", lambda env: {**real(env).model_dump(), "ticket": "broken"})
    with pytest.raises(RequestFailed) as err:
        kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": "phantom-1"})
    assert err.value.code == "internal"
    assert controller.engine.snapshot("shebao")["waiting"] == 0  # the insert was rolled back with the answer
