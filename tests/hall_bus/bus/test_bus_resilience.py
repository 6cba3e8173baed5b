"""The bus survives a broker restart; the embedded broker runs the same flows (smoke subset)."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import tls
from hall_bus.bus.client import BusClient, BusSettings
from hall_bus.controller.service import HallController


def _client(broker, hall: str, client_id: str) -> BusClient:
    tls_dir = getattr(broker, "tls_dir", None)  # the test mosquitto speaks TLS; the embedded broker does not
    ca = str(Path(tls_dir) / tls.CA_CERT) if tls_dir else None
    c = BusClient(
        hall, client_id, BusSettings(host=broker.host, port=broker.port, backoff_max_s=0.5, tls_ca=ca)
    ).start()
    assert c.wait_connected(10), c.last_error
    return c


def test_broker_restart_during_1000_requests_loses_and_duplicates_nothing(fresh_mosquitto, tmp_hall: Path) -> None:
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, _client(fresh_mosquitto, cfg.hall_id, "controller")).start()
    kiosk = _client(fresh_mosquitto, cfg.hall_id, "kiosk-1")
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def stream() -> None:
        window: list[tuple[str, object]] = []
        try:
            for i in range(1000):
                k = f"stream-{i:04d}-{uuid.uuid4().hex[:6]}"
                window.append(
                    (
                        k,
                        kiosk.request_async(
                            "ticket.issue", {"service": "shebao-card", "idempotency_key": k}, timeout=60, retry_s=0.5
                        ),
                    )
                )
                if len(window) >= 20:  # a kiosk fleet keeps about 20 requests in flight
                    k0, f0 = window.pop(0)
                    results[k0] = f0.result(65)["ticket"]["code"]
            for k0, f0 in window:
                results[k0] = f0.result(65)["ticket"]["code"]
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=stream)
    worker.start()
    while len(results) < 300 and worker.is_alive():
        time.sleep(0.01)
    fresh_mosquitto.restart()  # the broker goes away mid-stream and comes back on the same port
    worker.join(120)
    try:
        assert not errors, errors
        assert len(results) == 1000
        codes = list(results.values())
        assert len(set(codes)) == 1000, "a retried request produced a second ticket"
        assert sorted(codes) == sorted(f"A{n:03d}" for n in range(1, 1001))
        count = ctl.store.db.execute("SELECT COUNT(*) FROM tickets WHERE hall=?", (cfg.hall_id,)).fetchone()[0]
        assert count == 1000
        assert kiosk.stats["connects"] >= 2 and ctl.bus.stats["connects"] >= 2  # both really reconnected
    finally:
        kiosk.stop()
        ctl.stop()


@pytest.mark.embedded
def test_embedded_broker_smoke(embedded_broker, tmp_hall: Path) -> None:
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, _client(embedded_broker, cfg.hall_id, "controller")).start()
    kiosk = _client(embedded_broker, cfg.hall_id, "kiosk-1")
    terminal = _client(embedded_broker, cfg.hall_id, "window-1")
    try:
        first = kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": "embedded-0001"})
        again = kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": "embedded-0001"})
        assert first["ticket"]["code"] == again["ticket"]["code"] == "A001"
        assert terminal.request("window.call", {"window": 1})["call"]["announcement"] == "请 A001 号到 1 号窗口办理"
        assert terminal.request("window.finish", {"window": 1})["ticket"]["state"] == "finished"
        assert [w["number"] for w in terminal.request("windows.list", {})["windows"]] == [1, 2, 3, 4, 5, 6]
    finally:
        for c in (kiosk, terminal):
            c.stop()
        ctl.stop()


def test_retained_state_is_republished_after_a_broker_restart(fresh_mosquitto, tmp_hall: Path) -> None:
    """The broker keeps no persistence: after its restart the hall state exists again only because
    the controller republished it on reconnect."""
    import queue

    from hall_bus.bus import topics

    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, _client(fresh_mosquitto, cfg.hall_id, "controller")).start()
    try:
        fresh_mosquitto.restart()
        deadline = time.time() + 10
        while ctl.bus.stats["connects"] < 2 and time.time() < deadline:
            time.sleep(0.05)
        late = _client(fresh_mosquitto, cfg.hall_id, "late")
        got: queue.Queue = queue.Queue()
        late.subscribe(topics.hall_state(cfg.hall_id), lambda t, e: got.put(e))
        late.subscribe(topics.client_availability(cfg.hall_id, "controller"), lambda t, e: got.put(e))
        kinds = {got.get(timeout=5).kind, got.get(timeout=5).kind}
        assert kinds == {"state", "availability"}
        late.stop()
    finally:
        ctl.stop()


def test_requests_are_heard_once_on_their_lane_also_after_a_reconnect(fresh_mosquitto, tmp_hall: Path) -> None:
    """A client's requests reach the controller on that client's lane only: after the broker comes
    back, the main connection must not subscribe to every request as well (each request would be read
    twice, and a flood would queue on the main connection ahead of everything else)."""
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, _client(fresh_mosquitto, cfg.hall_id, "controller")).start()
    kiosk = _client(fresh_mosquitto, cfg.hall_id, "kiosk-1")
    stranger = _client(fresh_mosquitto, cfg.hall_id, "kiosk-99")  # no lane: the hall does not know it
    try:
        fresh_mosquitto.restart()
        assert ctl.bus.wait_connected(10) and kiosk.wait_connected(10)
        deadline = time.monotonic() + 10
        while not ctl.bus.serving() and time.monotonic() < deadline:
            time.sleep(0.05)
        for i in range(20):
            kiosk.request(
                "ticket.issue", {"service": "shebao-card", "idempotency_key": f"heard-once-{i:02d}"}, timeout=10
            )
        with pytest.raises(Exception) as refused:
            stranger.request("hall.info", {}, timeout=1.0)
        assert type(refused.value).__name__ == "BusTimeout"  # not heard at all, not even to be refused
        time.sleep(0.3)
        assert ctl.bus.stats["duplicate_requests"] == 0
        assert ctl.bus.stats["served"] == 20
    finally:
        for c in (kiosk, stranger):
            c.stop()
        ctl.stop()
