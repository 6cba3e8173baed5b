"""Shared fixtures. Bus tests run against a real mosquitto started here on a free loopback port; only
the tests that use a broker fixture need mosquitto (codec, engine and flow tests run without it)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hall_bus.bus import tls
from hall_bus.bus.brokers import EmbeddedBroker, Mosquitto, find_mosquitto
from hall_bus.bus.client import BusClient, BusSettings

ROOT = Path(__file__).resolve().parent.parent


def _need_mosquitto() -> None:
    if find_mosquitto() is None:
        pytest.fail(
            "mosquitto is not installed; run the tests with `bash run.sh test`, which installs it", pytrace=False
        )


@pytest.fixture(scope="session")
def hall_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hall CA and a broker certificate for localhost/127.0.0.1: every test broker speaks TLS."""
    out = tmp_path_factory.mktemp("pki")
    ca = tls.make_ca("tests")
    broker = tls.issue(ca, "hallkit-test-broker", ("localhost", "127.0.0.1"))
    (out / tls.CA_CERT).write_bytes(ca.cert_pem)
    (out / tls.CA_KEY).write_bytes(ca.key_pem)
    (out / tls.BROKER_CERT).write_bytes(broker.cert_pem)
    (out / tls.BROKER_KEY).write_bytes(broker.key_pem)
    return out


@pytest.fixture(scope="session")
def mosquitto(hall_pki: Path) -> Mosquitto:
    """One mosquitto (TLS) for the session (tests that restart the broker take `fresh_mosquitto`)."""
    _need_mosquitto()
    broker = Mosquitto(tls_dir=hall_pki).start()
    yield broker
    broker.close()


@pytest.fixture
def fresh_mosquitto(hall_pki: Path) -> Mosquitto:
    _need_mosquitto()
    broker = Mosquitto(tls_dir=hall_pki).start()
    yield broker
    broker.close()


@pytest.fixture(scope="session")
def tls_ca(hall_pki: Path) -> str:
    """The settings a test client needs to reach the test brokers: the hall CA."""
    return str(hall_pki / tls.CA_CERT)


@pytest.fixture(scope="session")
def embedded_broker() -> EmbeddedBroker:
    broker = EmbeddedBroker().start()
    yield broker
    broker.stop()


@pytest.fixture
def hall_id(request: pytest.FixtureRequest) -> str:
    """A hall id unique to the test, so tests sharing a broker never see each other's messages."""
    digest = hashlib.sha1(f"{request.node.nodeid}-{os.getpid()}".encode()).hexdigest()[:8]
    name = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:20].strip("-")
    return f"t-{name}-{digest}"  # at most 31 characters: a valid hall id


@pytest.fixture
def bus_factory(mosquitto: Mosquitto, hall_id: str, tls_ca: str):
    """Make started BusClients on the session mosquitto (over TLS); all are stopped after the test."""
    clients: list[BusClient] = []

    def make(client_id: str, broker=None, hall: str | None = None, **settings) -> BusClient:
        b = broker or mosquitto
        if getattr(b, "tls_dir", None):
            settings.setdefault("tls_ca", tls_ca)
        client = BusClient(hall or hall_id, client_id, BusSettings(host=b.host, port=b.port, **settings)).start()
        clients.append(client)
        assert client.wait_connected(10), f"{client_id} could not connect: {client.last_error}"
        return client

    yield make
    for c in clients:
        c.stop()


@pytest.fixture
def hall_toml() -> Path:
    return ROOT / "hall.toml"


@pytest.fixture
def tmp_hall(tmp_path: Path, hall_toml: Path, hall_id: str, tls_ca: str) -> Path:
    """A copy of the demo hall.toml with its own hall id and data dir, open around the clock, whose
    components reach the test brokers over TLS."""
    text = hall_toml.read_text(encoding="utf-8")
    text = text.replace("[bus]\n", f"[bus]\ntls = true\nca_file = {str(tls_ca)!r}\n", 1)
    text = text.replace('id = "demo-hall"', f'id = "{hall_id}"', 1)
    text = text.replace('data_dir = "var"', f'data_dir = "{tmp_path / "var"}"', 1)
    text = text.replace("[hall.hours]", "[hall.hours]\nalways_open = true", 1)
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path
