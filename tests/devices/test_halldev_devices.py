"""Pad, caller and display drivers against their simulators over a pty and TCP, faults included,
and a window terminal end to end over mosquitto with the controller."""

from __future__ import annotations

import queue
import time
import uuid
from pathlib import Path

import pytest

from devices.base import DeviceTimeout
from devices.caller import CallerKeypad
from devices.config import DeviceConfig
from devices.display import WindowDisplay
from devices.pad import EvaluationPad
from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.controller.service import HallController
from hall_bus.hosts.window_host import WindowHost
from simulators.base import serve_pty, serve_tcp
from simulators.caller import CallerSimulator
from simulators.display import DisplaySimulator
from simulators.pad import PadSimulator


def wait_for(cond, timeout: float = 5.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("serve", [serve_pty, serve_tcp])
def test_pad_caller_display_over_pty_and_tcp(serve) -> None:
    sims = {
        "pad": PadSimulator({"baud": "9600"}),
        "caller": CallerSimulator({"baud": "9600"}),
        "display": DisplaySimulator({"baud": "9600"}),
    }
    served = {k: serve(s) for k, s in sims.items()}
    try:
        pad = EvaluationPad(DeviceConfig(id="p", kind="pad", url=served["pad"].url, profile="generic-pad")).open()
        pad.show_info(3, "S0301", "王芳")
        assert sims["pad"].info == {"window": 3, "staff_no": "S0301", "staff_name": "王芳"}
        pad.request_evaluation("A001", 30)
        sims["pad"].press(5, "attitude")
        got = []
        assert wait_for(lambda: bool(got.extend(pad.poll(0.1)) or got))
        assert (got[0].ticket, got[0].level, got[0].reason) == ("A001", 5, "attitude")
        assert not sims["pad"].press(1)  # one evaluation per request: no second press
        caller = CallerKeypad(
            DeviceConfig(id="c", kind="caller", url=served["caller"].url, profile="generic-caller")
        ).open()
        sims["caller"].press("call_next")
        sims["caller"].press("transfer", 4)
        keys = []
        assert wait_for(lambda: bool(keys.extend(caller.poll(0.1))) or len(keys) >= 2)
        assert [(k.key, k.arg) for k in keys] == [("call_next", 0), ("transfer", 4)]
        caller.show_text("A001 已呼叫")
        assert sims["caller"].text == "A001 已呼叫"
        display = WindowDisplay(
            DeviceConfig(id="d", kind="display", url=served["display"].url, profile="generic-led-2line")
        ).open()
        display.show("请 A001 号", "到3号窗口")
        assert sims["display"].lines == ["请 A001 号", "到3号窗口"]
        for dev in (pad, caller, display):
            dev.close()
    finally:
        for s in served.values():
            s.stop()


def test_unacknowledged_key_is_repeated_but_acted_on_once() -> None:
    caller = CallerKeypad(
        DeviceConfig(id="c", kind="caller", url="sim://caller?line_rate=0&id=rep-c", profile="generic-caller")
    ).open()
    sim = caller.port.simulator
    sim.press("recall")
    time.sleep(1.2)  # the keypad repeats the event every 0.5 s until acknowledged
    keys = caller.poll(0.2)
    assert [k.key for k in keys] == ["recall"]
    assert caller.link.duplicates >= 1  # the repeats arrived, were acknowledged, and dropped
    assert wait_for(lambda: not sim.pending)  # the keypad got its acknowledgement and stopped repeating
    caller.close()


def test_corrupted_reply_is_retried_and_silence_times_out() -> None:
    display = WindowDisplay(
        DeviceConfig(
            id="d", kind="display", url="sim://display?line_rate=0&fault=corrupt=1", profile="generic-led-2line"
        )
    ).open()  # the probe's reply is corrupted once
    display.show("一", "二")
    assert display.port.simulator.lines == ["一", "二"]
    display.port.simulator.faults.no_reply = -1
    with pytest.raises(DeviceTimeout):
        display.show("三")
    display.close()


def test_pad_timeout_event() -> None:
    pad = EvaluationPad(DeviceConfig(id="p", kind="pad", url="sim://pad?line_rate=0", profile="generic-pad")).open()
    pad.port.simulator.pending_eval = None
    pad.request_evaluation("C007", 5)
    pad.port.simulator.pending_eval = ("C007", time.monotonic())  # the 5 s pass at once
    got = []
    assert wait_for(lambda: bool(got.extend(pad.poll(0.1)) or got))
    assert got[0].timed_out and got[0].ticket == "C007"
    pad.close()


@pytest.fixture
def window_hall(tmp_hall: Path, bus_factory):
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    host = WindowHost(cfg, 1, bus_factory("window-1")).start()
    yield cfg, ctl, host
    host.stop()
    ctl.stop()


def test_window_terminal_end_to_end(window_hall, bus_factory, hall_id: str) -> None:
    cfg, ctl, host = window_hall
    kiosk = bus_factory("kiosk-1")
    kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
    caller_sim, display_sim, pad_sim = (host.devices[k].port.simulator for k in ("caller", "display", "pad"))
    caller_sim.press("call_next")
    assert wait_for(lambda: display_sim.lines[0] == "请 A001 号"), display_sim.lines
    assert wait_for(lambda: caller_sim.text == "A001 已呼叫"), caller_sim.text
    assert ctl.engine.window(1).current.code == "A001"
    caller_sim.press("start")
    assert wait_for(lambda: display_sim.lines[0] == "A001 办理中"), display_sim.lines

    evaluations: queue.Queue = queue.Queue()
    watcher = bus_factory("controller")  # only the controller sends device requests
    watcher.subscribe(topics.device_event(hall_id, "window-1-pad", "evaluation"), lambda t, e: evaluations.put(e.data))
    time.sleep(0.2)
    pad_sim.plan = ""  # the test presses, not the URL's random citizen
    out = watcher.request(
        "pad.evaluate",
        {
            "ticket": "A001",
            "ticket_id": 1,
            "window": 1,
            "staff_name": "王芳",
            "staff_no": "S0101",
            "service_name": "社保卡申领",
            "timeout_s": 30,
        },
        topic=topics.device_request(hall_id, "window-1-pad", "pad.evaluate"),
    )
    assert out == {"accepted": True}
    assert wait_for(lambda: pad_sim.pending_eval is not None)
    assert pad_sim.info["staff_name"] == "王芳"
    pad_sim.press(2)
    ev = evaluations.get(timeout=5)
    assert (ev["ticket"], ev["level"], ev["level_name"], ev["timed_out"], ev["window"]) == ("A001", 2, "满意", False, 1)

    caller_sim.press("transfer", 1)  # to its own window: refused on the keypad, nothing sent
    assert wait_for(lambda: caller_sim.text == "请选择目标窗口")
    caller_sim.press("pause")
    assert wait_for(lambda: caller_sim.text.endswith("已暂停") or "失败" in caller_sim.text)


def test_a_pad_unplugged_at_start_is_reopened_by_its_first_use() -> None:
    from devices.base import DeviceOffline

    served = serve_tcp(PadSimulator({"line_rate": "0"}))
    port = served.port
    served.stop()
    pad = EvaluationPad(DeviceConfig(id="late", kind="pad", url=f"socket://127.0.0.1:{port}", profile="generic-pad"))
    pad.backoff_min_s = 0.05
    with pytest.raises(DeviceOffline):
        pad.open()
    with pytest.raises(DeviceOffline):
        pad.poll()  # no driver yet: a device error, not an AttributeError
    served = serve_tcp(PadSimulator({"line_rate": "0"}), port=port)
    try:
        assert wait_for(lambda: _poll_ok(pad))
    finally:
        pad.close()
        served.stop()


def _poll_ok(pad) -> bool:
    from devices.base import DeviceOffline

    try:
        pad.poll()
        return True
    except DeviceOffline:
        return False
