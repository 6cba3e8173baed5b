"""A window's keypad, display and pad on one RS485 line (one port, told apart by address)."""

from __future__ import annotations

import dataclasses
import queue
import time
import uuid
from pathlib import Path

import pytest

from devices.conformance import suite as conformance
from drivers import hallframe as hf
from drivers.caller import CallerDriver
from drivers.display import DisplayDriver
from drivers.transport import open_transport
from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.controller.service import HallController
from hall_bus.hosts.window_host import WindowHost
from simulators.base import serve_pty
from simulators.hallbus import HallBusSimulator
from tests.helpers import wait_for


def test_links_on_one_line_keep_each_others_events() -> None:
    sim = HallBusSimulator({"caller": "1", "display": "2", "baud": "19200"})
    served = serve_pty(sim)
    port = open_transport(served.url, baudrate=19200, timeout=0.05)
    try:
        line = hf.HallLine(port)
        caller, display = CallerDriver(hf.HallLink(line, 1)), DisplayDriver(hf.HallLink(line, 2))
        sim.child("caller").press("call_next")
        time.sleep(0.1)  # the key event is on the line while the display is being talked to
        for i in range(3):
            display.show_line(i % 2, f"第{i}行")
        assert sim.child("display").lines == ["第2行", "第1行"]
        assert [k.key for k in caller.poll(0.5)] == ["call_next"]  # kept for the keypad, then acknowledged
        assert wait_for(lambda: not sim.child("caller").pending)
        caller.show_text("A001 已呼叫")
        assert sim.child("caller").text == "A001 已呼叫" and sim.child("display").lines[0] == "第2行"
    finally:
        port.close()
        served.stop()


def test_hallbus_simulator_checks_its_addresses() -> None:
    with pytest.raises(ValueError, match="unique"):
        HallBusSimulator({"caller": "1", "display": "1"})
    with pytest.raises(ValueError, match="at least one"):
        HallBusSimulator({})


def test_conformance_of_one_device_on_a_shared_line() -> None:
    results = conformance.run("display", "sim://hallbus?caller=1&display=2&line_rate=0", options={"address": "2"})
    assert results and all(r.passed for r in results), [(r.name, r.detail) for r in results if not r.passed]


def test_window_host_with_its_devices_on_one_line(tmp_hall: Path, bus_factory, hall_id: str) -> None:
    url = "sim://hallbus?caller=1&display=2&pad=3&baud=19200"
    addresses = {"window-1-caller": 1, "window-1-display": 2, "window-1-pad": 3}
    cfg = hallconfig.load(tmp_hall)
    cfg = dataclasses.replace(
        cfg,
        devices=tuple(
            dataclasses.replace(d, url=url, options={**d.options, "address": addresses[d.id], "baudrate": 19200})
            if d.id in addresses
            else d
            for d in cfg.devices
        ),
    )
    ctl = HallController(cfg, bus_factory("controller")).start()
    host = WindowHost(cfg, 1, bus_factory("window-1")).start()
    try:
        line = host.caller.port.simulator
        assert host.display.port is host.caller.port is host.pad.port  # one port for the three
        caller_sim, display_sim, pad_sim = line.child("caller"), line.child("display"), line.child("pad")
        bus_factory("kiosk-1").request(
            "ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]}
        )
        caller_sim.press("call_next")
        assert wait_for(lambda: display_sim.lines == ["请 A001 号", "到1号窗口"]), display_sim.lines
        assert wait_for(lambda: caller_sim.text == "A001 已呼叫"), caller_sim.text
        evaluations: queue.Queue = queue.Queue()
        watcher = bus_factory("controller")  # only the controller sends device requests
        watcher.subscribe(
            topics.device_event(hall_id, "window-1-pad", "evaluation"), lambda t, e: evaluations.put(e.data)
        )
        time.sleep(0.2)
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
        caller_sim.press("start")  # a key and a rating at the same moment, on the same wires
        pad_sim.press(5, "efficiency")
        ev = evaluations.get(timeout=5)
        assert (ev["ticket"], ev["level"], ev["reason"], ev["timed_out"]) == ("A001", 5, "efficiency", False)
        assert wait_for(lambda: display_sim.lines[0] == "A001 办理中"), display_sim.lines
    finally:
        host.stop()
        ctl.stop()
    from devices import halldev

    assert all(key[0] != url for key in halldev._lines)  # the last device to close closed the port


def test_a_lost_line_is_reopened_once_for_all_its_devices() -> None:
    from devices.base import DeviceError, DeviceState
    from devices.caller import CallerKeypad
    from devices.config import DeviceConfig
    from devices.display import WindowDisplay
    from simulators.base import serve_tcp

    served = serve_tcp(HallBusSimulator({"caller": "1", "display": "2", "line_rate": "0"}))
    url, tcp_port = served.url, served.port
    caller = CallerKeypad(DeviceConfig(id="c", kind="caller", url=url, options={"address": 1})).open()
    display = WindowDisplay(DeviceConfig(id="d", kind="display", url=url, options={"address": 2})).open()
    for dev in (caller, display):
        dev.backoff_min_s = 0.05
    try:
        assert caller.port is display.port
        served.stop()  # the serial server is switched off
        with pytest.raises(DeviceError):
            for _ in range(3):
                display.show("一")
        with pytest.raises(DeviceError):
            for _ in range(50):
                caller.poll(0.05)
        served = serve_tcp(HallBusSimulator({"caller": "1", "display": "2", "line_rate": "0"}), port=tcp_port)

        def back() -> bool:
            try:
                display.show("回来了")
                caller.heartbeat()
                return True
            except DeviceError:
                return False

        assert wait_for(back, 10)
        assert caller.port is display.port and caller.state == display.state == DeviceState.READY
        assert served.device.child("display").lines[0] == "回来了"
    finally:
        caller.close()
        display.close()
        served.stop()
