"""Hall display model, window terminal and manager console against a real controller on mosquitto."""

from __future__ import annotations

import threading
import time

from hall_bus.bus.client import RequestFailed
from hall_bus.contracts.queue import DomainQueue, WindowView
from hall_bus.contracts.tidal import Load, Proposal, Proposals
from kiosk import clock
from kiosk.clock import hall_time
from kiosk.hall_board import HallBoard
from kiosk.staff import ManagerConsole, WindowTerminal
from tests.kiosk.kiosk_helpers import start_controller


def wait_for(cond, timeout=5.0):
    ev = threading.Event()
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        ev.wait(0.02)
    return cond()


def test_terminal_calls_and_board_shows_and_announces(tmp_hall, bus_factory, hall_id):
    ctl = start_controller(tmp_hall, bus_factory)
    ctl.engine.issue("shebao-card", channel="cli")
    ctl.engine.issue("shebao-card", channel="cli")
    board = HallBoard(hall_id)
    calls: list[dict] = []
    board.call_listeners.append(calls.append)
    board.attach(bus_factory("display"))
    term = WindowTerminal(bus_factory("window-1"), hall_id, 1, staff="clerk-7").attach()
    assert term.load_hall()
    assert wait_for(lambda: len(board.view()["windows"]) == 6 and board.view()["waiting"][0]["waiting"] == 2)
    assert board.view()["windows"][0]["name"] == "1号窗口"
    board.lang = "en"  # hall.toml names windows in Chinese: the English display still says which window
    assert board.view()["windows"][0]["name"] == "Window 1"
    board.lang = "zh"
    term.call_next()
    assert wait_for(lambda: term.view()["current"] == "A001")
    assert term.message == "请 A001 号到 1 号窗口办理"
    assert wait_for(lambda: calls and calls[0]["ticket"] == "A001")
    assert calls[0]["spoken_zh"] == "请A零零一号到一号窗口办理"
    v = board.view()
    assert v["latest"]["text"] == "请 A001 号到 1 号窗口办理"
    assert wait_for(lambda: board.view()["windows"][0]["ticket"] == "A001")
    term.recall()
    assert wait_for(lambda: len(calls) == 2)
    term.start()
    term.transfer(to_domain="yibao")
    assert wait_for(lambda: not term.view()["has_current"])
    assert ctl.engine.ticket("A001").domain == "yibao"
    term.call_next()  # A002 next at window 1 (shebao)
    term.no_show()
    term.finish()  # nothing to finish: shown as an error, not raised
    assert term.error and term.view()["message"]
    term.pause("break")
    assert wait_for(lambda: term.view()["paused"])
    assert [b["id"] for b in term.view()["buttons"]][-1] == "resume"
    term.resume()
    assert wait_for(lambda: not term.view()["paused"])
    board.lang = "en"
    assert board.view()["recent"][0]["text"].startswith("Ticket A00")


def test_manager_reassigns_and_sees_tidal_state(tmp_hall, bus_factory, hall_id):
    ctl = start_controller(tmp_hall, bus_factory)
    mgr = ManagerConsole(bus_factory("manager"), hall_id, actor="director").attach()
    assert mgr.load_hall()
    mgr.refresh()
    assert [w["number"] for w in mgr.view()["windows"]] == [1, 2, 3, 4, 5, 6]
    mgr.reassign(3, ["shebao", "yibao"], reason="社保 queue")
    assert mgr.message == "已调整 3 号窗口"
    assert ctl.engine.window(3).domains == ["shebao", "yibao"]
    assert wait_for(lambda: mgr.view()["windows"][2]["domain_names"] == ["社保", "医保"])
    mgr.reassign(4, ["shebao"])  # window 4's clerk lacks the 社保 skill: refused with a sentence
    assert mgr.error and mgr.message == "该窗口人员不具备此业务的办理资质"
    # the tidal feature publishes retained load and proposals; the console shows them when present
    assert wait_for(lambda: mgr.tidal_load is not None, timeout=8)
    assert mgr.view()["tidal"] is True

    def shebao() -> dict:
        return {d["domain"]: d for d in mgr.view()["queues"]}["shebao"]

    # window 3 was just given 社保 (the tidal load catches up within its next publication)
    assert wait_for(lambda: shebao()["windows"] == [1, 2, 3], timeout=8)
    rows = {d["domain"]: d for d in mgr.view()["queues"]}
    assert "窗口 1,2,3" in rows["shebao"]["text"]


def test_terminal_errors_and_outcomes_are_sentences_in_the_ui_language(tmp_hall, bus_factory, hall_id):
    ctl = start_controller(tmp_hall, bus_factory)
    term = WindowTerminal(bus_factory("window-1"), hall_id, 1, staff="clerk-7").attach()
    assert term.load_hall()
    term.finish()  # nothing called: was "window 1 has no ticket called/serving"
    assert term.error and term.error_code == "no_current_ticket"
    assert term.view()["message"] == "本窗口当前没有可操作的号码"
    term.lang = "en"
    term.finish()
    assert term.view()["message"] == "There is no ticket at this window to do that with"
    term.lang = "zh"
    ctl.engine.issue("shebao-card", channel="cli")
    term.call_next()
    term.start()  # was "A001: serving"
    assert not term.error and term.message == "A001 开始办理"
    term.finish()
    assert term.message == "A001 已办结"


def test_terminal_shows_green_channel_and_appointment(tmp_hall, bus_factory, hall_id):
    ctl = start_controller(tmp_hall, bus_factory)
    term = WindowTerminal(bus_factory("window-1"), hall_id, 1).attach()
    assert term.load_hall()
    ctl.engine.issue("shebao-card", channel="cli", priority="elderly", age_years=72)
    term.call_next()
    assert wait_for(lambda: term.view()["has_current"])
    v = term.view()
    assert v["priority"] == "elderly" and v["notes"] == ["绿色通道：60岁以上老年人"]
    term.finish()
    due = time.time() + 60
    ctl.engine.add_appointment("YY2026AB", "shebao-card", due, due + 3600)
    t, _ = ctl.engine.issue("shebao-card", channel="cli", appointment="YY2026AB")
    term.call_next()
    assert wait_for(lambda: term.view()["current"] == t.code)
    slot = hall_time(term.hall, due).strftime("%H:%M")
    assert term.view()["appointment"] == "YY2026AB" and term.view()["notes"] == [f"预约 YY2026AB  {slot}"]


def test_paused_window_says_paused_on_the_terminal_and_the_board(tmp_hall, bus_factory, hall_id):
    ctl = start_controller(tmp_hall, bus_factory)
    board = HallBoard(hall_id).attach(bus_factory("display"))
    term = WindowTerminal(bus_factory("window-1"), hall_id, 1).attach()
    assert term.load_hall()
    ctl.engine.issue("shebao-card", channel="cli")
    term.call_next()
    term.start()
    assert wait_for(lambda: term.view()["current_state"] == "办理中")
    term.pause("lunch")
    assert term.message == "本窗口已暂停服务"
    assert wait_for(lambda: term.view()["paused"])
    v = term.view()
    assert v["state"] == "paused" and v["current_state"] == "本窗口暂停服务" and v["current"] == "A001"
    assert wait_for(lambda: board.view()["windows"] and board.view()["windows"][0]["state"] == "paused")
    assert board.view()["windows"][0]["state_label"] == "暂停服务"


def test_transfer_offers_other_domains_and_windows(tmp_hall, bus_factory, hall_id):
    ctl = start_controller(tmp_hall, bus_factory)
    term = WindowTerminal(bus_factory("window-1"), hall_id, 1).attach()
    assert term.load_hall()
    assert term.view()["transfer_domains"] == [] and term.view()["transfer_windows"] == []  # no ticket, nothing
    ctl.engine.issue("shebao-card", channel="cli")
    term.call_next()
    assert wait_for(lambda: term.view()["has_current"])
    v = term.view()
    assert "shebao" not in [d["id"] for d in v["transfer_domains"]]  # not the ticket's own domain
    assert {"yibao", "zonghe"} <= {d["id"] for d in v["transfer_domains"]}
    assert [w["number"] for w in v["transfer_windows"]] == [2, 3]  # the others skilled for 社保
    term.transfer(to_window=3)
    assert term.message == "A001 已转到 3 号窗口"
    assert ctl.engine.ticket("A001").target_window == 3


def test_one_clock_in_the_halls_time_zone(monkeypatch):
    monkeypatch.setattr(clock.time, "time", lambda: 0.0)  # 1970-01-01 00:00 UTC
    assert clock.clock_text({"timezone": "Asia/Shanghai"}) == "08:00:00"
    assert clock.clock_text({"timezone": "America/New_York"}, seconds=False) == "19:00"
    assert clock.clock_text({}) == "08:00:00"  # before hall.info: the configured default zone
    assert clock.clock_text({"timezone": "Mars/Olympus"}) == "08:00:00"
    board = HallBoard("h")
    board.hall = {"timezone": "Asia/Shanghai", "name": "大厅"}
    assert board.view()["clock"] == "08:00:00"
    mgr = ManagerConsole(None, "h")
    mgr.hall = {"timezone": "Asia/Tokyo"}
    assert mgr.view()["clock"] == "09:00:00"


def _proposal(pid, window, to, state="pending", expires_in=600.0, from_domains=None):
    return Proposal.model_validate(
        {
            "id": pid,
            "created_at": 1000.0,
            "expires_at": 1000.0 + expires_in,
            "window": window,
            "window_name": f"{window}号窗口",
            "from_domains": from_domains or [],
            "to_domains": to,
            "target": to[0],
            "kind": "borrow",
            "policy": "threshold",
            "reason": "社保 等候约 478 分钟",
            "reason_en": "",
            "metrics": {},
            "state": state,
            "decided_at": None,
            "decided_by": None,
            "note": "",
            "applied_now": None,
        }
    )


def _window(number, domains):
    return WindowView.model_validate({"number": number, "name": f"{number}号窗口", "domains": domains, "state": "idle"})


def _domain_load(domain, waiting, windows, expected, util):
    zero = dict.fromkeys(("work_min", "oldest_wait_min", "arrival_rate_per_h", "handling_min", "capacity"), 1.0)
    given = {"domain": domain, "name": domain, "name_en": "", "waiting": waiting, "windows": windows}
    return (
        given
        | zero
        | {
            "busy_windows": 0,
            "expected_wait_min": expected,
            "projected_wait_min": expected,
            "utilisation": util,
        }
    )


def test_manager_one_wait_per_domain_in_minutes_with_bounded_load():
    mgr = ManagerConsole(None, "h", clock=lambda: 1000.0)
    mgr.hall = {"domains": [{"id": "shebao", "name": "社保"}, {"id": "yibao", "name": "医保"}]}
    mgr.queues["shebao"] = DomainQueue.model_validate({"domain": "shebao", "waiting": 173, "estimated_wait_min": 61.4})
    mgr.tidal_load = Load.model_validate(
        {
            "at": 1000.0,
            "horizon_min": 60,
            "mode": "propose",
            "policy": "threshold",
            "threshold_min": 30,
            "domains": [_domain_load("shebao", 152, [1, 2], 1021, 14.48), _domain_load("yibao", 3, [3], 4, 0.4)],
            "windows": [],
            "services": [],
            "totals": {"waiting": 155, "max_expected_wait_min": 1021, "windows_open": 3, "windows_away": 0},
        }
    )
    shebao, yibao = mgr.view()["queues"]
    # the queue snapshot's count and estimate, not the load model's second figure; minutes, not '
    assert shebao["text"] == "等候 173 人 · 约 61 分钟 · 窗口 1,2 · 负荷 ≥100%（超出窗口能力）"
    assert shebao["utilisation_pct"] == 100 and shebao["overloaded"]
    assert yibao["text"] == "等候 3 人 · 窗口 3 · 负荷 40%"  # no snapshot yet: the count alone
    assert "1021" not in str(mgr.view()) and "'" not in shebao["text"]
    mgr.lang = "en"
    assert mgr.view()["queues"][0]["text"].startswith("173 waiting · about 61 min")


def test_manager_hides_stale_proposals():
    now = {"t": 1000.0}
    mgr = ManagerConsole(None, "h", clock=lambda: now["t"])
    mgr.hall = {"domains": [{"id": "shebao", "name": "社保"}, {"id": "yibao", "name": "医保"}]}
    mgr.windows = {3: _window(3, ["yibao"]), 4: _window(4, ["yibao"])}
    mgr.proposals = Proposals.model_validate(
        {
            "at": 1000.0,
            "mode": "propose",
            "policy": "threshold",
            "pending": [
                _proposal("tp-1", 3, ["shebao"], from_domains=["yibao"]),
                _proposal("tp-2", 4, ["shebao"], expires_in=60),
                _proposal("tp-3", 3, ["shebao"], state="expired"),
            ],
            "recent": [],
        }
    )
    ids = lambda: [p["id"] for p in mgr.view()["proposals"]]  # noqa: E731
    assert ids() == ["tp-1", "tp-2"]  # tp-3's state says it is no longer pending
    assert mgr.view()["proposals"][0]["text"] == "3号窗口：医保 → 社保（借调）" and "478" not in str(mgr.view())
    now["t"] = 1061.0
    assert ids() == ["tp-1"]  # tp-2 expired
    mgr.windows[3] = _window(3, ["shebao", "yibao"])  # window 3 moved meanwhile: tp-1 no longer applies
    assert ids() == []
    narrower = _proposal("tp-4", 3, ["shebao"], from_domains=["shebao", "yibao"])  # give 医保 back: still applies
    mgr.proposals = mgr.proposals.model_copy(update={"pending": [narrower]})
    assert ids() == ["tp-4"]
    mgr.windows[3] = _window(3, ["shebao"])  # done meanwhile (by hand): gone
    assert ids() == []


def test_board_says_the_wait_in_minutes_only_while_people_wait():
    board = HallBoard("h")
    board.hall = {"domains": [{"id": "shebao", "name": "社保"}, {"id": "yibao", "name": "医保"}]}
    board.queues["shebao"] = DomainQueue.model_validate({"domain": "shebao", "waiting": 4, "estimated_wait_min": 0.2})
    board.queues["yibao"] = DomainQueue.model_validate({"domain": "yibao", "waiting": 0, "estimated_wait_min": 0.0})
    shebao, yibao = board.view()["waiting"]
    assert shebao["wait_text"] == "约 1 分钟" and yibao["wait_text"] == ""  # was "~0'" for both
    board.lang = "en"
    assert board.view()["waiting"][0]["wait_text"] == "about 1 min"


class RefusingBus:
    """The controller refuses every request with ``code`` (its detail in English)."""

    def __init__(self, code):
        self.code = code

    def call(self, op, request, reply, timeout=5.0, retry_s=1.0, topic=None):
        raise RequestFailed(op, self.code, f"proposal {getattr(request, 'proposal_id', '?')} is stale: window moved")


def test_a_proposal_the_controller_calls_stale_disappears_with_a_sentence():
    mgr = ManagerConsole(RefusingBus("proposal_stale"), "h", clock=lambda: 1000.0)
    mgr.proposals = Proposals.model_validate(
        {
            "at": 1000.0,
            "mode": "propose",
            "policy": "threshold",
            "pending": [_proposal("tp-7", 3, ["shebao"])],
            "recent": [],
        }
    )
    assert [p["id"] for p in mgr.view()["proposals"]] == ["tp-7"]
    mgr.accept("tp-7")
    assert mgr.error and mgr.message == "该建议已过时，窗口情况已变化"
    assert mgr.view()["proposals"] == []
