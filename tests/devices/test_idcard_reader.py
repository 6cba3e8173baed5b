"""ID card driver and device against the simulator over a pty and over TCP, with faults; what
reaches the bus and the logs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import time

import pytest

from devices.base import DeviceFault, DeviceState, DeviceTimeout
from devices.config import DeviceConfig
from devices.idcard import IdCardReader, NoCard
from drivers import idcard as sam
from drivers.errors import DeviceReported, FrameError, ReplyTimeout
from drivers.transport import open_transport
from hall_bus.hosts.device_bridge import bridged
from simulators import registry
from simulators.base import serve_pty, serve_tcp
from simulators.cards import DECK
from simulators.idcard import IdCardSimulator


@pytest.fixture(params=["pty", "tcp"])
def served(request):
    """Start an ID card simulator on a pty or a TCP port; yields a function(query) -> (url, sim)."""
    started = []

    def start(**query: str):
        sim = IdCardSimulator(query)
        s = serve_pty(sim) if request.param == "pty" else serve_tcp(sim)
        started.append(s)
        return s.url, sim

    yield start
    for s in started:
        s.stop()


def driver_for(url: str, **kw) -> sam.IdCardDriver:
    return sam.IdCardDriver(open_transport(url, baudrate=115200, timeout=0.1), **kw)


def test_find_select_read_every_card_in_the_deck(served) -> None:
    url, sim = served()
    drv = driver_for(url)
    try:
        drv.sam_status()
        assert len(drv.sam_id()) == 16
        assert drv.find() is False
        for n, expected in enumerate(DECK):
            sim.insert(n)
            assert drv.find() is True
            assert drv.read_card() == expected
        sim.remove()
        with pytest.raises(DeviceReported) as info:
            drv.read_card()
        assert info.value.code == sam.NO_CARD
    finally:
        drv.close()
    assert sim.reads == len(DECK)


@pytest.mark.parametrize("fault", ["read_fail:1", "corrupt=1", "no_reply=1", "truncate=1", "split", "delay=0.05"])
def test_transient_faults_are_retried(served, fault: str) -> None:
    url, sim = served(card="3", fault=fault)
    drv = driver_for(url, reply_timeout_s=0.4)
    try:
        assert drv.read_card() == DECK[3]
    finally:
        drv.close()


def test_faults_that_last_surface_as_typed_errors(served) -> None:
    url, sim = served(card="1", fault="read_fail:-1")
    drv = driver_for(url, retries=2)
    try:
        with pytest.raises(DeviceReported) as info:
            drv.read_card()
        assert info.value.code == sam.READ_FAILED and "card read failed" in str(info.value)
        sim.faults.corrupt_checksum = -1
        with pytest.raises(FrameError, match="checksum"):
            drv.find()
        sim.faults.corrupt_checksum = 0
        sim.faults.no_reply = -1
        with pytest.raises(ReplyTimeout) as t:
            drv.exchange(*sam.FIND_CARD, timeout_s=0.3)
        assert t.value.sent == sam.request(*sam.FIND_CARD) and t.value.received == b""
    finally:
        drv.close()


def test_no_card_fault_and_unknown_command(served) -> None:
    url, sim = served(card="0", fault="no_card")
    drv = driver_for(url)
    try:
        assert drv.find() is False
        assert drv.exchange(0x55, 0x01).sw3 == 0x21  # bad command or parameter
        with pytest.raises(DeviceReported, match="0x21: bad command"):
            drv.command(0x55, 0x01)
    finally:
        drv.close()


def test_simulator_answers_a_damaged_host_frame_with_0x10() -> None:
    sim = IdCardSimulator({"card": "0"})
    bad = sam.request(*sam.FIND_CARD)[:-1] + b"\x00"
    replies = sim.feed(bad + sam.request(*sam.FIND_CARD))
    assert [sam.IdCardCodec().feed(r)[0].sw3 for r in replies] == [0x10, 0x9F]


def test_query_card_selects_and_rejects() -> None:
    assert IdCardSimulator({"card": "4"}).card == DECK[4]
    assert IdCardSimulator({"card": "none"}).card is None
    with pytest.raises(ValueError, match="card='9'"):
        IdCardSimulator({"card": "9"})


# ---------------------------------------------------------------------------- the device
def reader(url: str, bus=None, hall_id: str = "", salt: bytes = b"test-salt-0123456789") -> IdCardReader:
    dev = IdCardReader(
        DeviceConfig(
            id="kiosk-1-idcard", kind="idcard", url=url, profile="generic-sam", options={"poll_interval_s": 0.05}
        ),
        salt=salt,
    )
    return bridged(dev, bus, hall_id).open()


def test_wait_for_card_polls_until_a_card_is_put_down() -> None:
    dev = reader("sim://idcard?id=wait-test-idcard")
    try:
        sim = registry.instance("wait-test-idcard")
        assert dev.state == DeviceState.READY
        assert dev.wait_for_card(0.2) is False
        polls = sim.received.count(sam.request(*sam.FIND_CARD))
        assert 2 <= polls <= 8  # polled at the profile interval, not in a busy loop
        threading.Timer(0.3, sim.insert, args=(2,)).start()
        assert dev.wait_for_card(5.0) is True
        assert dev.read_card() == DECK[2]
        sim.remove()
        with pytest.raises(NoCard) as info:
            dev.read_card()
        assert info.value.code == "no_card" and dev.state == DeviceState.READY
    finally:
        dev.close()


def test_device_states_on_faults() -> None:
    dev = reader("sim://idcard?card=0&id=state-test-idcard")
    try:
        sim = registry.instance("state-test-idcard")
        sim.read_failures = -1
        with pytest.raises(DeviceFault) as info:
            dev.read_card()
        assert info.value.code == "read_failed"
        sim.read_failures = 0
        sim.faults.no_reply = -1
        with pytest.raises(DeviceTimeout):
            dev.card_present()
        assert dev.state == DeviceState.DEGRADED
        sim.faults.no_reply = 0
        assert dev.card_present() is True
        assert dev.state == DeviceState.READY
    finally:
        dev.close()


def test_open_fails_cleanly_when_nothing_answers(tmp_path) -> None:
    dev = IdCardReader(DeviceConfig(id="r", kind="idcard", url="sim://idcard?fault=no_reply=-1"))
    dev.reply_timeout_s = 0.2
    with pytest.raises(DeviceTimeout):
        dev.open()
    assert dev.state == DeviceState.OFFLINE


def test_a_card_read_stays_on_its_kiosk_and_logs_no_full_id(bus_factory, hall_id, caplog) -> None:
    """The reader's listeners (the kiosk, in-process) hear the token and the masked number; the bus gets
    nothing of it (a masked number beside a token lets anyone with the hall's salt rebuild the number)."""
    from hall_bus.bus import topics

    bus = bus_factory("controller")
    got: queue.Queue = queue.Queue()
    bus.subscribe(topics.device_root(hall_id, "kiosk-1-idcard") + "/#", lambda t, env: got.put((t, env)))
    heard: list[dict] = []

    class Kiosk:
        def device_state(self, device) -> None: ...
        def device_closed(self, device) -> None: ...
        def device_event(self, device, name, type_, data) -> None:
            heard.append(data)

    time.sleep(0.3)
    caplog.set_level(logging.DEBUG)
    dev = reader("sim://idcard?card=0&fault=read_fail:1", bus=bus, hall_id=hall_id)
    dev.listeners.append(Kiosk())
    try:
        card = dev.read_card(today=dt.date(2026, 3, 1))
    finally:
        dev.close()
    from devices.identity import identity_token

    assert heard == [
        {
            "token": identity_token(card.id_number, b"test-salt-0123456789"),
            "id_masked": "1101**********103X",
            "age_band": "70+",
            "sex": "male",
            "card_type": "resident",
        }
    ]
    time.sleep(0.5)
    on_bus = []
    while not got.empty():
        on_bus.append(got.get())
    assert on_bus and all("/event/" not in t for t, _ in on_bus), on_bus  # health and presence only
    wire = json.dumps([e.data for _, e in on_bus], ensure_ascii=False)
    logs = caplog.text
    assert "1101**********103X" in logs  # the read was logged, masked
    for secret in (card.id_number, card.name, card.address, card.name.encode("utf-16-le").hex(" ")):
        assert secret not in wire and secret not in logs
