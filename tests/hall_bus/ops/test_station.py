"""A kiosk station on a "separate machine" with only its own small file (issue 17, item 2, first step):
the hall server (mosquitto with the hall's passwords, ACL and TLS, and the controller) listens on
127.0.0.2; the station's directory holds only station.toml, the hall CA and its own password. It
learns the hall's layout from the controller's retained state/hall, over TLS with its own login,
and issues a ticket that a window then calls."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import tls
from hall_bus.bus.brokers import Mosquitto, free_port
from hall_bus.bus.client import BusClient
from hall_bus.bus.connect import bus_settings
from hall_bus.bus.credentials import mosquitto_conf, write_credentials
from hall_bus.cli.main import main
from hall_bus.config import ConfigError, HallConfig
from hall_bus.contracts.queue import HallInfo
from hall_bus.controller.service import HallController
from hall_bus.features.pickup.config import from_config as pickup_settings
from hall_bus.ops.station import (
    STATION_FILE,
    StationError,
    fetch_layout,
    load_station,
    read_station,
    station_config,
)

SERVER = "127.0.0.2"  # the hall server; the station reaches it as another machine would

STATION = """
[station]
hall = "{hall}"
id = "kiosk-1"
role = "kiosk"
name = "大厅入口自助机"
data_dir = "var"

[bus]
host = "{host}"
port = {port}
tls = true
credentials_dir = "."

[[devices]]
id = "kiosk-1-printer"
kind = "printer"
url = "sim://printer"
profile = "generic-80mm"
host = "kiosk-1"
"""


@pytest.fixture
def hall_server(tmp_path: Path, tmp_hall: Path):
    """The hall server's /etc/hallkit: hall.toml (the bus on 127.0.0.2 with TLS and credentials) and bus/,
    mosquitto with the configuration `hallkit bus credentials` wrote, and the controller."""
    etc = tmp_path / "server"
    etc.mkdir()
    head, rest = tmp_hall.read_text(encoding="utf-8").split("[bus]\n", 1)
    rest = rest[rest.index("\n[") :]  # the test's [bus] section is replaced
    bus = (
        f'[bus]\nbroker = "external"\nhost = "{SERVER}"\nport = {free_port(SERVER)}\ntls = true\n'
        f'credentials_dir = "{etc / "bus"}"\nbroker_names = ["{SERVER}"]\n'
    )
    (etc / "hall.toml").write_text(head + bus + rest, encoding="utf-8")
    config = hallconfig.load(etc / "hall.toml")
    creds = write_credentials(config, etc / "bus")
    broker = Mosquitto(
        host=SERVER, port=config.bus.port, extra_conf=mosquitto_conf(creds), allow_anonymous=False, tls_dir=creds
    ).start()
    controller = HallController(config, BusClient(config.hall_id, "controller", bus_settings(config, "controller")))
    controller.start()
    yield config, creds, broker
    controller.stop()
    broker.close()


def station_dir(tmp_path: Path, config, creds: Path, port: int) -> Path:
    """The kiosk PC's /etc/hallkit: its station file, the hall CA and its own password, nothing else."""
    home = tmp_path / "kiosk-1"
    home.mkdir()
    (home / STATION_FILE).write_text(STATION.format(hall=config.hall_id, host=SERVER, port=port), encoding="utf-8")
    shutil.copy2(creds / tls.CA_CERT, home / tls.CA_CERT)
    shutil.copy2(creds / "kiosk-1.password", home / "kiosk-1.password")
    return home


def test_a_kiosk_station_with_only_its_own_file(tmp_path: Path, hall_server) -> None:
    config, creds, broker = hall_server
    home = station_dir(tmp_path, config, creds, broker.port)
    assert sorted(p.name for p in home.iterdir()) == ["ca.crt", "kiosk-1.password", "station.toml"]

    station = load_station(home)
    assert station.hall_id == config.hall_id and station.name == config.name
    assert [s.id for s in station.services] == [s.id for s in config.services]
    assert [d.id for d in station.domains] == [d.id for d in config.domains]
    assert [w.number for w in station.windows] == [w.number for w in config.windows]
    assert [d.id for d in station.devices] == ["kiosk-1-printer"]  # its own devices only
    assert station.bus.host == SERVER and station.bus.tls and station.data_dir == str(home / "var")
    # what hall.info carries besides the layout: the hours as data, the issuers, the features' public settings
    assert station.hours == config.hours and station.identity == config.identity
    assert [w.domains for w in station.windows] == [w.domains for w in config.windows]
    assert station.queue.appointment_early_minutes == config.queue.appointment_early_minutes
    assert station.features is not None and set(station.features) == {
        "cases",
        "pickup",
        "tidal",
        "evaluation",
        "booking",
        "mandates",
    }
    assert station.extra["pickup"]["code_digits"] == 6 and station.extra["evaluation"] == {"timeout_s": 60}
    assert station.extra["lockers"] == []  # a kiosk without the bank's device gets no compartments

    kiosk = BusClient(station.hall_id, "kiosk-1", bus_settings(station, "kiosk-1")).start()
    manager = BusClient(config.hall_id, "manager", bus_settings(config, "manager")).start()
    try:
        assert kiosk.wait_connected(10), kiosk.last_error
        assert manager.wait_connected(10), manager.last_error
        issued = kiosk.request("ticket.issue", {"service": "gongan-hukou", "idempotency_key": uuid.uuid4().hex[:16]})
        called = manager.request("window.call", {"window": 5})
        assert called["ticket"]["id"] == issued["ticket"]["id"]
    finally:
        kiosk.stop()
        manager.stop()


def test_hallkit_station_check(tmp_path: Path, hall_server, capsys: pytest.CaptureFixture[str]) -> None:
    config, creds, broker = hall_server
    home = station_dir(tmp_path, config, creds, broker.port)
    assert main(["station", "check", str(home)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{config.hall_id} ({config.name}) at {SERVER}:{broker.port} over TLS")
    assert "devices:  kiosk-1-printer (printer sim://printer)" in out


def test_a_station_with_a_wrong_password_learns_nothing(tmp_path: Path, hall_server) -> None:
    config, creds, broker = hall_server
    home = station_dir(tmp_path, config, creds, broker.port)
    (home / "kiosk-1.password").write_text("not-the-password\n")
    with pytest.raises(StationError, match="no hall layout"):
        fetch_layout(read_station(home / STATION_FILE), timeout=2.0)


def test_the_station_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / STATION_FILE
    path.write_text('[station]\nhall = "demo-hall"\nid = "kiosk-1"\nrole = "printer"\n')
    with pytest.raises(ConfigError) as err:
        read_station(path)
    assert err.value.key == "station.role"


def hall_info_of(tmp_hall: Path) -> tuple[HallConfig, HallInfo]:
    """What a controller of ``tmp_hall`` with every feature attached publishes as state/hall (no bus needed)."""
    config = hallconfig.load(tmp_hall)
    controller = HallController(config, BusClient(config.hall_id, "controller", bus_settings(config, "controller")))
    controller.attach_features()
    try:
        return config, controller.hall_info()
    finally:
        for feature in reversed(list(controller.features.values())):
            feature.stop()
        controller.store.close()


def test_state_hall_carries_nothing_secret_and_no_staff(tmp_hall: Path) -> None:
    config, info = hall_info_of(tmp_hall)
    text = info.model_dump_json().lower()
    for secret in ("salt", "secret", "password", "private", "staff", "s0101", "王芳", "notifier"):
        assert secret not in text, secret
    assert set(info.model_dump(exclude_none=True)) == {
        "hall", "name", "name_en", "timezone", "open_now", "hours_today", "appointments_today", "hours", "domains",
        "services",
        "windows", "queue", "identity", "features",
    }  # fmt: skip
    assert info.features is not None and info.features.pickup is not None
    [bank] = info.features.pickup.lockers
    assert bank.device == "lockers-a" and len(bank.compartments) == 24  # what a locker host needs of its bank
    assert HallInfo.model_validate(info.model_dump(mode="json", exclude_none=True)) == info


def test_a_locker_station_gets_its_own_bank(tmp_path: Path, tmp_hall: Path) -> None:
    config, info = hall_info_of(tmp_hall)
    path = tmp_path / STATION_FILE
    path.write_text(
        f'[station]\nhall = "{config.hall_id}"\nid = "lockers-a"\nrole = "locker"\n'
        '[bus]\nhost = "hall-server"\n'
        '[[devices]]\nid = "lockers-a"\nkind = "locker"\nurl = "sim://locker?boards=1,2"\nhost = "kiosk-1"\n'
    )
    station = station_config(read_station(path), info)
    assert [b["id"] for b in station.extra["lockers"]] == ["lockers-a"]
    assert [k.id for k in station.kiosks] == ["kiosk-1"]  # the PC the bank hangs off
    assert pickup_settings(station).banks[0].compartments[0].no == "A01"
