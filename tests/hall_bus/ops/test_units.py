"""The systemd units of the production install (issue 17, item 1), rendered from hall.toml by
``hallkit deploy units``: the committed examples in docs/deploy/ are exactly what the demo hall renders,
``systemd-analyze verify`` accepts every unit (where the machine has it), and every ``hallkit`` command
line in them parses with today's CLI."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.cli.main import build, main
from hall_bus.ops import units
from tests.helpers import ROOT

DEPLOY = ROOT / "docs" / "deploy"
SAMPLE = {
    "hallkit-window-host@.service": "1",
    "hallkit-locker-host@.service": "lockers-a",
    "hallkit-kiosk@.service": "kiosk-1",
    "hallkit-backup@.service": "demo-hall",
    "hallkit-backup@.timer": "demo-hall",
}


@pytest.fixture(scope="module")
def rendered() -> units.Rendered:
    return units.render(hallconfig.load(ROOT / "hall.toml"))


def ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def test_the_committed_examples_are_what_the_demo_hall_renders(rendered: units.Rendered) -> None:
    for name, text in rendered.files.items():
        assert (DEPLOY / name).read_text(encoding="utf-8") == text, f"docs/deploy/{name}: run `hallkit deploy units`"


def test_the_machines_of_the_demo_hall(rendered: units.Rendered) -> None:
    plan = rendered.machines
    assert plan["hall-server"][:3] == ["hallkit-broker.service", "hallkit-controller.service", "hallkit-web.service"]
    assert plan["kiosk-1"] == ["hallkit-kiosk@kiosk-1.service", "hallkit-locker-host@lockers-a.service"]
    assert plan["window-3"] == ["hallkit-window-host@3.service"]
    assert plan["display"] == ["hallkit-display.service"]
    assert len([m for m in plan if m.startswith("window-")]) == 6


def test_services_run_as_the_hall_user_and_restart(rendered: units.Rendered) -> None:
    for name, text in rendered.files.items():
        if not name.endswith(".service") or name.startswith("hallkit-backup"):
            continue
        svc = ini(text)["Service"]
        assert svc["User"] == ("mosquitto" if name == "hallkit-broker.service" else "hallkit"), name
        screen = name in ("hallkit-kiosk@.service", "hallkit-display.service")
        assert svc["Restart"] == ("always" if screen else "on-failure"), name  # a screen comes back whatever ends it
    controller = ini(rendered.files["hallkit-controller.service"])
    assert "--broker external" in controller["Service"]["ExecStart"]
    assert controller["Service"]["ReadWritePaths"] == "/var/lib/hallkit"
    assert "hallkit-broker.service" in controller["Unit"]["After"]
    kiosk = ini(rendered.files["hallkit-kiosk@.service"])["Service"]
    assert kiosk["TTYPath"] == "/dev/tty1" and kiosk["PAMName"] == "login"


def hallkit_args(text: str, instance: str) -> list[str]:
    """The arguments of the ``hallkit`` command a unit runs (also behind xinit)."""
    line = ini(text)["Service"]["ExecStart"].replace("%i", instance)
    words = shlex.split(line)
    start = next(i for i, w in enumerate(words) if w.endswith("/bin/hallkit")) + 1
    end = words.index("--", start) if "--" in words[start:] else len(words)
    return words[start:end]


def test_every_hallkit_command_line_parses(rendered: units.Rendered) -> None:
    parser = build().parser
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    checked = []
    for name, text in rendered.files.items():
        if not name.endswith(".service") or name == "hallkit-broker.service":
            continue
        args = hallkit_args(text, SAMPLE.get(name, "x"))
        if args[0] not in commands:  # `hallkit web` is being written (another module); its unit waits for it
            assert args[0] == "web", name
            continue
        parser.parse_args(args)
        checked.append(args[0])
    assert {"controller", "window-host", "locker-host", "kiosk", "backup"} <= set(checked)


def stub(tmp_path: Path, name: str) -> str:
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


def test_units_verify(rendered: units.Rendered, tmp_path: Path) -> None:
    """systemd-analyze verify on every unit as it would be installed here: this checkout's venv stands in
    for /opt/hallkit/venv, and a stub for xinit or mosquitto where the machine has none (verify checks
    that each ExecStart is executable)."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (no systemd on this machine); the INI checks above ran")
    lay = units.Layout()
    swaps = {lay.venv: sys.prefix}
    for binary in (lay.xinit, lay.mosquitto):
        if not os.access(binary, os.X_OK):
            swaps[binary] = stub(tmp_path, Path(binary).name)
    names = []
    for name, text in rendered.files.items():
        if not name.startswith("hallkit-"):
            continue
        for old, new in swaps.items():
            text = text.replace(old, new)
        (tmp_path / name).write_text(text, encoding="utf-8")
        names.append(str(tmp_path / name.replace("@.", f"@{SAMPLE.get(name, 'x')}.")))
    out = subprocess.run([tool, "verify", *names], capture_output=True, text=True, timeout=60)
    problems = [line for line in out.stderr.splitlines() if "hallkit-" in line]
    assert out.returncode == 0 and problems == [], out.stderr


def test_hallkit_deploy_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "units"
    rc = main(["deploy", "units", "--config", str(ROOT / "hall.toml"), "--out", str(out), "--venv", "/srv/hk/venv/"])
    assert rc == 0
    said = capsys.readouterr().out
    assert "kiosk-1: hallkit-kiosk@kiosk-1.service hallkit-locker-host@lockers-a.service" in said
    assert "note: [hall] data_dir is" in said  # the demo hall keeps its state in the checkout
    controller = (out / "hallkit-controller.service").read_text()
    assert "ExecStart=/srv/hk/venv/bin/hallkit controller --config /etc/hallkit/hall.toml" in controller
    assert (out / "machines.txt").read_text().startswith("# The machines of demo-hall")
