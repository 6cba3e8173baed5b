"""A device hosted by the staff web console (a window tablet: ``host = "web"`` or a ``web://`` URL):
client ``web`` gets a host's rights for it, and for nothing else of the devices, at a real mosquitto."""

from __future__ import annotations

import dataclasses
import queue
import time
from pathlib import Path

import pytest

from devices.config import DeviceConfig
from hall_bus import config as hallconfig
from hall_bus.bus import credentials as security
from hall_bus.bus import envelope as messages
from hall_bus.bus import topics
from hall_bus.bus.brokers import Mosquitto
from tests.hall_bus.bus.test_bus_security import _block, _login

TABLET = DeviceConfig(id="window-2-tablet", kind="pad", url="web://tablet", window=2)


def with_tablet(path: Path, **changes: str) -> hallconfig.HallConfig:
    cfg = hallconfig.load(path)
    return dataclasses.replace(cfg, devices=(*cfg.devices, dataclasses.replace(TABLET, **changes)))


@pytest.mark.parametrize("changes", [{}, {"host": "web", "url": "web://tablet?kiosk=1"}])
def test_the_web_client_hosts_the_web_devices(hall_toml: Path, changes: dict[str, str]) -> None:
    cfg = with_tablet(hall_toml, **changes)
    acl = security.acl_text(cfg)
    h = "hallkit/demo-hall"
    web = _block(acl, "web") + "\n"
    assert f"topic read {h}/device/window-2-tablet/request/#\n" in web
    for leaf in ("state", "availability", "event/#", "response"):
        assert f"topic write {h}/device/window-2-tablet/{leaf}\n" in web
    assert "window-1-pad" not in web and "kiosk-1-printer" not in web  # only its own devices
    assert "window-2-tablet" not in _block(acl, "window-2")  # the window's host leaves it alone
    for other in ("manager", "display"):
        assert "window-2-tablet" not in _block(acl, other)


def test_web_hosted() -> None:
    assert security.web_hosted(TABLET)
    assert security.web_hosted(dataclasses.replace(TABLET, url="sim://pad", host="web"))
    assert not security.web_hosted(dataclasses.replace(TABLET, url="sim://pad", host="window-2"))


def test_at_the_broker_web_publishes_its_tablet_health_and_nothing_else(tmp_hall: Path, tmp_path: Path) -> None:
    cfg = with_tablet(tmp_hall)
    creds = security.write_credentials(cfg, tmp_path / "creds")
    broker = Mosquitto(allow_anonymous=False, extra_conf=security.mosquitto_conf(creds), tls_dir=creds).start()
    web = _login(broker, cfg, creds, "web", security.read_password(creds, "web"))
    display = _login(broker, cfg, creds, "display", security.read_password(creds, "display"))
    try:
        for c in (web, display):
            assert c.wait_connected(10), c.last_error
        seen: queue.Queue = queue.Queue()
        for pad in ("window-2-tablet", "window-1-pad"):
            display.subscribe(topics.device_state(cfg.hall_id, pad), lambda t, e: seen.put(t))
        time.sleep(0.3)
        state = messages.state("device.state", "web", {"id": "x", "kind": "pad", "state": "ready"})
        web.publish_raw(topics.device_state(cfg.hall_id, "window-1-pad"), state.to_json())  # a serial pad: not web's
        web.publish_raw(topics.device_state(cfg.hall_id, "window-2-tablet"), state.to_json())
        assert seen.get(timeout=5) == topics.device_state(cfg.hall_id, "window-2-tablet")
        with pytest.raises(queue.Empty):
            seen.get(timeout=1)
    finally:
        for c in (web, display):
            c.stop()
        broker.close()
