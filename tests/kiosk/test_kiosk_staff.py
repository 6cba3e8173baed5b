"""Hall display model, window terminal and manager console against a real controller on mosquitto."""

from __future__ import annotations

import threading

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
    mgr.reassign(4, ["shebao"])  # window 4's clerk lacks the 社保 skill: refused with a message
    assert mgr.error and mgr.message
    # the tidal feature publishes retained load and proposals; the console shows them when present
    assert wait_for(lambda: mgr.view()["load"] is not None, timeout=8)
    assert {d["domain"] for d in mgr.view()["load"]} >= {"shebao", "yibao"}
    assert mgr.view()["tidal"] is True
