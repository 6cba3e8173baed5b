"""Technician commands for pad/caller/display, conformance over a pty and TCP, and a window host that
outlives a missing display and shows clerks' names it cannot encode."""

from __future__ import annotations

import dataclasses
import socket
import uuid
from pathlib import Path

import pytest

from devices.base import DeviceState
from devices.conformance import suite as conformance
from drivers import hallframe as hf
from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.cli.main import main
from hall_bus.controller.service import HallController
from hall_bus.hosts.window_host import WindowHost
from simulators.base import serve_pty, serve_tcp
from simulators.caller import CallerSimulator
from simulators.display import DisplaySimulator
from simulators.pad import PadSimulator
from tests.helpers import ROOT, wait_for


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_display_commands_over_a_pty(capsys) -> None:
    sim = DisplaySimulator({"line_rate": "0"})
    served = serve_pty(sim)
    try:
        rc, _, err = run(
            capsys, "device", "display", "show", "--url", served.url, "请 A001 号", "到3号窗口办理业务谢谢"
        )
        assert rc == 0, err
        assert sim.lines == ["请 A001 号", "到3号窗口办理业务谢谢"]
        assert sim.effects == ["static", "scroll"]  # wider than the 8 characters of generic-led-2line
        rc, _, _ = run(capsys, "device", "display", "brightness", "--url", served.url, "3")
        assert rc == 0 and sim.brightness == 3
        rc, _, err = run(capsys, "device", "display", "brightness", "--url", served.url, "22")
        assert rc != 0 and "0..15" in err and err.count("\n") == 1 and sim.brightness == 3
        rc, _, err = run(capsys, "device", "display", "show", "--url", served.url, "一", "二", "三")
        assert rc == 1 and "has 2" in err and sim.lines[0] == "请 A001 号"
        rc, _, _ = run(capsys, "device", "display", "clear", "--url", served.url)
        assert rc == 0 and sim.lines == ["", ""]
    finally:
        served.stop()


def test_caller_commands(capsys) -> None:
    rc, out, _ = run(
        capsys,
        "device",
        "caller",
        "listen",
        "--url",
        "sim://caller?keys=call_next,transfer:3,pause&every=0.2&line_rate=0",
        "--seconds",
        "1.2",
    )
    assert rc == 0
    assert out.splitlines() == ["key call_next (seq 1)", "key transfer 3 (seq 2)", "key pause (seq 3)"]
    rc, _, err = run(capsys, "device", "caller", "show", "--url", "sim://caller?line_rate=0", "笑\U0001f600")
    assert rc == 1 and "not in GB2312" in err and err.count("\n") == 1
    rc, _, err = run(capsys, "device", "caller", "show", "--url", "socket://127.0.0.1:9", "x")
    assert rc == 1 and err.startswith("hallkit device caller show:") and err.count("\n") == 1


def test_pad_commands_over_tcp(capsys) -> None:
    sim = PadSimulator({"line_rate": "0", "press": "4", "after": "0.2", "seed": "1"})
    served = serve_tcp(sim)
    try:
        rc, _, err = run(
            capsys,
            "device",
            "pad",
            "show",
            "--url",
            served.url,
            "--window",
            "3",
            "--staff-no",
            "S0301",
            "--name",
            "王芳",
        )
        assert rc == 0, err
        assert sim.info == {"window": 3, "staff_no": "S0301", "staff_name": "王芳"}
        rc, out, _ = run(
            capsys, "device", "pad", "evaluate", "--url", served.url, "--ticket", "B012", "--timeout", "20"
        )
        assert rc == 0
        ((ticket, level, reason),) = sim.results
        assert (ticket, level) == ("B012", 4) and out == f"B012: 4 不满意 reason {reason}\n"
        rc, _, err = run(capsys, "device", "pad", "evaluate", "--url", served.url, "--ticket", "TOO-LONG-1")
        assert rc == 1 and "ticket code" in err
    finally:
        served.stop()


@pytest.mark.parametrize("kind", ["pad", "caller", "display"])
@pytest.mark.parametrize("serve", [serve_pty, serve_tcp])
def test_conformance_over_pty_and_tcp(kind: str, serve) -> None:
    sim = {"pad": PadSimulator, "caller": CallerSimulator, "display": DisplaySimulator}[kind]({"baud": "19200"})
    served = serve(sim)
    try:
        results = conformance.run(kind, served.url, 19200)  # the simulator's rate: a 9600 driver is garbled
    finally:
        served.stop()
    assert results and all(r.passed for r in results), [(r.name, r.detail) for r in results if not r.passed]


def test_conformance_fails_a_device_that_ignores_unknown_commands() -> None:
    class Lenient(DisplaySimulator):
        def command(self, cmd: int, data: bytes) -> tuple[int, bytes]:
            return (0, b"") if cmd == 0x3E else super().command(cmd, data)

    served = serve_tcp(Lenient({"line_rate": "0"}))
    try:
        results = {r.name: r for r in conformance.run("display", served.url)}
    finally:
        served.stop()
    assert not results["an unknown command is refused with 02, not ignored"].passed
    assert results["heartbeat is answered with a result code 00"].passed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_display_missing_at_start_shows_the_call_once_it_is_back(tmp_hall: Path, bus_factory) -> None:
    port = free_port()
    cfg = hallconfig.load(tmp_hall)
    cfg = dataclasses.replace(
        cfg,
        devices=tuple(
            dataclasses.replace(d, url=f"socket://127.0.0.1:{port}") if d.id == "window-1-display" else d
            for d in cfg.devices
        ),
    )
    ctl = HallController(cfg, bus_factory("controller")).start()
    host = WindowHost(cfg, 1, bus_factory("window-1")).start()
    served = None
    try:
        assert host.display.state == DeviceState.OFFLINE
        caller_sim = host.caller.port.simulator
        bus_factory("kiosk-1").request(
            "ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]}
        )
        caller_sim.press("call_next")  # the keypad works without the display
        assert wait_for(lambda: caller_sim.text == "A001 已呼叫"), caller_sim.text
        display = DisplaySimulator({"line_rate": "0"})
        served = serve_tcp(display, port=port)  # the display is plugged in
        assert wait_for(lambda: display.lines == ["请 A001 号", "到1号窗口"], 15), display.lines
        assert host.display.state == DeviceState.READY
    finally:
        host.stop()
        ctl.stop()
        if served:
            served.stop()


def test_clerk_names_outside_gb2312_or_too_long_still_reach_the_pad(tmp_hall: Path, bus_factory, hall_id: str) -> None:
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    host = WindowHost(cfg, 1, bus_factory("window-1")).start()
    try:
        pad_sim = host.pad.port.simulator
        pad_sim.plan = ""
        asker = bus_factory("controller")  # only the controller sends device requests
        for i, (name, shown) in enumerate([("李喆", "李□"), ("阿卜杜热依木·买买提江", "阿卜杜热依木·买")]):
            out = asker.request(
                "pad.evaluate",
                {
                    "ticket": f"A00{i + 1}",
                    "ticket_id": i + 1,
                    "window": 1,
                    "staff_name": name,
                    "staff_no": "S0101",
                    "service_name": "社保卡申领",
                    "timeout_s": 30,
                },
                topic=topics.device_request(hall_id, "window-1-pad", "pad.evaluate"),
            )
            assert out == {"accepted": True}
            assert wait_for(lambda i=i: pad_sim.pending_eval is not None and pad_sim.pending_eval[0] == f"A00{i + 1}")
            assert pad_sim.info["staff_name"] == shown
    finally:
        host.stop()
        ctl.stop()


def test_fit_gb2312() -> None:
    assert hf.fit_gb2312("请 A001 号") == "请 A001 号"
    assert hf.fit_gb2312("王喆A", 5) == "王□A"
    assert hf.fit_gb2312("一二三", 5) == "一二"
    with pytest.raises(ValueError, match="'喆' is not in GB2312"):
        hf.gb2312("王喆")


def test_window_host_command_runs_the_windows_devices_on_the_bus(
    tmp_hall: Path, mosquitto, bus_factory, hall_id: str
) -> None:
    import json
    import queue
    import signal
    import subprocess
    import sys

    root = ROOT

    def window_host(window: int) -> list[str]:
        return [sys.executable, "-m", "hall_bus.cli.main", "window-host", "--config", str(tmp_hall)] + [
            *("--window", str(window), "--host", mosquitto.host, "--port", str(mosquitto.port))
        ]

    rc = subprocess.run(
        window_host(99),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rc.returncode != 0 and "99" in rc.stderr and rc.stderr.count("\n") == 1

    watcher = bus_factory("controller")  # only the controller sends device requests
    states: queue.Queue = queue.Queue()
    evaluations: queue.Queue = queue.Queue()
    watcher.subscribe(topics.device_state(hall_id, "window-1-caller"), lambda t, e: states.put(e.data["state"]))
    watcher.subscribe(topics.device_event(hall_id, "window-1-pad", "evaluation"), lambda t, e: evaluations.put(e.data))
    proc = subprocess.Popen(
        window_host(1),
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("window 1: ") and "caller window-1-caller (ready)" in line, line + proc.stderr.read()
        assert wait_for(lambda: "ready" in list(states.queue), 10)
        # the hall.toml pad simulates a citizen who presses 3 s after the request
        out = watcher.request(
            "pad.evaluate",
            {
                "ticket": "A001",
                "ticket_id": 7,
                "window": 1,
                "staff_name": "王芳",
                "staff_no": "S0101",
                "service_name": "社保卡申领",
                "timeout_s": 30,
            },
            topic=topics.device_request(hall_id, "window-1-pad", "pad.evaluate"),
            timeout=10,
        )
        assert out == {"accepted": True}
        ev = evaluations.get(timeout=15)
        assert (ev["ticket"], ev["ticket_id"], ev["window"], ev["timed_out"]) == ("A001", 7, 1, False)
        assert 1 <= ev["level"] <= 5 and json.dumps(ev)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        proc.stdout.close()
        proc.stderr.close()
    assert wait_for(lambda: "offline" in list(states.queue), 10)  # closed on the way out, retained for all to see


def test_heartbeats_show_a_silent_keypad_on_the_bus_and_its_recovery(tmp_hall: Path, bus_factory, hall_id: str) -> None:
    import queue

    cfg = hallconfig.load(tmp_hall)
    watcher = bus_factory("controller")  # only the controller sends device requests
    states: queue.Queue = queue.Queue()
    watcher.subscribe(topics.device_state(hall_id, "window-1-caller"), lambda t, e: states.put(e.data["state"]))
    host = WindowHost(cfg, 1, bus_factory("window-1"), heartbeat_s=0.2).start()
    try:
        sim = host.caller.port.simulator
        sim.faults.no_reply = -1  # the keypad's cable is cut: it hears nothing more... and says nothing
        assert wait_for(lambda: host.caller.state == DeviceState.DEGRADED, 10)
        assert "no reply to command 01" in host.caller.detail
        sim.faults.no_reply = 0
        assert wait_for(lambda: host.caller.state == DeviceState.READY, 10)

        def degraded_then_ready() -> bool:  # as the rest of the hall saw it (retained device state)
            seen = list(states.queue)
            return "degraded" in seen and "ready" in seen[seen.index("degraded") :]

        assert wait_for(degraded_then_ready, 5), list(states.queue)
    finally:
        host.stop()
