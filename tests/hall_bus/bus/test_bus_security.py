"""Generated credentials, ACL and TLS, checked against a real mosquitto: the broker is the first of the
two checks of the roles table (the controller is the second, see test_bus_attacks.py)."""

from __future__ import annotations

import queue
import ssl
import time
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import credentials as security
from hall_bus.bus import envelope as messages
from hall_bus.bus import tls, topics
from hall_bus.bus.brokers import Mosquitto
from hall_bus.bus.client import BusClient, BusSettings
from hall_bus.contracts.roles import OPS, ops_of


def test_hash_matches_mosquitto_format() -> None:
    hashed = security.hash_password("s3cret", salt=b"0123456789ab")
    assert hashed.startswith("$7$101$")
    assert security.verify_password("s3cret", hashed)
    assert not security.verify_password("wrong", hashed)


def _block(acl: str, user: str) -> str:
    return acl.split(f"user {user}\n")[1].split("\n\n")[0]


def test_acl_is_generated_from_the_roles_table(hall_toml: Path) -> None:
    cfg = hallconfig.load(hall_toml)
    acl = security.acl_text(cfg)
    h = "hallkit/demo-hall"
    kiosk = _block(acl, "kiosk-1")
    for op in ops_of("kiosk"):
        assert f"topic write {h}/client/kiosk-1/request/{op}\n" in kiosk + "\n"
    for op in ("window.call", "window.assign", "window.pause", "audit.list", "pickup.return", "locker.open"):
        assert f"/request/{op}" not in kiosk, op  # never: the broker refuses these before the controller sees them
    assert f"topic write {h}/device/kiosk-1-idcard/state" in kiosk
    assert f"topic write {h}/device/kiosk-1-idcard/response" in kiosk
    assert f"topic read {h}/device/kiosk-1-idcard/request/#" in kiosk
    assert "client/controller/response" not in acl  # the old shared answer topic is gone
    assert "lockers-a" not in kiosk  # the locker bank is its own client; a kiosk cannot command it
    assert "state/#" not in "".join(line for line in kiosk.splitlines() if "write" in line)
    window = _block(acl, "window-3")
    assert f"{h}/client/window-3/request/window.call" in window and "window-1" not in window
    display = _block(acl, "display")
    assert [line for line in display.splitlines() if line.startswith("topic write")] == [
        f"topic write {h}/client/display/availability",
        *(f"topic write {h}/client/display/request/{op}" for op in ops_of("display")),
    ]
    assert all(OPS[op].effect == "read" for op in ops_of("display"))


@pytest.fixture
def secured(tmp_hall: Path, tmp_path: Path):
    """The hall's own credentials directory and a mosquitto with its ACL, passwords and TLS listener."""
    cfg = hallconfig.load(tmp_hall)
    creds = security.write_credentials(cfg, tmp_path / "creds")
    broker = Mosquitto(allow_anonymous=False, extra_conf=security.mosquitto_conf(creds), tls_dir=creds).start()
    yield cfg, creds, broker
    broker.close()


def _login(broker, cfg, creds: Path, client_id: str, password: str | None, **tls_opts) -> BusClient:
    settings = BusSettings(
        host=broker.host,
        port=broker.port,
        username=client_id,
        password=password,
        backoff_max_s=0.5,
        tls_ca=str(creds / tls.CA_CERT),
    )
    for k, v in tls_opts.items():
        setattr(settings, k, v)
    return BusClient(cfg.hall_id, client_id, settings).start()


def test_credentials_directory(secured) -> None:
    cfg, creds, _ = secured
    assert (creds / "kiosk-1.password").stat().st_mode & 0o777 == 0o600
    assert (creds / tls.CA_KEY).stat().st_mode & 0o777 == 0o600
    assert (creds / security.PASSWORD_FILE).stat().st_mode & 0o777 == 0o640  # the broker's user reads it
    names = tls.certificate_names((creds / tls.BROKER_CERT).read_bytes())
    assert "127.0.0.1" in names and "localhost" in names
    conf = security.mosquitto_conf(creds, cfg)
    assert f"listener {cfg.bus.port}\n" in conf and "certfile" in conf and "127.0.0.1" not in conf.split("listener")[1]
    again = security.write_credentials(cfg, creds)  # kept: same CA, same passwords
    assert (again / tls.CA_CERT).read_bytes() == (creds / tls.CA_CERT).read_bytes()


def test_wrong_password_is_refused(secured) -> None:
    cfg, creds, broker = secured
    good = _login(broker, cfg, creds, "kiosk-1", security.read_password(creds, "kiosk-1"))
    bad = _login(broker, cfg, creds, "kiosk-1-bad", "guess")
    try:
        assert good.wait_connected(10), good.last_error
        assert not bad.wait_connected(1.5)
        assert bad.stats["refused"] >= 1 or bad.stats["connect_failures"] >= 1
    finally:
        good.stop()
        bad.stop()


def test_tls_without_the_hall_ca_or_under_another_name_is_refused(secured, tmp_path: Path, mosquitto) -> None:
    cfg, creds, broker = secured
    password = security.read_password(creds, "kiosk-1")
    other = tls.make_ca("another-hall")
    (tmp_path / "other-ca.crt").write_bytes(other.cert_pem)
    wrong_ca = _login(broker, cfg, creds, "kiosk-1", password, tls_ca=str(tmp_path / "other-ca.crt"))
    wrong_name = _login(broker, cfg, creds, "kiosk-1", password, tls_server_name="broker.elsewhere.example")
    plain = BusClient(
        cfg.hall_id,
        "kiosk-1",
        BusSettings(host=broker.host, port=broker.port, username="kiosk-1", password=password, backoff_max_s=0.5),
    ).start()
    good = _login(broker, cfg, creds, "kiosk-1", password)
    try:
        assert good.wait_connected(10), good.last_error
        for c in (wrong_ca, wrong_name, plain):
            assert not c.wait_connected(1.0)
        assert "CERTIFICATE_VERIFY_FAILED" in wrong_ca.last_error
        assert "CERTIFICATE_VERIFY_FAILED" in wrong_name.last_error or "match" in wrong_name.last_error
    finally:
        for c in (wrong_ca, wrong_name, plain, good):
            c.stop()
    with pytest.raises(ssl.SSLError):  # and the client side never falls back to the system's trust store
        ctx = tls.tls_context(BusSettings(tls_ca=str(tmp_path / "other-ca.crt")))
        import socket

        with socket.create_connection((broker.host, broker.port)) as s, ctx.wrap_socket(s, server_hostname="127.0.0.1"):
            pass


def test_only_the_controller_writes_hall_state_and_answers(secured) -> None:
    cfg, creds, broker = secured
    ctl = _login(broker, cfg, creds, "controller", security.read_password(creds, "controller"))
    kiosk = _login(broker, cfg, creds, "kiosk-1", security.read_password(creds, "kiosk-1"))
    display = _login(broker, cfg, creds, "display", security.read_password(creds, "display"))
    try:
        for c in (ctl, kiosk, display):
            assert c.wait_connected(10), c.last_error
        seen: queue.Queue = queue.Queue()
        display.subscribe(topics.hall(cfg.hall_id) + "/state/#", lambda t, e: seen.put((t, e.sender)))
        display.subscribe(topics.device_state(cfg.hall_id, "window-1-pad"), lambda t, e: seen.put((t, e.sender)))
        display.subscribe(topics.client_response(cfg.hall_id, "display"), lambda t, e: seen.put((t, e.sender)))
        time.sleep(0.3)
        forged = messages.state("queue.snapshot", "kiosk-1", {"domain": "shebao", "waiting": 0})
        kiosk.publish_raw(topics.queue_state(cfg.hall_id, "shebao"), forged.to_json(), retain=True)
        kiosk.publish_raw(topics.device_state(cfg.hall_id, "window-1-pad"), forged.to_json())  # not a device of kiosk-1
        kiosk.publish_raw(topics.client_response(cfg.hall_id, "display"), forged.to_json())  # nobody's answers
        ctl.publish_state(topics.queue_state(cfg.hall_id, "yibao"), "queue.snapshot", {"domain": "yibao", "waiting": 3})
        got = seen.get(timeout=5)
        assert got == (topics.queue_state(cfg.hall_id, "yibao"), "controller")
        with pytest.raises(queue.Empty):
            seen.get(timeout=1)  # the forged messages never reached anyone
    finally:
        for c in (ctl, kiosk, display):
            c.stop()
