"""The controller's monitoring endpoint over a real mosquitto: every metric fed by real traffic, read
back through HTTP and the Prometheus text parser; /healthz; the [monitoring] section."""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hall_bus import config as hallconfig
from hall_bus.bus import envelope, topics
from hall_bus.bus.client import RequestFailed
from hall_bus.config import ConfigError
from hall_bus.controller.service import HallController
from hall_bus.controller.store import Store
from hall_bus.ops.backup import take_backup
from hall_bus.ops.metrics import METRICS
from hall_bus.ops.server import MonitoringError, start_monitoring, store_answers
from hall_bus.ops.settings import backup_settings, monitoring_settings
from tests.helpers import wait_for

MONITORING = """
[monitoring]
enabled = true
port = 0
wait_target_min = 20
wait_targets = { budongchan = 45 }

[backup]
dir = "{backups}"
keep = 3
"""


def with_monitoring(tmp_hall: Path) -> hallconfig.HallConfig:
    extra = MONITORING.replace("{backups}", str(tmp_hall.parent / "backups"))
    tmp_hall.write_text(tmp_hall.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return hallconfig.load(tmp_hall)


@pytest.fixture
def monitored(tmp_hall: Path, bus_factory):
    cfg = with_monitoring(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    mon = start_monitoring(ctl, cfg)
    yield cfg, ctl, mon
    mon.stop()
    ctl.stop()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def scrape(mon) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = get(mon.url + "/metrics")
    assert status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(body.decode())
        for s in fam.samples
    }


def value(samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def issue(client, service: str = "shebao-card") -> dict:
    return client.request("ticket.issue", {"service": service, "idempotency_key": uuid.uuid4().hex[:16]})


def test_metrics_follow_the_hall(monitored, bus_factory, hall_id: str) -> None:
    cfg, ctl, mon = monitored
    assert mon.url.startswith("http://127.0.0.1:")
    before = scrape(mon)
    assert value(before, "hallkit_backup_age_seconds") == float("inf")  # no backup yet
    assert value(before, "hallkit_wait_target_seconds", domain="shebao") == 1200.0
    assert value(before, "hallkit_wait_target_seconds", domain="budongchan") == 2700.0
    assert value(before, "hallkit_device_state", device="lockers-a", state="unknown") == 1.0  # configured, never seen
    assert value(before, "hallkit_bus_connected") == 1.0

    kiosk, window = bus_factory("kiosk-1"), bus_factory("window-1")
    for _ in range(3):
        issue(kiosk)
    issue(kiosk, "yibao-reimburse")
    with pytest.raises(RequestFailed) as refused:
        issue(kiosk, "no-such-service")
    assert refused.value.code == "not_found"
    window.request("window.call", {"window": 1})
    window.request("window.start", {"window": 1})
    window.request("window.finish", {"window": 1})
    kiosk.publish_raw(topics.client_request(hall_id, "kiosk-1", "ticket.issue"), b"not json")
    device = {"id": "kiosk-1-printer", "kind": "printer", "state": "degraded", "detail": "paper low"}
    kiosk.publish_state(topics.device_state(hall_id, "kiosk-1-printer"), "device.state", device)
    take_backup(cfg, backup_settings(cfg).dir, 3)

    def settled():
        s = scrape(mon)
        seen = value(s, "hallkit_device_state", device="kiosk-1-printer", state="degraded") == 1.0
        rejected = value(s, "hallkit_bus_rejected_messages_total", code="invalid_json") == 1.0
        return s if seen and rejected else None

    s = wait_for(settled, what="device state and rejected message in the metrics")
    shebao = cfg.service("shebao-card")
    assert value(s, "hallkit_tickets_issued_total", service="shebao-card") >= 3.0
    assert value(s, "hallkit_waiting_tickets", domain=shebao.domain) >= 2.0
    assert value(s, "hallkit_longest_wait_seconds", domain=shebao.domain) >= 0.0
    assert value(s, "hallkit_wait_seconds_count", domain=shebao.domain) == 1.0
    assert value(s, "hallkit_wait_seconds_bucket", domain=shebao.domain, le="60.0") == 1.0
    assert value(s, "hallkit_request_duration_seconds_count", op="ticket.issue") == 5.0
    assert value(s, "hallkit_requests_total", op="ticket.issue", outcome="ok") == 4.0
    assert value(s, "hallkit_requests_total", op="ticket.issue", outcome="not_found") == 1.0
    assert value(s, "hallkit_requests_total", op="window.finish", outcome="ok") == 1.0
    assert value(s, "hallkit_device_state", device="kiosk-1-printer", state="ready") == 0.0
    assert value(s, "hallkit_client_online", client="kiosk-1") == 1.0
    assert 0.0 <= value(s, "hallkit_backup_age_seconds") < 60.0
    assert value(s, "hallkit_bus_connects_total") >= 1.0
    # a second scrape counts nothing twice
    again = scrape(mon)
    assert value(again, "hallkit_wait_seconds_count", domain=shebao.domain) == 1.0
    assert value(again, "hallkit_tickets_issued_total", service="shebao-card") == value(
        s, "hallkit_tickets_issued_total", service="shebao-card"
    )

    # the catalogue the alert rules are checked against is exactly what the endpoint serves
    _, body = get(mon.url + "/metrics")
    families = text_string_to_metric_families(body.decode())
    served = {f.name + ("_total" if f.type == "counter" else "") for f in families if not f.name.endswith("_created")}
    assert served == set(METRICS)


def test_client_gone_and_device_offline(monitored, bus_factory, hall_id: str) -> None:
    cfg, ctl, mon = monitored
    host = bus_factory("lockers-a")
    offline = envelope.availability("lockers-a", False).to_json()  # as a bridge says when its device closes
    host.publish_raw(topics.device_availability(hall_id, "lockers-a"), offline, retain=True)
    wait_for(lambda: value(scrape(mon), "hallkit_device_available", device="lockers-a") == 0.0, what="device offline")
    assert value(scrape(mon), "hallkit_client_online", client="lockers-a") == 1.0
    host.stop()  # says offline on its way out (its last will says the same when it dies)
    wait_for(lambda: value(scrape(mon), "hallkit_client_online", client="lockers-a") == 0.0, what="client offline")


def test_healthz(monitored) -> None:
    cfg, ctl, mon = monitored
    status, body = get(mon.url + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok", "bus": "connected", "store": "ok"}
    assert get(mon.url + "/nothing")[0] == 404
    ctl.bus.stop()
    status, body = get(mon.url + "/healthz")
    assert status == 503 and json.loads(body)["bus"] == "disconnected"


def test_store_that_does_not_answer(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    assert store_answers(store) == "ok"
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.lock:
            held.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    assert store_answers(store, wait_s=0.05).startswith("busy")  # a request stuck in a transaction
    release.set()
    t.join()
    store.close()
    assert store_answers(store).startswith("error")


def test_monitoring_is_off_unless_enabled(tmp_hall: Path, bus_factory) -> None:
    cfg = hallconfig.load(tmp_hall)
    assert monitoring_settings(cfg).enabled is False
    assert (monitoring_settings(cfg).host, monitoring_settings(cfg).port) == ("127.0.0.1", 9464)
    ctl = HallController(cfg, bus_factory("controller")).start()
    mon = start_monitoring(ctl, cfg)
    assert not mon.running
    mon.stop()
    ctl.stop()


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("[monitoring]\nport = 70000\n", "monitoring.port"),
        ("[monitoring]\nwait_targets = { nowhere = 10 }\n", "monitoring.wait_targets.nowhere"),
        ("[monitoring]\nenable = true\n", "monitoring.enable"),
        ("[backup]\nkeep = 0\n", "backup.keep"),
    ],
)
def test_bad_sections_name_the_key(tmp_hall: Path, table: str, key: str) -> None:
    tmp_hall.write_text(tmp_hall.read_text(encoding="utf-8") + "\n" + table, encoding="utf-8")
    cfg = hallconfig.load(tmp_hall)
    with pytest.raises(ConfigError) as err:
        monitoring_settings(cfg) if table.startswith("[monitoring]") else backup_settings(cfg)
    assert err.value.key == key


def test_stopped_monitoring_leaves_the_controller_as_it_was(monitored, bus_factory) -> None:
    cfg, ctl, mon = monitored
    kiosk = bus_factory("kiosk-1")
    issue(kiosk)
    timed = value(scrape(mon), "hallkit_request_duration_seconds_count", op="ticket.issue")
    assert timed == 1.0
    mon.stop()
    assert not mon.running
    assert issue(kiosk)["created"]  # served by the controller's own dispatch again
    again = start_monitoring(ctl, cfg)
    try:
        assert value(scrape(again), "hallkit_request_duration_seconds_count", op="ticket.issue") is None
        issue(kiosk)
        assert value(scrape(again), "hallkit_request_duration_seconds_count", op="ticket.issue") == 1.0
        assert value(scrape(again), "hallkit_tickets_issued_total", service="shebao-card") == 3.0
    finally:
        again.stop()


def test_a_taken_port_is_a_clear_error(monitored) -> None:
    cfg, ctl, mon = monitored
    taken = dataclasses.replace(cfg, extra={**cfg.extra, "monitoring": {**cfg.extra["monitoring"], "port": mon.port}})
    with pytest.raises(MonitoringError, match=f"cannot listen on 127.0.0.1:{mon.port}"):
        start_monitoring(ctl, taken)
