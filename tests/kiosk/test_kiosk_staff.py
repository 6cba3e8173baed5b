"""Hall display model and window terminal against a real controller on mosquitto."""

from __future__ import annotations

import threading
import time

from hall_bus.contracts.queue import DomainQueue
from kiosk import clock
from kiosk.clock import hall_time
from kiosk.hall_board import HallBoard
from kiosk.staff import WindowTerminal
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
    term = WindowTerminal(None, "h", 1)
    term.hall = {"timezone": "Asia/Tokyo"}
    assert term.view()["clock"] == "09:00:00"


def test_board_says_the_wait_in_minutes_only_while_people_wait():
    board = HallBoard("h")
    board.hall = {"domains": [{"id": "shebao", "name": "社保"}, {"id": "yibao", "name": "医保"}]}
    board.queues["shebao"] = DomainQueue.model_validate({"domain": "shebao", "waiting": 4, "estimated_wait_min": 0.2})
    board.queues["yibao"] = DomainQueue.model_validate({"domain": "yibao", "waiting": 0, "estimated_wait_min": 0.0})
    shebao, yibao = board.view()["waiting"]
    assert shebao["wait_text"] == "约 1 分钟" and yibao["wait_text"] == ""  # was "~0'" for both
    board.lang = "en"
    assert board.view()["waiting"][0]["wait_text"] == "about 1 min"
