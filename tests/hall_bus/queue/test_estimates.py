"""The one wait estimate (hall_bus.queue.estimates): hand-computed cases, alone and through the engine."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hall_bus import config as hallconfig
from hall_bus.controller import store as store_mod
from hall_bus.controller.store import Store
from hall_bus.queue import estimates
from hall_bus.queue.engine import QueueEngine
from hall_bus.queue.estimates import LearnedHandlingTimes
from hall_bus.queue.forecast import Desk, Line, desks_of, forecast

TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self) -> None:
        self.t = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ).timestamp()  # a Monday, the hall is open

    def __call__(self) -> float:
        return self.t

    def advance(self, minutes: float) -> None:
        self.t += minutes * 60.0


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(tmp_path: Path, hall_toml: Path, clock: Clock) -> QueueEngine:
    return QueueEngine(hallconfig.load(hall_toml), Store(tmp_path / "hall.db"), clock=clock)


def issue(engine: QueueEngine, service: str = "shebao-card", **kw):
    return engine.issue(service, idempotency_key=f"k-{random.getrandbits(64):x}", **kw)[0]


def test_the_docstring_example_by_hand():
    """Windows 1 and 2 serve 社保; window 1 has 4 minutes left, window 2 is free; three 10-minute tickets."""
    lines = [Line(i, "shebao", (2, float(i), i), 10.0) for i in (1, 2, 3)]
    fc = forecast(lines, [Desk(1, ("shebao",), 4.0), Desk(2, ("shebao",), 0.0)])
    assert [fc.ticket_wait(i) for i in (1, 2, 3)] == [0.0, 4.0, 10.0]
    assert fc.wait("shebao") == 14.0
    assert fc.wait("yibao") == float("inf")  # no open window serves it: no estimate


def test_the_calling_order_and_shared_windows_by_hand():
    # window 2 also serves 医保; the calling rule: the green channel first, then the oldest ticket
    lines = [
        Line(9, "yibao", (2, 0.0, 9), 12.0),
        Line(1, "shebao", (2, 1.0, 1), 8.0),
        Line(2, "shebao", (2, 2.0, 2), 8.0),
        Line(3, "shebao", (1, 3.0, 3), 8.0),  # the green channel: called before the normal tickets
    ]
    fc = forecast(lines, [Desk(1, ("shebao",), 4.0), Desk(2, ("shebao", "yibao"), 0.0)])
    assert fc.ticket_wait(3) == 0.0  # window 2 at once: the green channel before everyone, issued last
    assert fc.ticket_wait(1) == 4.0  # window 1 when its ticket ends (it does not serve 医保)
    assert fc.ticket_wait(9) == 8.0  # window 2 again: the 医保 ticket is older than 社保 ticket 2
    assert fc.ticket_wait(2) == 12.0  # window 1 again
    assert fc.wait("shebao") == 20.0 and fc.wait("yibao") == 20.0  # both windows are free at minute 20
    # a ticket sent to window 1 by number waits only for window 1
    fc = forecast([Line(5, "yibao", (2, 0.0, 5), 5.0, target_window=1)], [Desk(1, ("shebao",), 4.0)])
    assert fc.ticket_wait(5) == 4.0


def test_engine_positions_and_snapshot_are_the_forecast(engine: QueueEngine, clock: Clock):
    """8-minute 社保 tickets: window 1 called one 4 minutes ago, window 2 (社保、医保) is free."""
    first = issue(engine)
    engine.call_next(1)
    clock.advance(4)
    tickets = [issue(engine) for _ in range(3)]
    assert [engine.position(t) for t in tickets] == [(0, 0.0), (1, 4.0), (2, 8.0)]
    snap = engine.snapshot("shebao")
    assert snap["estimated_wait_min"] == 12.0 and snap["waiting"] == 3
    assert engine.expected_wait_minutes("shebao") == 12.0
    assert engine.position(engine.ticket(first.code)) == (0, 0.0)  # called: not waiting any more
    # the clerk of window 2 goes on a break: window 1 does it all
    engine.pause(2, "break")
    assert [engine.position(t)[1] for t in tickets] == [4.0, 12.0, 20.0]
    assert engine.snapshot("shebao")["estimated_wait_min"] == 28.0
    engine.pause(1, "break")
    assert engine.snapshot("shebao")["estimated_wait_min"] is None  # nobody serves it: no estimate
    assert engine.position(tickets[0])[1] == float("inf")


def test_learned_handling_times_feed_the_estimate(engine: QueueEngine, clock: Clock):
    learned = LearnedHandlingTimes(engine.config, prior_weight=1)
    engine.estimator = learned
    engine.listeners.append(learned.learn)
    for _ in range(3):
        issue(engine, "gongan-hukou")  # configured 10 minutes; window 5 serves 公安 alone
        engine.call_next(5)
        engine.start(5)
        clock.advance(20)
        engine.finish(5)
    assert learned.count("gongan-hukou") == 3
    expected = (1 * 10 + 3 * 20) / 4
    assert learned.expected_minutes("gongan-hukou") == pytest.approx(expected)
    issue(engine, "gongan-hukou")
    assert engine.snapshot("gongan")["estimated_wait_min"] == round(expected, 1)
    fresh = LearnedHandlingTimes(engine.config, prior_weight=1)
    fresh.seed(engine.store.db, engine.hall)  # after a restart, from the store
    assert fresh.expected_minutes("gongan-hukou") == pytest.approx(expected)


def test_a_long_queue_gets_new_tickets_without_a_replay_and_the_same_figures(engine: QueueEngine, clock: Clock):
    """Past the horizon a new normal ticket is added to the cached forecast; the figures are those a
    full replay gives."""
    for i in range(400):  # far more than a day's work for 社保's windows
        engine.issue("shebao-card", idempotency_key=f"long-{i:04d}")
    engine.forecast()
    assert "shebao" in engine._forecast_cache[3].fluid
    for i in range(5):
        engine.issue("shebao-card", idempotency_key=f"more-{i:04d}")
        quick = engine.forecast()
        full = forecast(engine.waiting_lines(), desks_of(engine.windows(), clock(), engine.estimator))
        newest = max(full.starts)
        assert quick.ticket_wait(newest) == pytest.approx(full.ticket_wait(newest))
        assert quick.wait("shebao") == pytest.approx(full.wait("shebao"))
    engine.issue("shebao-card", idempotency_key="elderly-01", priority="elderly", age_years=70)
    assert engine.forecast().wait("shebao") == pytest.approx(
        forecast(engine.waiting_lines(), desks_of(engine.windows(), clock(), engine.estimator)).wait("shebao")
    )


def test_a_short_queue_gets_new_tickets_without_a_replay_and_the_same_figures(
    engine: QueueEngine, clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    """Within the horizon a new normal ticket goes to the window that runs out of work first; the cached
    forecast with it added gives every ticket and every domain the figures of a full replay, also for
    windows that serve several domains."""
    services = ["shebao-card", "gongan-hukou", "shebao-card", "yibao-reimburse", "gongan-hukou"]
    for i in range(12):
        engine.issue(services[i % len(services)], idempotency_key=f"warm-{i:04d}")
    engine.call_next(1)
    engine.forecast()
    replays: list[int] = []
    monkeypatch.setattr(estimates, "forecast", lambda *a: replays.append(1) or forecast(*a))
    for i in range(30):
        engine.issue(services[(i * 7) % len(services)], idempotency_key=f"short-{i:04d}")
        quick = engine.forecast()
        full = forecast(engine.waiting_lines(), desks_of(engine.windows(), clock(), engine.estimator))
        assert quick.starts == pytest.approx(full.starts)
        assert quick.new_arrival == pytest.approx(full.new_arrival)
    assert "shebao" not in engine._forecast_cache[3].fluid
    assert len(replays) == 0  # (the clock stands still here; a hall replays once a second)


def test_the_waiting_tickets_read_inside_a_rolled_back_transaction_are_forgotten(engine: QueueEngine):
    """The forecast keeps the waiting tickets between changes; a ticket it saw inside a transaction
    that was rolled back (its number then taken by another ticket) must not stay in it."""
    for i in range(3):
        engine.issue("shebao-card", idempotency_key=f"before-{i:02d}")
    engine.forecast()
    with pytest.raises(RuntimeError), engine.store.transaction():
        engine.issue("shebao-card", idempotency_key="rolled-back")
        assert len(engine.waiting_lines()) == 4
        raise RuntimeError("the answer broke its contract")
    engine.issue("gongan-hukou", idempotency_key="after-rollback")  # the same row id, another ticket
    stored = engine.store.db.execute("SELECT id, domain FROM tickets WHERE state='waiting' ORDER BY id").fetchall()
    assert [(ln.ticket, ln.domain) for ln in engine.waiting_lines()] == [tuple(r) for r in stored]
    assert engine.snapshot("gongan")["waiting"] == 1


def test_a_store_from_before_the_fingerprint_is_brought_forward(tmp_path: Path, hall_toml: Path, clock: Clock):
    """A database of the previous release (three core migrations) gets the triggers on start and the
    waiting tickets it already holds are read."""
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    for script in store_mod.MIGRATIONS[:3]:
        for statement in store_mod._statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version=3")
    db.execute(
        "INSERT INTO tickets (hall, day, prefix, number, code, service, domain, issued_at) "
        "VALUES ('demo-hall', '2026-11-25', 'A', 1, 'A001', 'shebao-card', 'shebao', 1.0)"
    )
    db.close()
    engine = QueueEngine(hallconfig.load(hall_toml), Store(path), clock=clock)
    assert engine.store.version == len(store_mod.MIGRATIONS)
    assert [ln.ticket for ln in engine.waiting_lines()] == [1]
    engine.issue("shebao-card", idempotency_key="after-upgrade")
    assert len(engine.waiting_lines()) == 2


def test_people_ahead_of_a_normal_ticket_counted_two_ways_agree(engine: QueueEngine, clock: Clock):
    """The quick count for a normal ticket (everyone waiting in its domain but the normal ones taken
    after it) agrees with the count by calling order, with the green channel, appointments' absence and
    equal issue times mixed in."""
    rng = random.Random(7)
    for i in range(60):
        if rng.random() < 0.3:
            clock.advance(0.0)  # several tickets in the same instant
        else:
            clock.advance(rng.choice([0.01, 0.5, 3.0]))
        kind = rng.random()
        if kind < 0.2:
            engine.issue("shebao-card", idempotency_key=f"mix-{i:03d}", priority="elderly", age_years=70)
        else:
            engine.issue(rng.choice(["shebao-card", "shebao-transfer", "gongan-hukou"]), idempotency_key=f"mix-{i:03d}")
        if rng.random() < 0.1:
            engine.call_next(rng.choice([1, 2, 5]))
    waiting = [engine.ticket(r[0]) for r in engine.store.db.execute("SELECT code FROM tickets WHERE state='waiting'")]
    normal = [t for t in waiting if t.priority == "normal"]
    assert len(normal) > 20
    for t in normal:
        assert engine._ahead_normal(t) == engine._ahead_by_rank(t), t.code


def test_a_clerks_call_start_finish_and_no_show_are_audited_with_who(engine: QueueEngine):
    """Every staff action at a window is in the audit log with its actor (the web console names the
    logged-in clerk: web/S0101); the engine's own moves, without an actor, are not."""
    for i in range(2):
        engine.issue("gongan-hukou", idempotency_key=f"audit-{i:02d}")
    engine.call_next(5, actor="web/S0105")
    engine.start(5, actor="web/S0105")
    engine.finish(5, actor="web/S0105")
    engine.call_next(5, actor="window-5")
    engine.no_show(5, actor="window-5")
    log = [(e["actor"], e["action"]) for e in reversed(engine.audit_log(20))]
    assert log == [
        ("web/S0105", "window.call"),
        ("web/S0105", "window.start"),
        ("web/S0105", "window.finish"),
        ("window-5", "window.call"),
        ("window-5", "window.no_show"),
    ]
    engine.issue("gongan-hukou", idempotency_key="audit-03")
    engine.call_next(5)
    assert len(engine.audit_log(20)) == 5
