"""The hall commands of the ``hallkit`` CLI, over the bus against a running controller."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.cli.main import main
from hall_bus.controller.service import HallController


@pytest.fixture
def running(tmp_hall: Path, bus_factory, mosquitto):
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    yield ["--config", str(tmp_hall), "--host", mosquitto.host, "--port", str(mosquitto.port)]
    ctl.stop()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_ticket_and_window_commands(running, capsys) -> None:
    rc, out, _ = run(capsys, "ticket", "issue", "shebao-card", *running)
    assert rc == 0 and out.startswith("issued A001")
    rc, out, _ = run(capsys, "ticket", "issue", "shebao-card", "--key", "cli-same-key-1", *running)
    rc, again, _ = run(capsys, "ticket", "issue", "shebao-card", "--key", "cli-same-key-1", *running)
    assert out.split()[1] == again.split()[2] == "A002" and again.startswith("already issued")
    rc, out, _ = run(capsys, "window", "call", "1", "--staff", "S001", *running)
    assert rc == 0 and out.strip() == "请 A001 号到 1 号窗口办理"
    rc, out, _ = run(capsys, "window", "no-show", "1", *running)
    assert "A001 no_show" in out
    rc, out, _ = run(capsys, "windows", "list", *running)
    assert rc == 0 and out.splitlines()[1].split()[:2] == ["1", "idle"]
    rc, out, _ = run(capsys, "windows", "assign", "1", "yibao", "shebao", "--actor", "li", *running)
    assert "now serves yibao shebao" in out
    rc, out, err = run(capsys, "windows", "assign", "4", "shebao", *running)
    assert rc == 1 and "skill_mismatch" in err
    rc, out, _ = run(capsys, "queue", *running)
    assert "shebao" in out


def test_unknown_service_is_a_clear_error(running, capsys) -> None:
    rc, _, err = run(capsys, "ticket", "issue", "no-such-service", *running)
    assert rc == 1 and "no-such-service" in err


def test_no_broker_is_a_clear_error(tmp_hall: Path, capsys) -> None:
    from hall_bus.bus.brokers import free_port

    rc, _, err = run(capsys, "windows", "list", "--config", str(tmp_hall), "--port", str(free_port()), "--timeout", "1")
    assert rc == 2 and "cannot reach the hall bus" in err


def test_controller_command_runs_its_own_broker(tmp_hall: Path, tmp_path: Path) -> None:
    """`hallkit controller` with the embedded broker, then a CLI client against it, as separate processes.
    (amqtt speaks plain MQTT: this hall runs without TLS, as the zero-install demo does.)"""
    from hall_bus.bus.brokers import free_port

    plain = tmp_path / "plain-hall.toml"
    plain.write_text(tmp_hall.read_text(encoding="utf-8").replace("tls = true", "tls = false", 1), encoding="utf-8")
    tmp_hall = plain
    port = str(free_port())
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hall_bus.cli.main",
            "controller",
            "--config",
            str(tmp_hall),
            "--broker",
            "embedded",
            "--port",
            port,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        lines = []
        for _ in range(20):
            lines.append(proc.stdout.readline())
            if "hall controller for" in lines[-1]:
                break
        assert "hall controller for" in lines[-1], lines
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "hall_bus.cli.main",
                "ticket",
                "issue",
                "zonghe-consult",
                "--config",
                str(tmp_hall),
                "--port",
                port,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("issued F001")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
