"""Progress, rating and scanning flows, headless, against a real controller on mosquitto."""

from __future__ import annotations

import pytest

from hall_bus.contracts.evaluation import EvaluationRecorded, EvaluationSubmit
from tests.kiosk.kiosk_helpers import kiosk, start_controller


@pytest.fixture
def hall(tmp_hall, bus_factory):
    ctl = start_controller(tmp_hall, bus_factory)
    session = kiosk(bus_factory)
    assert session.refresh_hall()
    return ctl, session


def finished_ticket(ctl, service="shebao-card", window=1):
    t, _ = ctl.engine.issue(service, channel="cli")
    ctl.engine.call_next(window, actor="test")
    ctl.engine.start(window, actor="test")
    ctl.engine.finish(window, actor="test")
    return ctl.engine.ticket(t.code)


def test_rate_checks_the_ticket_first(hall):
    ctl, session = hall
    flow = session.start("rate")
    for ch in "A001":
        flow.type_char(ch)
    flow.submit()
    assert flow.state == "entry" and "A001" in flow.message  # no such ticket today
    t, _ = ctl.engine.issue("shebao-card", channel="cli")
    flow.submit()
    assert flow.state == "entry" and "尚未办结" in flow.message  # waiting, not served yet
    finished_ticket(ctl)  # A002 served and finished at window 1 (A001 was called first)
    flow.typed = ""
    for ch in "A00":
        flow.type_char(ch)
    flow.backspace()
    for ch in "01":
        flow.type_char(ch)
    assert flow.view()["typed"] == "A001"
    flow.submit()
    assert flow.state == "level", flow.message
    assert [lv["label"] for lv in flow.view()["levels"]] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    flow.choose_level(5)
    assert flow.state == "reason"
    assert [r["id"] for r in flow.view()["reasons"]] == ["attitude", "efficiency", "process", "result", "other"]
    with pytest.raises(ValueError):
        flow.choose_reason("rude")
    flow.choose_reason("efficiency")
    # with the evaluation feature: thanks (or already); without it: a clear "use the pad" message
    assert flow.state in ("thanks", "already", "unavailable"), (flow.state, flow.message)
    if flow.state == "unavailable":
        assert "评价器" in flow.message


def test_rate_timeout_clears_the_ticket(hall):
    ctl, session = hall
    flow = session.start("rate")
    for ch in "B012":
        flow.type_char(ch)
    session.ctx.clock.advance(61)
    assert session.tick()
    assert flow.typed == "" and flow.ticket is None and flow.level is None


def test_progress_by_number_and_reader_missing(hall):
    _, session = hall
    flow = session.start("progress")
    flow.by_card()  # no reader on this kiosk
    assert flow.state == "choose" and "读卡器暂不可用" in flow.message
    flow.by_number()
    for ch in "2026sb0001":
        flow.type_char(ch)
    assert flow.view()["typed"] == "2026SB0001"
    flow.submit()
    # with the pickup feature's case store: a result or none; without it: a clear message
    assert flow.state in ("result", "none", "unavailable"), (flow.state, flow.message)
    session.ctx.clock.advance(61)
    assert session.tick() and flow.typed == "" and flow.cases == []


def test_progress_bus_down_then_retry(tmp_hall, bus_factory):
    session = kiosk(bus_factory, request_timeout_s=0.5)
    session.ctx.hall = {"open_now": True}
    flow = session.start("progress")
    flow.by_number()
    for ch in "C0001":
        flow.type_char(ch)
    flow.submit()  # no controller: the bus does not answer
    assert flow.state == "bus_error" and "无法连接" in flow.message
    start_controller(tmp_hall, bus_factory)
    session.ctx.request_timeout_s = 5.0  # the retried request is re-sent until the controller answers
    flow.retry()
    assert flow.state in ("result", "none", "unavailable")


def test_scan_without_a_camera_says_where_to_go(hall):
    _, session = hall
    flow = session.start("scan")
    assert flow.state == "unavailable" and "窗口" in flow.message
    assert session.home_view()["tiles"][3]["id"] == "scan" and not session.home_view()["tiles"][3]["enabled"]


def test_rate_at_the_kiosk_once(hall):
    ctl, session = hall
    t = finished_ticket(ctl)
    flow = session.start("rate")
    for ch in t.code:
        flow.type_char(ch)
    flow.submit()
    flow.choose_level(1)
    assert flow.state == "thanks" and flow.message == "感谢您的评价！"
    again = session.start("rate")
    for ch in t.code:
        again.type_char(ch)
    again.submit()
    # checked first: the citizen is told before choosing a level and a reason, and offered none
    assert again.state == "already" and t.code in again.message
    assert "levels" not in again.view() and again.ticket is None


def test_rate_rated_in_between_by_the_pad_says_already(hall):
    """The check comes first, yet one evaluation per ticket stays the controller's rule."""
    ctl, session = hall
    t = finished_ticket(ctl)
    flow = session.start("rate")
    for ch in t.code:
        flow.type_char(ch)
    flow.submit()
    assert flow.state == "level"
    other = session.ctx.bus.call(
        "evaluation.submit", EvaluationSubmit(ticket=t.code, level=2, channel="qr"), EvaluationRecorded
    )
    assert other.recorded
    flow.choose_level(4)
    flow.choose_reason("attitude")
    assert flow.state == "already" and t.code in flow.message


def test_rate_refusal_is_a_sentence_not_the_controllers_detail(hall):
    ctl, session = hall
    ctl.engine.issue("shebao-card", channel="cli")
    ctl.engine.call_next(1, actor="test")  # A001 called, not finished
    flow = session.start("rate")
    for ch in "A001":
        flow.type_char(ch)
    flow.submit()
    assert flow.state == "entry" and flow.message == "A001 尚未办结，办结后再评价"
