"""The tree's own checks, run with the suite: ruff (lint and format) and mypy, as configured in
pyproject.toml. A failure prints the tool's findings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    out = run("ruff", "check", "--no-cache", ".")
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format_is_applied() -> None:
    out = run("ruff", "format", "--check", "--no-cache", ".")
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_finds_nothing() -> None:
    out = run("mypy", "--no-incremental")
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr


def test_no_source_file_over_450_lines() -> None:
    """Long files hide more than one idea; the limit is the architecture's (tests included)."""
    packages = ("drivers", "devices", "hall_bus", "kiosk", "ui", "simulators", "tests", "benchmarks")
    long = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for pkg in packages
        for p in sorted((ROOT / pkg).rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450
    ]
    assert not long, "\n".join(long)
