"""The queue engine's rules, without a bus: numbering, idempotency, call-next order, fairness, limits."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hall_bus import config as hallconfig
from hall_bus.controller.store import Store
from hall_bus.queue.announce import announcement_zh, spoken_zh
from hall_bus.queue.engine import QueueEngine
from hall_bus.queue.models import Closed, QueueError

TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self, when: dt.datetime) -> None:
        self.t = when.timestamp()

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ))  # a Monday, 10:00: the hall is open


@pytest.fixture
def engine(tmp_path: Path, hall_toml: Path, clock: Clock) -> QueueEngine:
    cfg = hallconfig.load(hall_toml)
    return QueueEngine(cfg, Store(tmp_path / "hall.db"), clock=clock)


def issue(engine: QueueEngine, service: str = "shebao-card", **kw):
    ticket, created = engine.issue(service, idempotency_key=f"k-{random.getrandbits(64):x}", **kw)
    assert created
    return ticket


def test_daily_numbering_per_prefix(engine: QueueEngine, clock: Clock) -> None:
    codes = [issue(engine, s).code for s in ("shebao-card", "shebao-transfer", "yibao-reimburse", "shebao-card")]
    assert codes == ["A001", "A002", "B001", "A003"]
    clock.advance(24 * 3600)  # Tuesday: numbering starts again
    assert issue(engine).code == "A001"


def test_idempotent_issue_returns_the_same_ticket(engine: QueueEngine) -> None:
    first, created = engine.issue("shebao-card", idempotency_key="kiosk-1:abc12345")
    again, created_again = engine.issue("shebao-card", idempotency_key="kiosk-1:abc12345")
    assert created and not created_again
    assert again.id == first.id and again.code == first.code
    assert len(engine.waiting("shebao")) == 1


def test_staffed_service_closed_out_of_hours_but_self_service_open(engine: QueueEngine, clock: Clock) -> None:
    clock.advance(12 * 3600)  # 22:00
    with pytest.raises(Closed, match="opening hours"):
        issue(engine)
    assert issue(engine, "zonghe-pickup").code == "F001"


def test_elderly_green_channel_needs_age_from_card(engine: QueueEngine) -> None:
    with pytest.raises(QueueError) as err:
        engine.issue("shebao-card", idempotency_key="kiosk-1:young001", priority="elderly", age_years=45)
    assert err.value.code == "priority_not_eligible"
    assert issue(engine, priority="elderly", age_years=72).priority == "elderly"


def test_call_order_appointment_then_priority_then_fifo(engine: QueueEngine, clock: Clock) -> None:
    normal1 = issue(engine)
    clock.advance(60)
    prio = issue(engine, priority="disabled")
    clock.advance(60)
    engine.add_appointment("APPT-0001", "shebao-card", clock.t + 600, clock.t + 2400)  # due within 15 min
    appt, _ = engine.issue("shebao-card", idempotency_key="kiosk-1:appt0001", appointment="APPT-0001")
    clock.advance(60)
    normal2 = issue(engine)
    called = [engine.call_next(1)[0].code for _ in range(4)]
    assert called == [appt.code, prio.code, normal1.code, normal2.code]


def test_appointment_not_yet_due_waits_like_nobody_special(engine: QueueEngine, clock: Clock) -> None:
    engine.add_appointment("APPT-0002", "shebao-card", clock.t + 3 * 3600, clock.t + 4 * 3600)
    early, _ = engine.issue("shebao-card", idempotency_key="kiosk-1:appt0002", appointment="APPT-0002")
    normal = issue(engine)
    assert engine.call_next(1)[0].code == normal.code
    assert engine.call_next(1)[0] is None  # the appointment is not due yet
    clock.advance(3 * 3600 - 10 * 60)
    assert engine.call_next(1)[0].code == early.code


def test_priority_fairness_under_sustained_priority_load(engine: QueueEngine, clock: Clock) -> None:
    """With green-channel tickets always waiting, normal tickets still get every third call (N=2)."""
    n = engine.config.queue.max_priority_in_row
    normals = [issue(engine) for _ in range(10)]
    for _ in range(40):
        issue(engine, priority="pregnant")
    kinds = []
    for _ in range(30):
        ticket, _ = engine.call_next(1)
        kinds.append(ticket.priority)
        issue(engine, priority="military")  # priority pressure never lets up
        clock.advance(30)
    runs = "".join("P" if k != "normal" else "N" for k in kinds)
    assert "P" * (n + 1) not in runs, runs
    assert runs.count("N") == 10
    called_normals = [
        t
        for t in engine.store.db.execute(
            "SELECT code FROM tickets WHERE priority='normal' AND state!='waiting' ORDER BY called_at, id"
        )
    ]
    assert [r["code"] for r in called_normals] == [t.code for t in normals]  # FIFO among normals


def test_window_only_calls_its_domains(engine: QueueEngine) -> None:
    issue(engine, "yibao-reimburse")
    assert engine.call_next(1)[0] is None  # window 1 serves 社保 only
    assert engine.call_next(3)[0].code == "B001"


def test_recall_limit_then_no_show(engine: QueueEngine) -> None:
    issue(engine)
    engine.call_next(1)
    for _ in range(engine.config.queue.max_recalls):
        ticket, change = engine.recall(1)
        assert any(t == "call" and e["recall"] for t, e in change.events)
    with pytest.raises(QueueError) as err:
        engine.recall(1)
    assert err.value.code == "recall_limit"
    assert engine.no_show(1)[0].state == "no_show"
    assert engine.window(1).current is None


def test_transfer_keeps_issue_time(engine: QueueEngine, clock: Clock) -> None:
    moved = issue(engine)
    clock.advance(600)
    later = issue(engine, "yibao-reimburse")
    engine.call_next(1)
    engine.start(1)
    t, _ = engine.transfer(1, to_domain="yibao")
    assert t.state == "waiting" and t.domain == "yibao"
    assert engine.call_next(3)[0].code == moved.code  # ahead of the later 医保 arrival
    assert engine.call_next(3)[0].code == later.code


def test_transfer_to_window_only_that_window_calls_it(engine: QueueEngine) -> None:
    issue(engine)
    engine.call_next(1)
    engine.transfer(1, to_window=2)
    assert engine.call_next(3)[0] is None  # window 3 (医保) does not see it
    assert engine.call_next(2)[0].code == "A001"


def test_pause_blocks_calls_until_resume(engine: QueueEngine) -> None:
    issue(engine)
    engine.pause(1, "lunch", actor="clerk")
    with pytest.raises(QueueError) as err:
        engine.call_next(1)
    assert err.value.code == "window_paused"
    engine.resume(1, actor="clerk")
    assert engine.call_next(1)[0].code == "A001"


def test_assign_is_deferred_until_current_ticket_ends_and_audited(engine: QueueEngine) -> None:
    issue(engine)
    engine.call_next(1)
    engine.start(1)
    applied, _ = engine.assign(1, ["yibao"], actor="manager-li", reason="医保 queue long")
    assert not applied
    win = engine.window(1)
    assert win.domains == ["shebao"] and win.pending_domains == ["yibao"]
    assert win.current is not None and win.current.state == "serving"  # never interrupted
    engine.finish(1)
    assert engine.window(1).domains == ["yibao"]
    actions = [e["action"] for e in engine.audit_log()]
    assert actions[:2] == ["window.assign.applied", "window.assign"]
    assert engine.audit_log()[1]["actor"] == "manager-li"


def test_assign_respects_skills(engine: QueueEngine) -> None:
    with pytest.raises(QueueError) as err:
        engine.assign(4, ["shebao"], actor="manager")
    assert err.value.code == "skill_mismatch"


def test_snapshot_counts_and_estimates(engine: QueueEngine) -> None:
    for _ in range(6):
        issue(engine)
    snap = engine.snapshot("shebao")
    assert snap["waiting"] == 6
    assert snap["estimated_wait_min"] > 0
    ticket = issue(engine)
    ahead, minutes = engine.position(ticket)
    assert ahead == 6 and minutes > 0


def test_announcement_texts() -> None:
    assert announcement_zh("A001", 3) == "请 A001 号到 3 号窗口办理"
    assert spoken_zh("A001", 12) == "请A零零一号到一二号窗口办理"


def test_numbering_survives_restart(tmp_path: Path, hall_toml: Path, clock: Clock) -> None:
    cfg = hallconfig.load(hall_toml)
    store = Store(tmp_path / "hall.db")
    issue(QueueEngine(cfg, store, clock=clock))
    store.close()
    again = QueueEngine(cfg, Store(tmp_path / "hall.db"), clock=clock)
    assert issue(again).code == "A002"
