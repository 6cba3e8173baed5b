"""Tidal windows end to end over the real mosquitto: retained load and proposals, accept, reject, mode."""

from __future__ import annotations

import threading
import uuid

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.bus.client import RequestFailed
from hall_bus.controller.service import HallController

WAIT_S = 20.0  # generous: the controller evaluates ~2 s after a change


class Retained:
    """Latest retained tidal state per type, with an event per condition."""

    def __init__(self, client, hall: str) -> None:
        self.latest: dict[str, dict] = {}
        self.cond = threading.Condition()
        client.subscribe(topics.state(hall, "tidal") + "/+", self._on)

    def _on(self, topic, env) -> None:
        with self.cond:
            self.latest[env.type] = env.data
            self.cond.notify_all()

    def wait_for(self, type_: str, pred) -> dict:
        with self.cond:
            ok = self.cond.wait_for(lambda: type_ in self.latest and pred(self.latest[type_]), WAIT_S)
            assert ok, f"no {type_} matching the condition; last: {self.latest.get(type_)}"
            return self.latest[type_]


def _start(tmp_hall, bus_factory):
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    manager = bus_factory("manager")
    return cfg, ctl, manager


def _swell_shebao(client, n: int = 20) -> None:
    for _ in range(n):
        client.request(
            "ticket.issue",
            {
                "service": "shebao-card",
                "idempotency_key": uuid.uuid4().hex[:16],
                "priority": "normal",
                "channel": "cli",
            },
        )


@pytest.fixture
def hall(tmp_hall, bus_factory):
    cfg, ctl, manager = _start(tmp_hall, bus_factory)
    yield cfg, ctl, manager, Retained(manager, cfg.hall_id)
    ctl.stop()


def test_load_is_published_retained_and_answers_requests(hall):
    cfg, ctl, manager, retained = hall
    _swell_shebao(manager, 5)
    load = retained.wait_for(
        "tidal.load", lambda d: next(x for x in d["domains"] if x["domain"] == "shebao")["waiting"] == 5
    )
    assert load["mode"] == "propose" and {w["number"] for w in load["windows"]} == {w.number for w in cfg.windows}
    direct = manager.request("tidal.load", {})
    shebao = next(x for x in direct["domains"] if x["domain"] == "shebao")
    assert shebao["waiting"] == 5 and shebao["expected_wait_min"] > 0 and shebao["windows"] == [1, 2]


def test_accept_over_the_bus_moves_the_window_and_is_audited(hall):
    cfg, ctl, manager, retained = hall
    _swell_shebao(manager)
    props = retained.wait_for("tidal.proposals", lambda d: len(d["pending"]) > 0)
    p = props["pending"][0]
    assert p["window"] == 3 and p["to_domains"] == ["yibao", "shebao"]
    assert "社保" in p["reason"] and "expected wait" in p["reason_en"]
    out = manager.request("tidal.accept", {"proposal_id": p["id"], "actor": "li"})
    assert out["proposal"]["state"] == "accepted" and out["proposal"]["decided_by"] == "manager/li"
    assert out["window"]["domains"] == ["yibao", "shebao"]  # window 3 was idle: applied at once
    retained.wait_for(
        "tidal.proposals", lambda d: any(r["id"] == p["id"] and r["state"] == "accepted" for r in d["recent"])
    )
    retained.wait_for(
        "tidal.load", lambda d: next(w for w in d["windows"] if w["number"] == 3)["domains"] == ["yibao", "shebao"]
    )
    entries = manager.request("audit.list", {"limit": 20})["entries"]
    assign = [e for e in entries if e["action"] == "window.assign"]
    assert assign and assign[0]["actor"] == "manager/li" and p["id"] in assign[0]["detail"]["reason"]
    with pytest.raises(RequestFailed) as err:
        manager.request("tidal.accept", {"proposal_id": p["id"], "actor": "li"})
    assert err.value.code == "proposal_closed"
    with pytest.raises(RequestFailed) as err:
        manager.request("tidal.accept", {"proposal_id": "tp-99999", "actor": "li"})
    assert err.value.code == "not_found"
    with pytest.raises(RequestFailed) as err:
        manager.request("tidal.accept", {"proposal_id": "window-3", "actor": "li"})
    assert err.value.code == "invalid_data"


def test_reject_over_the_bus_is_audited_and_not_proposed_again(hall):
    cfg, ctl, manager, retained = hall
    _swell_shebao(manager)
    p = retained.wait_for("tidal.proposals", lambda d: len(d["pending"]) > 0)["pending"][0]
    out = manager.request("tidal.reject", {"proposal_id": p["id"], "actor": "li", "reason": "窗口人员不足"})
    assert out["proposal"]["state"] == "rejected" and out["proposal"]["note"] == "窗口人员不足"
    assert ctl.engine.window(3).domains == ["yibao"]  # nothing moved
    entries = manager.request("audit.list", {"limit": 20})["entries"]
    assert any(e["action"] == "tidal.reject" and e["detail"]["proposal"] == p["id"] for e in entries)
    # the same move is not proposed again while it cools down, however often the policy runs
    mgr = ctl.features["tidal"].manager
    for _ in range(3):
        mgr.evaluate()
    pending = manager.request("tidal.proposals", {})["pending"]
    assert not any(q["window"] == p["window"] and q["to_domains"] == p["to_domains"] for q in pending)


def test_mode_switch_over_the_bus(hall):
    cfg, ctl, manager, retained = hall
    out = manager.request("tidal.mode", {"mode": "auto", "actor": "li"})
    assert out == {"mode": "auto", "previous": "propose"}
    retained.wait_for("tidal.load", lambda d: d["mode"] == "auto")
    _swell_shebao(manager)
    # automatic mode: the controller moves window 3 itself and records an applied proposal
    props = retained.wait_for("tidal.proposals", lambda d: any(r["state"] == "applied" for r in d["recent"]))
    applied = next(r for r in props["recent"] if r["state"] == "applied")
    assert applied["decided_by"] == "tidal/auto" and applied["window"] == 3
    with pytest.raises(RequestFailed) as err:
        manager.request("tidal.mode", {"mode": "sometimes", "actor": "li"})
    assert err.value.code == "invalid_data"
    assert any(e["action"] == "tidal.mode" for e in manager.request("audit.list", {"limit": 50})["entries"])
