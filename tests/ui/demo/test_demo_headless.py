"""The demo hall runs headless: tickets are issued and called through the embedded broker."""

from __future__ import annotations

import subprocess
import sys

from ui.demo.hall import DemoHall


def test_demo_hall_issues_and_calls(hall_toml) -> None:
    lines: list[str] = []
    hall = DemoHall(hall_toml, speed=600, arrivals_per_min=3, seed=7, print_calls=lines.append).start()
    try:
        hall._stop.wait(4)
        hall.halt()  # citizens and clerks stop before the figures are read
        summary = hall.summary()
    finally:
        hall.stop()
    assert hall.stats.issued > 5 and hall.stats.calls > 3
    assert any("号窗口办理" in line for line in lines)
    assert f"{hall.stats.issued} tickets issued" in summary


def test_demo_command_headless() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "hall_bus.cli.main",
            "demo",
            "--headless",
            "--duration",
            "3",
            "--speed",
            "600",
            "--arrivals",
            "3",
            "--seed",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "opening hours ignored" in out.stdout
    assert "请 " in out.stdout and any(
        line.startswith("demo hall") and "tickets issued" in line for line in out.stdout.splitlines()
    )
