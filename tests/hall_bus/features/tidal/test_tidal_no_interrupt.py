"""A tidal reassignment never interrupts a ticket in service: it waits until the window's ticket ends."""

from __future__ import annotations

from hall_bus.features.tidal.proposals import TidalManager
from hall_bus.features.tidal.settings import TidalSettings
from simulators.hall_traffic import HallDay
from simulators.traffic_scenario import load_scenario
from tests.helpers import ROOT


def test_accepted_proposal_waits_for_the_ticket_in_service(engine_hall):
    eng, clock = engine_hall.engine, engine_hall.clock
    mgr = TidalManager(
        engine_hall.config, eng, TidalSettings(mode="propose", threshold_min=15, hysteresis=5, horizon_min=0)
    )
    engine_hall.issue("yibao-reimburse", 1)
    served, _ = eng.call_next(3)
    eng.start(3)  # window 3 is serving a 医保 citizen
    engine_hall.issue("shebao-card", 20)  # 社保 swells
    proposals = mgr.evaluate()
    assert [p.window for p in proposals] == [3]
    pending = mgr.proposals()["pending"]
    accepted = mgr.accept(pending[0]["id"], "manager/li")
    assert accepted["state"] == "accepted" and accepted["applied_now"] is False
    w = eng.window(3)
    assert w.current is not None and w.current.id == served.id and w.current.state == "serving"
    assert w.domains == ["yibao"] and w.pending_domains == ["yibao", "shebao"]
    clock.advance(12)
    t, _ = eng.finish(3)
    assert t.id == served.id and t.state == "finished" and t.window == 3  # served to the end, at window 3
    assert eng.window(3).domains == ["yibao", "shebao"] and eng.window(3).pending_domains is None
    nxt, _ = eng.call_next(3)
    assert nxt is not None and nxt.domain == "shebao"
    actions = [a["action"] for a in eng.audit_log(10)]
    assert "window.assign" in actions and "window.assign.applied" in actions and "tidal.propose" in actions


def test_automatic_moves_in_a_simulated_day_never_cut_a_service_short():
    """A whole simulated day with automatic moves: every served ticket ran from its call to its finish at one
    window, and every move was applied only while that window had no ticket."""
    sc = load_scenario(ROOT / "simulators" / "scenarios" / "street.toml")
    day = HallDay(sc, "threshold", seed=4)
    applied: list[tuple[int, float]] = []

    def watch(change):
        for type_, data in change.events:
            if type_ == "audit" and data.get("action") == "window.assign.applied":
                applied.append((data["window"], day.now))

    day.engine.listeners.append(watch)
    result = day.run()
    assert result.moves > 0 and len(applied) == result.moves
    rows = day.store.db.execute(
        "SELECT window, called_at, finished_at, state FROM tickets WHERE window IS NOT NULL"
    ).fetchall()
    assert rows and all(r["state"] in ("finished", "no_show") for r in rows)
    for window, at in applied:
        for r in rows:
            if r["window"] == window:
                # the move happened at a ticket boundary, never strictly inside a service
                assert not (r["called_at"] < at < r["finished_at"]), (window, at, dict(r))
