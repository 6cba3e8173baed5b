"""The systemd units of the production install (issue 17, item 1), rendered from hall.toml by
``hallkit deploy units``: the committed examples in docs/deploy/ are exactly what the demo hall renders,
``systemd-analyze verify`` accepts every unit (where the machine has it), every ``hallkit`` command
line in them parses with today's CLI, the station units run with ``--station`` (a station machine has
no hall.toml), and each station unit's command, run as written from station directories made from the
demo hall.toml by ``hallkit deploy stations``, starts against a hall server with TLS and the generated ACL.

After a change of hall_bus/ops/units.py, re-render the examples:
``hallkit deploy units --config hall.toml --out docs/deploy/``."""

from __future__ import annotations

import configparser
import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import ImageGrab

from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.bus.brokers import Mosquitto, free_port
from hall_bus.bus.client import BusClient
from hall_bus.bus.connect import bus_settings
from hall_bus.bus.credentials import mosquitto_conf, write_credentials
from hall_bus.cli.main import build, main
from hall_bus.controller.service import HallController
from hall_bus.ops import units
from hall_bus.ops.station import STATION_FILE, read_station
from tests.hall_bus.ops.test_station_wheel import Process
from tests.helpers import ROOT

DEPLOY = ROOT / "docs" / "deploy"
SAMPLE = {
    "hallkit-window-host@.service": "1",
    "hallkit-locker-host@.service": "lockers-a",
    "hallkit-kiosk@.service": "kiosk-1",
    "hallkit-backup@.service": "demo-hall",
    "hallkit-backup@.timer": "demo-hall",
}

STATION_UNITS = {  # unit -> (its instance, the station's bus client id and role)
    "hallkit-kiosk@.service": ("kiosk-1", "kiosk-1", "kiosk"),
    "hallkit-display.service": ("", "display", "display"),
    "hallkit-window-host@.service": ("1", "window-1", "window"),
    "hallkit-locker-host@.service": ("lockers-a", "lockers-a", "locker"),
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


def test_station_units_read_their_station_dir_and_the_server_units_hall_toml(rendered: units.Rendered) -> None:
    """A station machine has no hall.toml: its units run with --station (docs/deploy.md)."""
    for name, (instance, client, _) in STATION_UNITS.items():
        unit = ini(rendered.files[name])
        args = hallkit_args(rendered.files[name], instance)
        assert "--config" not in args and args[1:3] == ["--station", f"/etc/hallkit/stations/{client}"], name
        needs = unit["Unit"]["ConditionPathExists"].replace("%i", instance)
        assert needs == f"/etc/hallkit/stations/{client}/station.toml", name
    for name in ("hallkit-controller.service", "hallkit-web.service", "hallkit-backup@.service"):
        args = hallkit_args(rendered.files[name], "hall")
        assert args[1:3] == ["--config", "/etc/hallkit/hall.toml"], name


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


@pytest.fixture
def hall_server(tmp_path: Path, tmp_hall: Path):
    """The hall server: the demo hall.toml with the installed [bus] (an external mosquitto with the
    credentials `hallkit bus credentials` writes, TLS), that broker, and the controller."""
    head, rest = tmp_hall.read_text(encoding="utf-8").split("[bus]\n", 1)
    rest = rest[rest.index("\n[") :]  # the demo's [bus] section is replaced
    creds = tmp_path / "server" / "bus"
    bus = (
        f'[bus]\nbroker = "external"\nhost = "127.0.0.1"\nport = {free_port()}\ntls = true\n'
        f'credentials_dir = "{creds}"\nbroker_names = ["127.0.0.1"]\n'
    )
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "hall.toml").write_text(head + bus + rest, encoding="utf-8")
    config = hallconfig.load(tmp_path / "server" / "hall.toml")
    write_credentials(config, creds)
    broker = Mosquitto(
        host="127.0.0.1", port=config.bus.port, extra_conf=mosquitto_conf(creds), allow_anonymous=False, tls_dir=creds
    ).start()
    controller = HallController(config, BusClient(config.hall_id, "controller", bus_settings(config, "controller")))
    controller.start()
    yield config, creds
    controller.stop()
    broker.close()


@contextlib.contextmanager
def x_server() -> Iterator[str]:
    """An X server of a kiosk's screen (1080x1920), as xinit would start one; yields its DISPLAY."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1080x1920x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as got:
            yield f":{got.readline().strip()}"
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


def painted(display: str, proc: Process, timeout: float = 90.0) -> int:
    """Wait until the app has drawn its screen on ``display`` (a bare X server is one colour); its colours."""
    deadline = time.monotonic() + timeout
    colours = 1
    while time.monotonic() < deadline and proc.proc.poll() is None:
        colours = len(ImageGrab.grab(xdisplay=display).getcolors(1 << 24) or [])
        if colours > 100:
            return colours
        time.sleep(0.5)
    raise AssertionError(f"nothing drawn on {display} (exit {proc.proc.poll()}): {list(proc.lines.queue)[-10:]}")


def test_the_station_units_start_from_their_station_dirs(
    rendered: units.Rendered,
    hall_server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each station unit's ExecStart, with its Environment, run as it is written but for the paths:
    /etc/hallkit/stations holds the station directories `hallkit deploy stations` writes from the
    hall server's hall.toml (the demo hall's, installed), /opt/hallkit/venv is
    this checkout's venv. The kiosk's and the display's command is what xinit runs as the X client: here
    on an X server of its own. Each logs in as its station, learns the layout from the controller and
    runs (the screens drawn) until stopped."""
    config, creds = hall_server
    lay = units.Layout()
    stations = tmp_path / "stations"
    clients = [client for _, client, _ in STATION_UNITS.values()]
    argv = ["deploy", "stations", "--config", config.source, "--out", str(stations), "--data-dir", "var"]
    assert main([*argv, "--only", *clients]) == 0
    said = capsys.readouterr().out
    assert "lockers-a: locker on machine kiosk-1, hallkit-locker-host@lockers-a.service" in said
    assert "hall secret pickup.secret" in said  # the locker host checks the controller's commands with it
    for _, client, role in STATION_UNITS.values():
        assert read_station(stations / client / STATION_FILE).station.role == role
        assert (stations / client / f"{client}.password").read_bytes() == (creds / f"{client}.password").read_bytes()
    secret = Path(config.data_dir) / "pickup.secret"
    assert (stations / "lockers-a" / "var" / secret.name).read_bytes() == secret.read_bytes().strip()

    online: dict[str, bool] = {}
    manager = BusClient(config.hall_id, "manager", bus_settings(config, "manager")).start()
    manager.subscribe(
        f"{topics.hall(config.hall_id)}/client/+/availability",
        lambda t, env: online.update({t.split("/")[-2]: env.state == "online"}),
    )
    procs: dict[str, Process] = {}
    screens: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        stack.callback(manager.stop)
        for name, (instance, client, _) in STATION_UNITS.items():
            text = rendered.files[name].replace(lay.stations, str(stations)).replace(lay.venv, sys.prefix)
            for key, value in re.findall(r"^Environment=(\w+)=(.*)$", text, re.M):
                monkeypatch.setenv(key, value.replace(lay.state, str(tmp_path / "state")))
            args = hallkit_args(text, instance)
            assert args[:3] == [args[0], "--station", str(stations / client)], args
            if args[0] == "kiosk":
                screens[client] = stack.enter_context(x_server())
                monkeypatch.setenv("DISPLAY", screens[client])
            procs[client] = Process(f"{sys.prefix}/bin/hallkit", *args, cwd=tmp_path)
            stack.callback(procs[client].kill)
        assert sorted(screens) == ["display", "kiosk-1"]
        procs["window-1"].expect("window 1: pad window-1-pad (ready), caller window-1-caller (ready)", timeout=60)
        procs["lockers-a"].expect("locker host lockers-a: boards [1, 2]", timeout=60)
        for client, display in screens.items():
            painted(display, procs[client])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(online.get(c) for c in procs):
            time.sleep(0.1)
        assert {c: online.get(c) for c in procs} == dict.fromkeys(procs, True)
        time.sleep(3)  # still running
        assert {c: p.proc.poll() for c, p in procs.items()} == dict.fromkeys(procs), {
            c: list(p.lines.queue)[-10:] for c, p in procs.items()
        }
        assert procs["window-1"].stop() == 0 and procs["lockers-a"].stop() == 0
