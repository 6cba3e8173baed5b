"""Generated mosquitto credentials and ACL, checked against a real mosquitto."""

from __future__ import annotations

import queue
import time
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import credentials as security
from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.brokers import Mosquitto
from hall_bus.bus.client import BusClient, BusSettings


def test_hash_matches_mosquitto_format() -> None:
    hashed = security.hash_password("s3cret", salt=b"0123456789ab")
    assert hashed.startswith("$7$101$")
    assert security.verify_password("s3cret", hashed)
    assert not security.verify_password("wrong", hashed)


def test_acl_layout(hall_toml: Path) -> None:
    cfg = hallconfig.load(hall_toml)
    acl = security.acl_text(cfg)
    block = acl.split("user kiosk-1\n")[1].split("\n\n")[0]
    assert "topic write hallkit/demo-hall/controller/request/#" in block
    assert "topic write hallkit/demo-hall/device/kiosk-1-idcard/state" in block
    assert "topic read hallkit/demo-hall/device/kiosk-1-idcard/request/#" in block
    assert "lockers-a" not in block  # the locker bank is its own client; a kiosk cannot command it
    assert "user lockers-a\n" in acl
    assert "state/#" not in "".join(
        line for line in block.splitlines() if "write" in line
    )  # only the controller writes state


@pytest.fixture
def secured(tmp_hall: Path, tmp_path: Path):
    cfg = hallconfig.load(tmp_hall)
    creds = security.write_credentials(cfg, tmp_path / "creds")
    broker = Mosquitto(allow_anonymous=False, extra_conf=security.mosquitto_conf(creds)).start()
    yield cfg, creds, broker
    broker.close()


def _login(broker, cfg, client_id: str, password: str | None) -> BusClient:
    return BusClient(
        cfg.hall_id,
        client_id,
        BusSettings(host=broker.host, port=broker.port, username=client_id, password=password, backoff_max_s=0.5),
    ).start()


def test_wrong_password_is_refused(secured) -> None:
    cfg, creds, broker = secured
    good = _login(broker, cfg, "kiosk-1", security.read_password(creds, "kiosk-1"))
    bad = _login(broker, cfg, "kiosk-1-bad", "guess")
    try:
        assert good.wait_connected(10)
        assert not bad.wait_connected(1.5)
        assert bad.stats["refused"] >= 1 or bad.stats["connect_failures"] >= 1
    finally:
        good.stop()
        bad.stop()


def test_only_the_controller_writes_hall_state(secured) -> None:
    cfg, creds, broker = secured
    ctl = _login(broker, cfg, "controller", security.read_password(creds, "controller"))
    kiosk = _login(broker, cfg, "kiosk-1", security.read_password(creds, "kiosk-1"))
    display = _login(broker, cfg, "display", security.read_password(creds, "display"))
    try:
        for c in (ctl, kiosk, display):
            assert c.wait_connected(10), c.last_error
        seen: queue.Queue = queue.Queue()
        display.subscribe(topics.hall(cfg.hall_id) + "/state/#", lambda t, e: seen.put((t, e.sender)))
        display.subscribe(topics.device_state(cfg.hall_id, "window-1-pad"), lambda t, e: seen.put((t, e.sender)))
        time.sleep(0.3)
        forged = messages.state("queue.snapshot", "kiosk-1", {"domain": "shebao", "waiting": 0})
        kiosk.publish_raw(topics.queue_state(cfg.hall_id, "shebao"), forged.to_json(), retain=True)
        kiosk.publish_raw(topics.device_state(cfg.hall_id, "window-1-pad"), forged.to_json())  # not a device of kiosk-1
        ctl.publish_state(topics.queue_state(cfg.hall_id, "yibao"), "queue.snapshot", {"domain": "yibao", "waiting": 3})
        got = seen.get(timeout=5)
        assert got == (topics.queue_state(cfg.hall_id, "yibao"), "controller")
        with pytest.raises(queue.Empty):
            seen.get(timeout=1)  # the forged retained state never reached anyone
    finally:
        for c in (ctl, kiosk, display):
            c.stop()
