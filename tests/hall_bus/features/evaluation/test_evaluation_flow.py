"""好差评 end to end over mosquitto: controller, window host and the pad simulator."""

from __future__ import annotations

import json
import queue
import time
import uuid
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.client import RequestFailed
from hall_bus.controller.service import HallController
from hall_bus.hosts.window_host import WindowHost
from tests.helpers import wait_for


@pytest.fixture
def hall(tmp_hall: Path, bus_factory, hall_id: str):
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    host = WindowHost(cfg, 1, bus_factory("window-1")).start()
    pad = host.pad.port.simulator
    pad.plan = ""  # the test presses
    events: queue.Queue = queue.Queue()
    watcher = bus_factory("manager")
    watcher.subscribe(topics.event(hall_id, "evaluation"), lambda t, e: events.put(e.data))
    time.sleep(0.2)
    yield ctl, host, pad, watcher, events
    host.stop()
    ctl.stop()


def serve_one(watcher, code: str = "A001") -> None:
    watcher.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
    assert watcher.request("window.call", {"window": 1})["ticket"]["code"] == code
    watcher.request("window.start", {"window": 1})
    watcher.request("window.finish", {"window": 1})


def test_finish_asks_the_pad_and_one_press_counts(hall) -> None:
    ctl, host, pad, watcher, events = hall
    serve_one(watcher)
    assert wait_for(lambda: pad.pending_eval is not None)
    assert pad.info == {"window": 1, "staff_no": "S0101", "staff_name": "王芳"}  # from [[staff]]
    pad.double = True  # the citizen presses twice: the second press must not count
    pad.press(1)
    ev = events.get(timeout=5)
    assert (ev["ticket"], ev["level"], ev["channel"], ev["staff_no"]) == ("A001", 1, "pad", "S0101")
    assert "王芳" not in json.dumps(ev, ensure_ascii=False)  # no personal data in the event
    with pytest.raises(queue.Empty):
        events.get(timeout=1)
    got = watcher.request("evaluation.get", {"ticket": "A001"})
    assert got["evaluation"]["level"] == 1 and not got["rateable"]
    out = watcher.request("evaluation.submit", {"ticket": "A001", "level": 5, "reason": "attitude", "channel": "kiosk"})
    assert out["recorded"] is False and out["evaluation"]["level"] == 1  # the pad rated it first


def test_timeout_is_not_evaluated_and_the_kiosk_may_then_rate(hall) -> None:
    ctl, host, pad, watcher, events = hall
    serve_one(watcher)
    assert wait_for(lambda: pad.pending_eval is not None)
    pad.pending_eval = (pad.pending_eval[0], time.monotonic())  # the timeout passes now
    ev = events.get(timeout=5)
    assert ev["level"] is None
    assert watcher.request("evaluation.get", {"ticket": "A001"})["evaluation"]["status"] == "not_evaluated"
    with pytest.raises(RequestFailed) as err:
        watcher.request("evaluation.submit", {"ticket": "A001", "level": 4, "channel": "qr"})
    assert err.value.code == "reason_required"
    out = watcher.request("evaluation.submit", {"ticket": "A001", "level": 4, "reason": "efficiency", "channel": "qr"})
    assert out["recorded"] and out["evaluation"]["channel"] == "qr"
    followups = watcher.request("followup.list", {})["followups"]
    assert [(f["ticket"], f["state"]) for f in followups] == [("A001", "open")]
    f = watcher.request(
        "followup.update", {"id": followups[0]["id"], "state": "visited", "note": "已电话回访", "actor": "li"}
    )
    assert f["followup"]["state"] == "visited" and f["followup"]["history"][0]["note"] == "已电话回访"
    with pytest.raises(RequestFailed) as err:
        watcher.request("followup.update", {"id": followups[0]["id"], "state": "open", "actor": "li"})
    assert err.value.code == "invalid_transition"


def test_duplicate_bus_delivery_counts_once(hall, bus_factory, hall_id: str) -> None:
    ctl, host, pad, watcher, events = hall
    serve_one(watcher)
    assert wait_for(lambda: pad.pending_eval is not None)
    pad.pending_eval = None  # the test speaks for the pad's host: the same event delivered twice
    forged = bus_factory("window-1-replay")
    ticket_id = ctl.engine.ticket("A001").id
    env = messages.event(
        "pad.evaluation",
        "window-1",
        {
            "ticket": "A001",
            "ticket_id": ticket_id,
            "window": 1,
            "level": 2,
            "level_name": "满意",
            "reason": None,
            "timed_out": False,
            "at": time.time(),
        },
    )
    for _ in range(2):
        forged.publish_raw(topics.device_event(hall_id, "window-1-pad", "evaluation"), env.to_json())
    assert events.get(timeout=5)["level"] == 2
    with pytest.raises(queue.Empty):
        events.get(timeout=1)
    assert ctl.features["evaluation"].store.ignored >= 1


def test_unfinished_ticket_cannot_be_rated(hall) -> None:
    ctl, host, pad, watcher, events = hall
    watcher.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
    with pytest.raises(RequestFailed) as err:
        watcher.request("evaluation.submit", {"ticket": "A001", "level": 1})
    assert err.value.code == "not_finished"
