"""Attacks through a broker with the hall's generated ACL, passwords and TLS: what one stolen kiosk,
window or display login can and cannot do, and what it can read while citizens use the hall."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices.config import DeviceConfig
from hall_bus import config as hallconfig
from hall_bus.bus import credentials as security
from hall_bus.bus import envelope as messages
from hall_bus.bus import tls, topics
from hall_bus.bus.brokers import Mosquitto
from hall_bus.bus.client import BusClient, BusSettings, RequestFailed
from hall_bus.controller.service import HallController
from hall_bus.hosts.device_bridge import make_bus_device
from kiosk.identify import identity_from_card


@pytest.fixture
def hall(tmp_hall: Path, tmp_path: Path):
    text = tmp_hall.read_text(encoding="utf-8")
    tmp_hall.write_text(text + '\n[[kiosks]]\nid = "kiosk-2"\nname = "second kiosk"\n', encoding="utf-8")
    cfg = hallconfig.load(tmp_hall)
    creds = security.write_credentials(cfg, tmp_path / "creds")
    broker = Mosquitto(allow_anonymous=False, extra_conf=security.mosquitto_conf(creds), tls_dir=creds).start()
    clients: list[BusClient] = []

    def login(client_id: str) -> BusClient:
        settings = BusSettings(
            host=broker.host,
            port=broker.port,
            username=client_id,
            password=security.read_password(creds, client_id),
            tls_ca=str(creds / tls.CA_CERT),
            backoff_max_s=0.5,
        )
        c = BusClient(cfg.hall_id, client_id, settings).start()
        clients.append(c)
        assert c.wait_connected(10), c.last_error
        return c

    ctl = HallController(cfg, login("controller")).start()
    yield cfg, creds, broker, ctl, login
    ctl.stop()
    for c in clients:
        c.stop()
    broker.close()


class Eavesdropper:
    """A stolen login subscribed to ``#`` with a raw MQTT client: every byte its ACL lets it read."""

    def __init__(self, broker, creds: Path, client_id: str) -> None:
        self.got: list[tuple[str, bytes]] = []
        self.ready = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{client_id}-spy-{uuid.uuid4().hex[:4]}")
        self.c.username_pw_set(client_id, security.read_password(creds, client_id))
        self.c.tls_set_context(tls.tls_context(BusSettings(tls_ca=str(creds / tls.CA_CERT))))
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe("#", qos=1)
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.on_message = lambda c, u, m: self.got.append((m.topic, bytes(m.payload)))
        self.c.connect(broker.host, broker.port)
        self.c.loop_start()
        assert self.ready.wait(10)

    def stop(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def test_a_stolen_kiosk_login_cannot_reach_staff_operations(hall) -> None:
    cfg, _, _, ctl, login = hall
    kiosk = login("kiosk-1")
    kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
    for op, data in (("window.call", {"window": 1}), ("window.pause", {"window": 1}), ("audit.list", {})):
        with pytest.raises(Exception) as err:  # the broker drops it: no answer at all
            kiosk.request(op, data, timeout=1.0)
        assert "no response" in str(err.value)
    # as window-6, on window-6's topic: the broker drops that too
    forged = messages.request(
        "window.pause", {"window": 6}, "window-6", topics.client_response(cfg.hall_id, "window-6"), 5
    )
    kiosk.publish_raw(topics.client_request(cfg.hall_id, "window-6", "window.pause"), forged.to_json())
    time.sleep(0.5)
    assert ctl.engine.window(1).current is None and not ctl.engine.window(1).paused
    assert not ctl.engine.window(6).paused
    window3 = login("window-3")
    with pytest.raises(RequestFailed) as refused:  # allowed by the broker (window.call), refused by the controller
        window3.request("window.call", {"window": 1})
    assert refused.value.code == "forbidden"
    assert kiosk.request("hall.info", {})["hall"] == cfg.hall_id


def test_nothing_a_display_window_or_other_kiosk_reads_rebuilds_an_id_number(hall, tmp_path: Path) -> None:
    cfg, creds, broker, ctl, login = hall
    spies = [Eavesdropper(broker, creds, cid) for cid in ("display", "window-1", "kiosk-2")]
    try:
        kiosk = login("kiosk-1")
        reader = make_bus_device(
            DeviceConfig(id="kiosk-1-idcard", kind="idcard", url="sim://idcard", profile="generic-sam", host="kiosk-1"),
            login("kiosk-1"),
            cfg.hall_id,
        ).open()
        sim = reader.driver.port.simulator
        salt = cfg.hall_id.encode()
        seen_cards = []
        for n in range(3):
            sim.insert(n)
            assert reader.wait_for_card(5)
            card = reader.read_card()
            ident = identity_from_card(card, salt)
            seen_cards.append((card.id_number, card.name, ident.token, ident.masked_id))
            kiosk.request(
                "ticket.issue",
                {
                    "service": "shebao-card",
                    "idempotency_key": uuid.uuid4().hex[:16],
                    "identity_token": ident.token,
                    "age_years": ident.age,
                },
            )
            kiosk.request("case.lookup", {"identity_token": ident.token})
            with pytest.raises(RequestFailed, match="not_found"):  # nothing waiting; the attempt is what counts
                kiosk.request("pickup.identify", {"kiosk": "kiosk-1", "method": "card", "token": ident.token})
            sim.remove()
        login("window-1").request("window.call", {"window": 1})
        time.sleep(1.0)
        reader.close()
        for spy in spies:
            assert spy.got, "the eavesdropper read nothing at all: the test would prove nothing"
            text = "\n".join(f"{t} {p.decode('utf-8', 'replace')}" for t, p in spy.got)
            for id_number, name, token, masked in seen_cards:
                for secret in (id_number, name, token, masked, masked[:4] + "*", "*" + masked[-4:]):
                    assert secret not in text, (
                        secret,
                        [t for t, p in spy.got if secret in p.decode("utf-8", "replace")],
                    )
            assert not any("/response" in t and "kiosk-1" in t for t, _ in spy.got)  # nobody reads kiosk-1's answers
    finally:
        for spy in spies:
            spy.stop()


def test_a_stolen_kiosk_or_window_login_cannot_print_at_another_window(hall) -> None:
    """Receipts at a window's printer: a kiosk may not ask for one at all (the broker drops it), nor
    write to the printer's request topic (only the controller may); a window may not print at another
    window (the controller refuses). Nothing reaches window 1's printer."""
    cfg, creds, broker, ctl, login = hall
    host_side = Eavesdropper(broker, creds, "window-1")  # what window 1's host would hear
    try:
        kiosk = login("kiosk-1")
        for op, data in (
            ("mandate.print", {"mandate_no": "DB-20261125-0001", "window": 1, "actor": "S0101"}),
            ("case.print_receipt", {"case_no": "SB20261125001", "window": 1, "actor": "S0101"}),
        ):
            with pytest.raises(Exception) as err:
                kiosk.request(op, data, timeout=1.0)
            assert "no response" in str(err.value)
        printer_topic = topics.device_request(cfg.hall_id, "window-1-printer", "printer.print")
        forged = messages.request("printer.print", {"window": 1}, "controller", "x/y", 5)
        kiosk.publish_raw(printer_topic, forged.to_json())
        window3 = login("window-3")
        with pytest.raises(RequestFailed) as refused:
            window3.request("mandate.print", {"mandate_no": "DB-20261125-0001", "window": 1, "actor": "S0103"})
        assert refused.value.code == "forbidden"
        time.sleep(0.5)
        assert not [t for t, _ in host_side.got if "/request/printer.print" in t]
        # the control: the manager's receipt does reach window 1's printer topic (so the listener hears)
        manager = login("manager")
        new_case = {"case_no": "SB20261125001", "status": "received", "actor": "M0001", "service": "shebao-card"}
        manager.request("case.update", new_case)
        queued = manager.request("case.print_receipt", {"case_no": "SB20261125001", "window": 1, "actor": "M0001"})
        assert queued["queued"]
        deadline = time.monotonic() + 5
        while not [t for t, _ in host_side.got if "/request/printer.print" in t] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len([t for t, _ in host_side.got if "/request/printer.print" in t]) == 1
    finally:
        host_side.stop()
