"""One wait estimate everywhere, bounded utilisation, and proposals that stay true."""

from __future__ import annotations

import pytest
from conftest import make_load

from hall_bus.features.tidal.policies import PolicyContext, ThresholdPolicy
from hall_bus.features.tidal.proposals import TidalManager
from hall_bus.features.tidal.settings import TidalSettings
from hall_bus.queue.models import QueueError

PROPOSE = TidalSettings(mode="propose", threshold_min=15, hysteresis=5, horizon_min=0, min_dwell_min=0)


def test_ticket_snapshot_load_and_proposal_show_one_number(engine_hall):
    eng = engine_hall.engine
    mgr = TidalManager(engine_hall.config, eng, PROPOSE)
    assert eng.estimator is mgr.model.estimator  # the engine estimates with the learned handling times
    engine_hall.issue("yibao-reimburse", 1)
    eng.call_next(3)
    eng.start(3)
    engine_hall.issue("shebao-card", 20)
    snap = eng.snapshot("shebao")["estimated_wait_min"]
    load = {d["domain"]: d for d in mgr.load_view()["domains"]}
    assert snap == load["shebao"]["expected_wait_min"] and snap > 15
    newcomer = engine_hall.issue("shebao-card", 1)[0]
    assert eng.position(newcomer)[1] == snap  # the kiosk's ticket says what the hall display said
    mgr.evaluate()
    (proposal,) = mgr.proposals()["pending"]
    m = proposal["metrics"]
    fresh = {d["domain"]: d for d in mgr.load_view()["domains"]}
    assert m["wait_before_min"]["shebao"] == fresh["shebao"]["expected_wait_min"]
    assert m["wait_after_min"]["shebao"] < m["wait_before_min"]["shebao"]  # what it expects to change
    assert f"{fresh['shebao']['expected_wait_min']:.0f}分钟" in proposal["reason"]


def test_utilisation_is_busy_time_over_open_time(engine_hall):
    """30 people in a minute on one 公安 window: the offered load is many times the window, the
    utilisation (busy / open time of its windows) stays within [0, 1] with the queue beside it."""
    eng, clock = engine_hall.engine, engine_hall.clock
    mgr = TidalManager(engine_hall.config, eng, PROPOSE)
    engine_hall.issue("gongan-hukou", 30)
    clock.advance(20)
    eng.call_next(5)
    clock.advance(10)
    view = mgr.load_view()
    gongan = next(d for d in view["domains"] if d["domain"] == "gongan")
    assert gongan["offered_load_erlangs"] > 1.5  # what the old "utilisation" (1448 %) was
    assert gongan["utilisation"] == round(10 / 60, 3) and gongan["waiting"] == 29
    w5 = next(w for w in view["windows"] if w["number"] == 5)
    assert w5["utilisation_1h"] == round(10 / 60, 3)
    eng.pause(4, "break")  # a window paused all hour has no utilisation to speak of
    clock.advance(60)
    w4 = next(w for w in mgr.load_view()["windows"] if w["number"] == 4)
    assert w4["utilisation_1h"] == 0.0
    assert all(0.0 <= d["utilisation"] <= 1.0 for d in mgr.load_view()["domains"] if d["utilisation"] is not None)


def test_a_stale_proposal_is_withdrawn_and_the_console_hears_of_it(engine_hall):
    """The 社保 queue is served down to nobody; the arrival rate of the last minutes still projects a
    long wait, but a window for a queue nobody stands in no longer holds."""
    eng, clock = engine_hall.engine, engine_hall.clock
    mgr = TidalManager(engine_hall.config, eng, PROPOSE.replace(horizon_min=30))
    engine_hall.issue("yibao-reimburse", 1)
    eng.call_next(3)
    eng.start(3)
    engine_hall.issue("shebao-card", 12)
    mgr.evaluate()
    assert [p["window"] for p in mgr.proposals()["pending"]] == [3]
    version = mgr.version
    mgr.evaluate()  # asked again under the same load: still one proposal for window 3, not two
    assert [p["window"] for p in mgr.proposals()["pending"]] == [3]
    for _ in range(6):  # windows 1 and 2 work the 社保 queue down (quick cases), within the proposal's 10 min
        for n in (1, 2):
            eng.call_next(n)
        clock.advance(1)
    mgr.evaluate()
    out = mgr.proposals()
    assert out["pending"] == []
    assert out["recent"][0]["state"] == "expired" and "withdrawn" in out["recent"][0]["note"]
    assert mgr.version > version  # the feature republishes the proposals when the version moves
    # accepting it now is refused as stale
    pid = out["recent"][0]["id"]
    assert mgr.proposal(pid)["state"] == "expired"


def test_accept_refuses_a_proposal_that_no_longer_holds(engine_hall):
    eng = engine_hall.engine
    mgr = TidalManager(engine_hall.config, eng, PROPOSE)
    engine_hall.issue("yibao-reimburse", 1)
    eng.call_next(3)
    eng.start(3)
    engine_hall.issue("shebao-card", 12)
    mgr.evaluate()
    (p,) = mgr.proposals()["pending"]
    eng.assign(3, ["yibao", "zonghe"], actor="manager/li")  # meanwhile window 3 was reassigned by hand
    with pytest.raises(QueueError) as err:
        mgr.accept(p["id"], "manager/li")
    assert err.value.code == "proposal_stale"
    assert mgr.proposal(p["id"])["state"] == "expired"


def test_never_more_windows_for_a_domain_than_people_waiting(engine_hall):
    """Three people wait for 社保 with a fast arrival rate: at most three windows are proposed for it."""
    every = ["shebao", "yibao", "zonghe", "budongchan", "gongan", "shuiwu"]
    hall = [(n, [d], every, [d]) for n, d in enumerate(every, start=1)] + [(7, ["zonghe"], every, ["zonghe"])]
    calm = (0, 0.0, 0.0, 8.0)
    load = make_load({"shebao": (3, 90.0, 120.0, 30.0), **{d: calm for d in every[1:]}}, hall, horizon_min=30.0)
    ctx = PolicyContext(engine_hall.config, PROPOSE.replace(max_domains_per_window=4), load.at)
    moves = ThresholdPolicy().plan(load, ctx)
    assert 1 <= sum(1 for m in moves if m.target == "shebao") <= 3
