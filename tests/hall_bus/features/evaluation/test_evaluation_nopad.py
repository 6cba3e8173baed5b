"""Pads that cannot rate: a window without a pad, a host that refuses, a pad that never reports.

In every case the ticket ends up "not evaluated" (never a default good) or stays unrated, and the
kiosk or the QR code can still rate it once.
"""

from __future__ import annotations

import dataclasses
import queue
import socket
import time
import uuid
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.bus.client import RequestFailed, ServiceError
from hall_bus.controller.service import HallController
from hall_bus.features.evaluation import feature as feature_evaluation
from hall_bus.hosts.window_host import WindowHost
from tests.helpers import wait_for


@pytest.fixture
def clock():
    return [time.time()]


def start(cfg, bus_factory, clock) -> tuple[HallController, object, queue.Queue]:
    ctl = HallController(cfg, bus_factory("controller"), clock=lambda: clock[0]).start()
    manager = bus_factory("manager")
    events: queue.Queue = queue.Queue()
    manager.subscribe(topics.event(cfg.hall_id, "evaluation"), lambda t, e: events.put(e.data))
    time.sleep(0.2)
    return ctl, manager, events


def serve(manager, window: int, service: str) -> str:
    code = manager.request("ticket.issue", {"service": service, "idempotency_key": uuid.uuid4().hex[:16]})["ticket"][
        "code"
    ]
    assert manager.request("window.call", {"window": window})["ticket"]["code"] == code
    manager.request("window.start", {"window": window})
    manager.request("window.finish", {"window": window})
    return code


def test_window_without_a_pad_leaves_the_ticket_for_the_kiosk(tmp_hall: Path, bus_factory, clock) -> None:
    cfg = hallconfig.load(tmp_hall)
    cfg = dataclasses.replace(cfg, devices=tuple(d for d in cfg.devices if d.id != "window-6-pad"))
    ctl, manager, events = start(cfg, bus_factory, clock)
    try:
        code = serve(manager, 6, "shuiwu-invoice")
        got = manager.request("evaluation.get", {"ticket": code})
        assert got["evaluation"]["status"] == "none" and got["rateable"]
        out = manager.request("evaluation.submit", {"ticket": code, "level": 2, "channel": "qr"})
        assert out["recorded"] and out["evaluation"]["channel"] == "qr"
        ev = events.get(timeout=5)
        assert (ev["ticket"], ev["window"], ev["staff_no"], ev["channel"], ev["level"]) == (code, 6, "S0106", "qr", 2)
        assert set(ev) == {"ticket", "window", "staff_no", "service", "domain", "channel", "level", "reason", "at"}
        assert "吴婷" not in repr(ev)  # the clerk's name stays off the public event
        again = manager.request(
            "evaluation.submit", {"ticket": code, "level": 5, "reason": "other", "channel": "kiosk"}
        )
        assert again["recorded"] is False and again["evaluation"]["level"] == 2
        with pytest.raises(queue.Empty):
            events.get(timeout=0.5)
    finally:
        ctl.stop()


def test_host_that_refuses_the_pad_request_gives_not_evaluated(
    tmp_hall: Path, bus_factory, clock, hall_id: str
) -> None:
    cfg = hallconfig.load(tmp_hall)
    ctl, manager, events = start(cfg, bus_factory, clock)
    # Test double for a window host whose pad is out of order (the real host would accept; see the next test).
    host = bus_factory("window-1")

    def refuse(env):
        raise ServiceError("pad_offline", "the pad of window 1 is unplugged")

    host.serve(topics.device_request(hall_id, "window-1-pad", "pad.evaluate"), refuse)
    time.sleep(0.2)
    try:
        code = serve(manager, 1, "shebao-card")
        ev = events.get(timeout=5)
        assert (ev["ticket"], ev["level"], ev["channel"]) == (code, None, "pad")
        got = manager.request("evaluation.get", {"ticket": code})
        assert got["evaluation"]["status"] == "not_evaluated" and got["rateable"]
        assert manager.request("evaluation.submit", {"ticket": code, "level": 3, "channel": "kiosk"})["recorded"]
    finally:
        ctl.stop()


@pytest.fixture
def silent_port():
    """A serial server (socket://) whose pad is switched off: the port opens, nothing ever answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    yield server.getsockname()[1]
    server.close()


def test_pad_that_never_reports_is_swept_to_not_evaluated(tmp_hall: Path, bus_factory, clock) -> None:
    text = tmp_hall.read_text(encoding="utf-8")
    text = text.replace(
        'url = "sim://pad?address=1&press=random&after=3"', 'url = "sim://pad?address=1"', 1
    )  # nobody presses
    tmp_hall.write_text(text, encoding="utf-8")
    cfg = hallconfig.load(tmp_hall)
    ctl, manager, events = start(cfg, bus_factory, clock)
    host = WindowHost(cfg, 1, bus_factory("window-1")).start()  # the real host: it accepts the request ...
    time.sleep(0.2)
    feature = ctl.features["evaluation"]
    try:
        code = serve(manager, 1, "shebao-card")
        assert wait_for(lambda: host.pending_evals)  # ... hands it to the pad ...
        host.stop()  # ... and then the window terminal goes away: nobody will ever report this rating
        assert manager.request("evaluation.get", {"ticket": code})["evaluation"]["status"] == "pending"
        clock[0] += feature.settings.timeout_s + feature_evaluation.GRACE_S - 1
        assert feature.sweep() == 0  # the pad still has time to report its own timeout
        clock[0] += 2
        assert feature.sweep() == 1
        ev = events.get(timeout=5)
        assert (ev["ticket"], ev["level"], ev["channel"]) == (code, None, "pad")
        assert feature.sweep() == 0
        with pytest.raises(queue.Empty):
            events.get(timeout=0.5)
        got = manager.request("evaluation.get", {"ticket": code})
        assert got["evaluation"]["status"] == "not_evaluated" and got["rateable"]
        with pytest.raises(RequestFailed) as err:
            manager.request("evaluation.submit", {"ticket": code, "level": 5, "channel": "kiosk"})
        assert err.value.code == "reason_required"
        assert manager.request(
            "evaluation.submit", {"ticket": code, "level": 5, "reason": "process", "channel": "kiosk"}
        )["recorded"]
        assert [f["ticket"] for f in manager.request("followup.list", {})["followups"]] == [code]
    finally:
        host.stop()
        ctl.stop()


def test_pending_evaluation_survives_a_controller_restart(tmp_hall: Path, bus_factory, clock) -> None:
    cfg = hallconfig.load(tmp_hall)
    ctl, manager, events = start(cfg, bus_factory, clock)
    code = serve(manager, 1, "shebao-card")  # nobody serves window 1's pad: the request is still open ...
    ctl.stop()  # ... when the controller stops: that is not the pad's fault, the evaluation stays pending
    ctl = HallController(cfg, bus_factory("controller"), clock=lambda: clock[0]).start()
    try:
        time.sleep(0.2)
        assert manager.request("evaluation.get", {"ticket": code})["evaluation"]["status"] == "pending"
        clock[0] += 3600
        assert ctl.features["evaluation"].sweep() == 1  # the restarted controller closes it
        ev = events.get(timeout=5)
        assert (ev["ticket"], ev["level"]) == (code, None)
        with pytest.raises(queue.Empty):
            events.get(timeout=0.5)
    finally:
        ctl.stop()


def test_switched_off_pad_is_refused_at_once_and_not_evaluated(
    tmp_hall: Path, bus_factory, clock, silent_port: int
) -> None:
    text = tmp_hall.read_text(encoding="utf-8")
    text = text.replace(
        'url = "sim://pad?address=1&press=random&after=3"', f'url = "socket://127.0.0.1:{silent_port}"', 1
    )
    tmp_hall.write_text(text, encoding="utf-8")
    cfg = hallconfig.load(tmp_hall)
    ctl, manager, events = start(cfg, bus_factory, clock)
    host = WindowHost(cfg, 1, bus_factory("window-1")).start()  # its pad never answered its probe: offline
    time.sleep(0.2)
    try:
        assert host.pad.state.value == "offline"
        code = serve(manager, 1, "shebao-card")
        ev = events.get(timeout=5)  # no waiting for a timeout or a sweep
        assert (ev["ticket"], ev["level"]) == (code, None)
        assert manager.request("evaluation.get", {"ticket": code})["evaluation"]["status"] == "not_evaluated"
    finally:
        host.stop()
        ctl.stop()
