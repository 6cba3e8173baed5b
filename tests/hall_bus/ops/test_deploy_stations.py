"""``hallkit deploy stations``: every station's directory written from hall.toml (docs/deploy.md,
"Station-only configuration"). Each directory holds its station.toml, the hall CA and its own
password; a locker bank also the pickup key and a kiosk the identity salt, and nothing else of the
hall's secrets. Each station.toml loads with ``read_station`` and ``station_config`` (the layout
as the controller publishes it), and logs in with what is beside it. Starting the stations from these
directories against a hall server is tests/hall_bus/ops/test_units.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.identity import SALT_FILE
from hall_bus import config as hallconfig
from hall_bus.bus import tls
from hall_bus.bus.connect import bus_settings
from hall_bus.bus.credentials import read_password, write_credentials
from hall_bus.cli.main import main
from hall_bus.config import ConfigError, HallConfig
from hall_bus.contracts.roles import SELF_HOSTED_KINDS
from hall_bus.features.pickup.config import from_config as pickup_settings
from hall_bus.features.pickup.security import SECRET_ENV, SECRET_FILE, hall_secret
from hall_bus.ops import stations
from hall_bus.ops.station import STATION_FILE, read_station, station_config
from tests.hall_bus.ops.test_station import hall_info_of

STATIONS = ["kiosk-1", *(f"window-{n}" for n in range(1, 7)), "display", "lockers-a"]  # the demo hall's


def installed(tmp_hall: Path, bus: str = "") -> HallConfig:
    """The demo hall as installed (an external broker, TLS, the credentials `hallkit bus credentials`
    wrote) after its controller's first start (the pickup key made in the data_dir)."""
    head, rest = tmp_hall.read_text(encoding="utf-8").split("[bus]\n", 1)
    rest = rest[rest.index("\n[") :]
    creds = tmp_hall.parent / "etc" / "bus"
    text = (
        f'[bus]\nbroker = "external"\nhost = "hall-server.example"\nport = 8883\ntls = true\n'
        f'credentials_dir = "{creds}"\nbroker_names = ["hall-server.example", "10.0.0.10"]\n{bus}'
    )
    tmp_hall.write_text(head + text + rest, encoding="utf-8")
    config = hallconfig.load(tmp_hall)
    write_credentials(config, creds)
    hall_secret(config.data_dir)  # what the controller does when it starts with pickup
    return config


@pytest.fixture
def hall(tmp_hall: Path) -> HallConfig:
    return installed(tmp_hall)


def deploy(config: HallConfig, out: Path, *more: str) -> int:
    return main(["deploy", "stations", "--config", config.source, "--out", str(out), *more])


def test_every_station_of_the_hall_gets_its_directory(hall: HallConfig, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert deploy(hall, out) == 0
    said = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted([*STATIONS, stations.SUMMARY_FILE])
    creds = Path(hall.bus.credentials_dir)
    for client in STATIONS:
        home = out / client
        secret = {"kiosk-1": [f"data_dir/{SALT_FILE}"], "lockers-a": [f"data_dir/{SECRET_FILE}"]}.get(client, [])
        files = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
        assert files == sorted([STATION_FILE, tls.CA_CERT, f"{client}.password", *secret]), client
        assert (home / tls.CA_CERT).read_bytes() == (creds / tls.CA_CERT).read_bytes()
        assert read_password(home, client) == read_password(creds, client)
        assert (home / f"{client}.password").stat().st_mode & 0o777 == 0o600
        for name in secret:
            assert (home / name).stat().st_mode & 0o777 == 0o600
    data = Path(hall.data_dir)
    assert (out / "lockers-a/data_dir/pickup.secret").read_bytes() == (data / SECRET_FILE).read_bytes().strip()
    assert (out / "kiosk-1/data_dir/identity.salt").read_bytes() == (data / SALT_FILE).read_bytes()  # made now
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    # the summary: which directory for which machine and unit, what to install where
    assert "lockers-a: locker on machine kiosk-1, hallkit-locker-host@lockers-a.service" in said
    assert "window-3: window on machine window-3, hallkit-window-host@3.service" in said
    assert "sudo install -m 0600 -o hallkit lockers-a/data_dir/pickup.secret /var/lib/hallkit/" in said
    assert "hall secret pickup.secret: the hall's pickup key" in said and f"made now in {data / SALT_FILE}" in said
    assert said.endswith((out / stations.SUMMARY_FILE).read_text(encoding="utf-8"))


def test_no_station_file_holds_a_secret_of_the_hall(hall: HallConfig, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert deploy(hall, out) == 0
    creds = Path(hall.bus.credentials_dir)
    data = Path(hall.data_dir)
    passwords = {p.stem: p.read_text().strip() for p in creds.glob("*.password")}
    hall_secrets = {
        "pickup key": (data / SECRET_FILE).read_text().strip(),
        "identity salt": (data / SALT_FILE).read_text().strip(),
        "CA key": (creds / tls.CA_KEY).read_text(),
        "broker key": (creds / tls.BROKER_KEY).read_text(),
        "password hashes": (creds / "passwd").read_text(),
    }
    for client in STATIONS:
        text = (out / client / STATION_FILE).read_text(encoding="utf-8")
        for what, value in hall_secrets.items():
            assert value.strip() not in text, (client, what)
        for line in (creds / "passwd").read_text().splitlines():
            assert line.split(":", 1)[1] not in text, client
        for other, password in passwords.items():
            assert password not in text, (client, other)
            for path in (out / client).rglob("*"):  # only its own password anywhere in its directory
                if path.is_file() and other != client:
                    assert password not in path.read_text(encoding="utf-8"), (client, other, path.name)
        for key in ("broker_names", "password_env", "username", "plain_loopback_port", "ca_file", "secret", "salt"):
            assert key not in text, (client, key)
    assert "secret" not in (out / stations.SUMMARY_FILE).read_text().replace("pickup.secret", "").replace(
        "hall secret", ""
    )  # the summary names the files, never their content
    for what, value in hall_secrets.items():
        assert value.strip() not in (out / stations.SUMMARY_FILE).read_text(), what


def test_each_station_file_loads_and_logs_in_with_what_is_beside_it(
    hall: HallConfig, tmp_hall: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert deploy(hall, out, "--host", "10.0.0.10", "--data-dir", "var") == 0
    _, layout = hall_info_of(tmp_hall)  # what the controller publishes as state/hall
    for client in STATIONS:
        station = read_station(out / client / STATION_FILE)
        assert (station.station.id, station.station.hall) == (client, hall.hall_id)
        config = station_config(station, layout)
        own = [
            d
            for d in hall.devices
            if (d.id if d.kind in SELF_HOSTED_KINDS else d.host) == client and not d.url.startswith("web://")
        ]
        assert config.devices == tuple(own), client  # url, profile, host, window and options as hall.toml's
        assert (config.bus.host, config.bus.port, config.bus.tls) == ("10.0.0.10", 8883, True)
        assert config.data_dir == str(out / client / "var")
        settings = bus_settings(config, client)  # its login and the hall CA, from its own directory
        assert settings.username == client and settings.password == read_password(hall.bus.credentials_dir, client)
        assert settings.tls_ca == str(out / client / tls.CA_CERT)
    assert station_config(read_station(out / "kiosk-1" / STATION_FILE), layout).kiosks[0].name == "大厅入口自助机"
    lockers = station_config(read_station(out / "lockers-a" / STATION_FILE), layout)
    assert [b.device for b in pickup_settings(lockers).banks] == ["lockers-a"]
    assert lockers.devices[0].options == {"boards": [1, 2]}
    # with a relative data_dir the key is where the locker host reads it
    assert hall_secret(lockers.data_dir) == hall_secret(hall.data_dir)


def test_only_some_stations(hall: HallConfig, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert deploy(hall, out, "--only", "window-2", "lockers-a") == 0
    assert sorted(p.name for p in out.iterdir()) == ["lockers-a", stations.SUMMARY_FILE, "window-2"]
    said = capsys.readouterr().out
    assert "wrote 2 station directories" in said and "kiosk-1: kiosk" not in said


def refused(config: HallConfig, tmp_path: Path, capsys, *more: str) -> str:
    out = tmp_path / "refused"
    assert deploy(config, out, *more) == 2
    assert not out.exists()  # nothing half-written
    return capsys.readouterr().err


def test_it_refuses_what_is_not_there_yet(hall: HallConfig, tmp_path: Path, capsys) -> None:
    creds = Path(hall.bus.credentials_dir)
    (creds / "window-3.password").unlink()  # a window added to hall.toml after the credentials were written
    err = refused(hall, tmp_path, capsys)
    assert "bus.credentials_dir" in err and "window-3.password is missing" in err and "hallkit bus credentials" in err
    assert "--only" in refused(hall, tmp_path, capsys, "--only", "window-9")
    err = refused(hall, tmp_path, capsys, "--host", "10.0.0.99")  # not a name of the broker's certificate
    assert "bus.broker_names" in err and "10.0.0.99" in err
    (Path(hall.data_dir) / SECRET_FILE).unlink()  # the controller never started
    err = refused(hall, tmp_path, capsys, "--only", "lockers-a")
    assert "hall.data_dir" in err and "start the controller once" in err


def test_no_credentials_yet(tmp_hall: Path, tmp_path: Path, capsys) -> None:
    config = hallconfig.load(tmp_hall)  # the test hall: no [bus] credentials_dir
    err = refused(config, tmp_path, capsys)
    assert "bus.credentials_dir: is not set" in err and "hallkit bus credentials" in err
    assert "--without-credentials" in err
    hall_secret(config.data_dir)
    out = tmp_path / "out"
    assert deploy(config, out, "--without-credentials", "--only", "window-1", "lockers-a") == 0
    assert sorted(p.name for p in (out / "window-1").iterdir()) == [STATION_FILE]
    assert sorted(str(p.relative_to(out / "lockers-a")) for p in (out / "lockers-a").rglob("*")) == [
        "data_dir",
        f"data_dir/{SECRET_FILE}",
        STATION_FILE,
    ]
    said = capsys.readouterr().out
    assert "not written: ca.crt and window-1.password: copy them from [bus] credentials_dir" in said


def test_a_secret_given_in_the_environment(hall: HallConfig, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "k" * 40)
    (Path(hall.data_dir) / SECRET_FILE).unlink()
    out = tmp_path / "out"
    assert deploy(hall, out, "--only", "lockers-a") == 0
    assert (out / "lockers-a/data_dir/pickup.secret").read_text() == "k" * 40


def test_client_certificates_and_a_bank_on_the_hall_server(tmp_hall: Path, tmp_path: Path) -> None:
    tmp_hall.write_text(
        tmp_hall.read_text(encoding="utf-8").replace('host = "kiosk-1"\noptions = { boards', "options = { boards"),
        encoding="utf-8",
    )
    config = installed(tmp_hall, "client_certs = true\n")
    assert next(d for d in config.devices if d.id == "lockers-a").host == ""
    built = stations.build(config, stations.Options(only=("kiosk-1", "lockers-a")))
    kiosk, lockers = built
    assert {"kiosk-1.crt", "kiosk-1.key"} <= set(kiosk.files) and kiosk.files["kiosk-1.key"][1] == 0o600
    assert "client_certs = true" in kiosk.files[STATION_FILE][0].decode()
    assert "lockers-a" not in kiosk.files[STATION_FILE][0].decode()  # a bank is its own station
    assert lockers.station.machine == "hall-server"


def test_toml_values() -> None:
    assert stations.toml_value({"boards": [1, 2], "a b": '引"号'}) == '{ boards = [1, 2], "a b" = "引\\"号" }'
    for nothing in (None, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            stations.toml_value(nothing)
    assert stations.toml_value([True, 1.5, "x"]) == '[true, 1.5, "x"]'
    with pytest.raises(ConfigError):
        stations.build(hallconfig.load(Path(__file__).parents[3] / "hall.toml"), stations.Options(only=("x",)))
