"""Issue 17, "Must show": the wheel installed into a fresh venv outside the checkout runs a hall server
and stations that have only their own small files, each a separate process of the installed ``hallkit``.

* The hall server's directory: hall.toml; ``hallkit bus credentials`` writes bus/ (the hall CA,
  passwords, ACL, mosquitto.conf); mosquitto runs that configuration (TLS only); ``hallkit controller``.
  The server's own processes reach the broker at 127.0.0.1.
* The stations reach the hall server at 127.0.0.2 (its address on the hall's network, as another
  machine would: the broker certificate names it). Each station directory holds only station.toml,
  the hall CA and its own password; the layout comes from the controller's retained state/hall.
* A window PC's ``hallkit window-host --station`` is started before the controller: it says that it
  waits for the hall layout, then runs window 5's caller and display (its own [[devices]]).
* The kiosk station issues a ticket (``hallkit ticket issue --station``, logged in as kiosk-1) and
  the window station calls it (``hallkit window call --station``, as window-5); SIGTERM stops both
  long-running processes with exit code 0.
"""

from __future__ import annotations

import json
import os
import pwd
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from hall_bus.bus import tls
from hall_bus.bus.brokers import find_mosquitto, free_port
from hall_bus.ops.station import STATION_FILE
from tests.hall_bus.ops.test_wheel_install import install_wheel, run

SERVER = "127.0.0.1"  # the hall server's processes reach their broker here
LAN = "127.0.0.2"  # the stations reach the hall server here

STATION = """
[station]
hall = "{hall}"
id = "{id}"
role = "{role}"
data_dir = "var"

[bus]
host = "{host}"
port = {port}
tls = true
credentials_dir = "."
{devices}"""

WINDOW_5_DEVICES = """
[[devices]]
id = "window-5-caller"
kind = "caller"
url = "sim://caller?address=1"
profile = "generic-caller"
host = "window-5"
window = 5

[[devices]]
id = "window-5-display"
kind = "display"
url = "sim://display?address=1"
profile = "generic-led-2line"
host = "window-5"
window = 5
"""


class Process:
    """A long-running command whose stdout and stderr lines are collected as they come."""

    def __init__(self, *cmd: str | Path, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [str(c) for c in cmd], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def expect(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not seen within {timeout:g} s; got: {self.seen[-20:]}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def hall_server(root: Path, tmp_hall: Path, hallkit: Path) -> tuple[Path, str, int]:
    """The hall server's /etc/hallkit: hall.toml whose [bus] is TLS with credentials, and bus/ written by
    the installed ``hallkit bus credentials``. Its directory, the hall id and the broker port."""
    etc = root / "hall-server"
    etc.mkdir()
    head, rest = tmp_hall.read_text(encoding="utf-8").split("[bus]\n", 1)
    rest = rest[rest.index("\n[") :]  # the test's [bus] section is replaced
    port = free_port(SERVER)
    bus = (
        f'[bus]\nbroker = "external"\nhost = "{SERVER}"\nport = {port}\ntls = true\n'
        f'credentials_dir = "{etc / "bus"}"\nbroker_names = ["{SERVER}", "{LAN}"]\n'
    )
    (etc / "hall.toml").write_text(head + bus + rest, encoding="utf-8")
    run(hallkit, "bus", "credentials", "--config", "hall.toml", "--out", etc / "bus", cwd=etc)
    hall = next(line.split('"')[1] for line in head.splitlines() if line.startswith("id = "))
    return etc, hall, port


def station(root: Path, server: Path, hall: str, port: int, client: str, role: str, devices: str = "") -> Path:
    """A station PC's /etc/hallkit: its station file, the hall CA and its own password, nothing else."""
    home = root / client
    home.mkdir()
    text = STATION.format(hall=hall, id=client, role=role, host=LAN, port=port, devices=devices)
    (home / STATION_FILE).write_text(text, encoding="utf-8")
    shutil.copy2(server / "bus" / tls.CA_CERT, home / tls.CA_CERT)
    shutil.copy2(server / "bus" / f"{client}.password", home / f"{client}.password")
    assert sorted(p.name for p in home.iterdir()) == sorted([STATION_FILE, tls.CA_CERT, f"{client}.password"])
    return home


def broker_conf(root: Path, server: Path) -> Path:
    """The mosquitto.conf `hallkit bus credentials` wrote; run as root (a CI container), mosquitto would drop
    to the user `mosquitto`, which cannot read the test's directory: it stays the current user."""
    conf = server / "bus" / "mosquitto.conf"
    if os.geteuid() != 0:
        return conf
    copy = root / "broker-as-root.conf"
    copy.write_text(f"user {pwd.getpwuid(os.geteuid()).pw_name}\n" + conf.read_text(), encoding="utf-8")
    return copy


def listening(host: str, port: int, broker: Process, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    broker.kill()
    out = [broker.lines.get() for _ in range(broker.lines.qsize())]
    raise AssertionError(f"nothing listens on {host}:{port}: {out}")


def test_a_kiosk_and_a_window_station_run_from_their_own_files(tmp_path: Path, tmp_hall: Path) -> None:
    mosquitto = find_mosquitto()
    if mosquitto is None:
        pytest.fail("mosquitto is not installed; run the tests with `bash run.sh test`", pytrace=False)
    hallkit, _ = install_wheel(tmp_path)
    server, hall, port = hall_server(tmp_path, tmp_hall, hallkit)
    kiosk = station(tmp_path, server, hall, port, "kiosk-1", "kiosk")
    window = station(tmp_path, server, hall, port, "window-5", "window", WINDOW_5_DEVICES)

    procs: list[Process] = []
    try:
        broker = Process(mosquitto, "-c", broker_conf(tmp_path, server), cwd=server)
        procs.append(broker)
        listening(SERVER, port, broker)

        host = Process(hallkit, "window-host", "--station", window, cwd=window)  # before the controller
        procs.append(host)
        host.expect("window-5: waiting for the hall layout (state/hall)", timeout=20)

        controller = Process(hallkit, "controller", "--config", "hall.toml", "--broker", "external", cwd=server)
        procs.append(controller)
        controller.expect(f"hall controller for {hall}")
        host.expect("window 5: caller window-5-caller", timeout=30)  # its devices from its own file

        checked = run(hallkit, "station", "check", kiosk, cwd=kiosk)
        assert checked.startswith(f"{hall} (") and f"at {LAN}:{port} over TLS" in checked

        issued = json.loads(run(hallkit, "ticket", "issue", "gongan-hukou", "--station", kiosk, "--json", cwd=kiosk))
        called = json.loads(run(hallkit, "window", "call", "5", "--station", window, "--json", cwd=window))
        assert called["ticket"]["code"] == issued["ticket"]["code"]
        assert issued["ticket"]["channel"] == "cli" and issued["hall_name"]

        assert host.stop() == 0
        assert controller.stop() == 0
    finally:
        for proc in reversed(procs):
            proc.kill()
