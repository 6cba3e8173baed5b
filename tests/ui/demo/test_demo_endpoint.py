"""The README's commands reach a running demo: it writes where its broker listens, the CLI finds it."""

from __future__ import annotations

import subprocess
import sys

from hall_bus import config as hallconfig
from hall_bus.bus import endpoint
from tests.helpers import ROOT
from ui.demo.hall import DemoHall


def hallkit(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "hall_bus.cli.main", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_cli_commands_reach_a_running_demo(tmp_path) -> None:
    text = (ROOT / "hall.toml").read_text(encoding="utf-8")
    (tmp_path / "hall.toml").write_text(text.replace('data_dir = "var"', f'data_dir = "{tmp_path / "var"}"'), "utf-8")
    config = tmp_path / "hall.toml"
    hall = DemoHall(config, arrivals_per_min=0.0, seed=1, print_calls=None, with_devices=False).start()
    try:
        found = endpoint.find(tmp_path / "var", "demo-hall")
        assert found is not None and found.port == hall.config.bus.port != hallconfig.load(config).bus.port
        issued = hallkit("ticket", "issue", "shebao-card", "--config", str(config))
        assert issued.returncode == 0, issued.stderr
        assert issued.stdout.startswith("issued A")
        listed = hallkit("windows", "list", "--config", str(config))
        assert listed.returncode == 0 and "shebao" in listed.stdout, listed.stderr
        called = hallkit("window", "call", "1", "--config", str(config))  # the demo's clerks may be quicker
        assert called.returncode == 0 and ("1 号窗口" in called.stdout or "window 1" in called.stdout), called
    finally:
        hall.stop()
    assert not (tmp_path / "var" / endpoint.FILE).exists()  # gone with the demo
    assert endpoint.find(tmp_path / "var", "demo-hall") is None
