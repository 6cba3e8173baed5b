"""The production install's first steps (docs/deploy.md, "Install"), as a technician runs them: a wheel
built from the repository, installed into a fresh virtualenv outside the checkout, whose ``hallkit``
(not the checkout's) reports its version, renders the units and runs the hall controller over TLS
from a directory of its own; a kiosk issues a ticket and a window calls it; SIGTERM stops it (exit 0).

The dependencies (Kivy, OpenCV ...) are not downloaded again: the fresh venv sees the checkout venv's
site-packages through a ``.pth`` line (a directory added that way is not a site directory, so the
checkout's editable install of hallkit stays out of it: ``hall_bus`` comes from the wheel)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path

from hall_bus import config as hallconfig
from tests.helpers import ROOT

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "kiosk", "devices", "drivers", "hall_bus", "ui", "simulators")


def run(*cmd: str | Path, cwd: Path, timeout: float = 120) -> str:
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd}: {out.stdout[-2000:]}{out.stderr[-3000:]}"
    return out.stdout


def install_wheel(tmp_path: Path) -> tuple[Path, str]:
    """Build the wheel from a copy of the sources and install it into a fresh venv under ``tmp_path/opt``
    (the dependencies seen through a ``.pth`` line): its ``hallkit`` and the wheel's version."""
    src = tmp_path / "src"  # a copy: a wheel built in the checkout would leave build/ there
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, ".", cwd=src)
    [wheel] = dist.glob("hallkit-*-py3-none-any.whl")

    venv = tmp_path / "opt" / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    py = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-deps", wheel, cwd=tmp_path)
    site = Path(run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip())
    (site / "checkout-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = run(py, "-c", "import hall_bus; print(hall_bus.__file__)", cwd=tmp_path)
    assert where.startswith(str(site)), where  # hall_bus comes from the wheel, not the checkout
    return venv / "bin" / "hallkit", wheel.name.split("-")[1]


def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path, tmp_hall: Path, mosquitto, bus_factory):
    hallkit, version = install_wheel(tmp_path)
    station = tmp_path / "hall-server"  # outside the checkout: only hall.toml
    station.mkdir()
    shutil.copy2(tmp_hall, station / "hall.toml")
    assert run(hallkit, "--version", cwd=station).strip() == f"hallkit {version}"
    run(hallkit, "deploy", "units", "--config", "hall.toml", "--out", "units", cwd=station)
    assert (station / "units" / "hallkit-controller.service").exists()

    cfg = hallconfig.load(station / "hall.toml")
    args = ["controller", "--config", "hall.toml", "--broker", "external", "--host", mosquitto.host]
    proc = subprocess.Popen(
        [hallkit, *args, "--port", str(mosquitto.port)], cwd=station, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith(f"hall controller for {cfg.hall_id}")
        kiosk, manager = bus_factory("kiosk-1"), bus_factory("manager")
        key = uuid.uuid4().hex[:16]
        issued = kiosk.request("ticket.issue", {"service": "gongan-hukou", "idempotency_key": key}, timeout=15)
        called = manager.request("window.call", {"window": 5})
        assert called["ticket"]["id"] == issued["ticket"]["id"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
