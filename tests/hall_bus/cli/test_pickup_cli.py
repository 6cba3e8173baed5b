"""``hallkit pickup ...``, ``hallkit cases ...`` and ``hallkit locker-host`` against mosquitto."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.cli.main import main
from hall_bus.config import ConfigError
from hall_bus.features.pickup.config import from_config
from simulators.demo_cases import seed_demo_cases
from tests.hall_bus.features.pickup.pickup_harness import PickupHall
from tests.helpers import ROOT, wait_for


@pytest.fixture
def hall(tmp_hall, bus_factory):
    h = PickupHall(tmp_hall, bus_factory, sim="auto_close_s=0.3").start()  # staff shut doors after 0.3 s
    yield h
    h.stop()


def cli(tmp_hall, mosquitto, *argv: str) -> int:
    return main([*argv, "--config", str(tmp_hall), "--host", mosquitto.host, "--port", str(mosquitto.port)])


def test_seed_deposit_list_overdue_return(hall, tmp_hall, mosquitto, capsys):
    assert seed_demo_cases(hall.controller) == 10  # the demo's cases, loaded through the store
    assert cli(tmp_hall, mosquitto, "cases", "show", "SB20261101001") == 0
    assert "社保卡申领  已办结待领取 (ready)" in capsys.readouterr().out
    assert (
        cli(tmp_hall, mosquitto, "pickup", "deposit", "--case", "SB20261101001", "--size", "M", "--actor", "S0106") == 0
    )
    out = capsys.readouterr().out
    assert "柜格 A04（A列第4格，M）正在打开" in out and "deposited: item 1, case SB20261101001" in out
    assert cli(tmp_hall, mosquitto, "pickup", "notify", "1") == 0
    assert "new pickup code and QR sent" in capsys.readouterr().out
    assert len([n for n in hall.notifier.sent if n.item_id == 1]) == 2
    assert cli(tmp_hall, mosquitto, "pickup", "deposit", "--case", "NOSUCHCASE", "--size", "S") == 1
    assert "unknown_case" in capsys.readouterr().err
    assert cli(tmp_hall, mosquitto, "pickup", "list") == 0
    out = capsys.readouterr().out
    assert "free compartments: S 12, M 7, L 4" in out and "SB20261101001" in out and "待取件" in out
    assert cli(tmp_hall, mosquitto, "pickup", "overdue") == 0
    assert "0 item(s) not collected within 7 day(s)" in capsys.readouterr().out
    assert cli(tmp_hall, mosquitto, "pickup", "overdue", "--days", "0") == 0
    assert "1 item(s)" in capsys.readouterr().out
    assert cli(tmp_hall, mosquitto, "pickup", "return", "1", "--reason", "overdue") == 0
    assert "returned: item 1, case SB20261101001" in capsys.readouterr().out
    assert cli(tmp_hall, mosquitto, "cases", "show", "SB20261101001") == 0
    assert "已退回窗口 (returned)" in capsys.readouterr().out
    assert cli(tmp_hall, mosquitto, "pickup", "return", "1") == 1
    assert "not_available" in capsys.readouterr().err


def test_locker_host_command_serves_the_controller(tmp_hall, mosquitto, bus_factory):
    root = ROOT
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hall_bus.cli.main",
            "locker-host",
            "--config",
            str(tmp_hall),
            "--device",
            "lockers-a",
            "--host",
            mosquitto.host,
            "--port",
            str(mosquitto.port),
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert "locker host lockers-a: boards [1, 2]" in proc.stdout.readline()
        cfg = hallconfig.load(tmp_hall)
        ctl = bus_factory("controller")
        out = wait_for(lambda: _status(ctl, cfg.hall_id), what="locker.status answer")
        assert out["doors"] == {str(n): "closed" for n in range(1, 25)}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


def _status(bus, hall_id):
    from hall_bus.bus.client import BusError

    try:
        return bus.request(
            "locker.status", {"board": 1}, timeout=2, topic=topics.device_request(hall_id, "lockers-a", "locker.status")
        )
    except BusError:
        return None


@pytest.mark.parametrize(
    "extra, key",
    [
        ({"pickup": {"code_digits": 4}}, "pickup.code_digits"),
        ({"pickup": {"overdue": 3}}, "pickup.overdue"),
        ({"lockers": [{"id": "x", "device": "kiosk-1-printer", "compartments": []}]}, "lockers[0].device"),
        (
            {
                "lockers": [
                    {
                        "id": "x",
                        "device": "lockers-a",
                        "compartments": [{"no": "A1", "board": 3, "lock": 1, "size": "S"}],
                    }
                ]
            },
            "lockers[0].compartments[0].board",
        ),
        (
            {
                "lockers": [
                    {
                        "id": "x",
                        "device": "lockers-a",
                        "compartments": [{"no": "A1", "board": 1, "lock": 1, "size": "XL"}],
                    }
                ]
            },
            "lockers[0].compartments[0].size",
        ),
        (
            {
                "lockers": [
                    {
                        "id": "x",
                        "device": "lockers-a",
                        "compartments": [
                            {"no": "A1", "board": 1, "lock": 1, "size": "S"},
                            {"no": "A2", "board": 1, "lock": 1, "size": "S"},
                        ],
                    }
                ]
            },
            "lockers[0].compartments[1].lock",
        ),
    ],
)
def test_bad_pickup_settings_name_the_key(tmp_hall, extra, key):
    import dataclasses

    cfg = hallconfig.load(tmp_hall)
    cfg = dataclasses.replace(cfg, extra={**cfg.extra, **extra})
    with pytest.raises(ConfigError) as exc:
        from_config(cfg)
    assert exc.value.key == key and str(tmp_hall) in str(exc.value)
