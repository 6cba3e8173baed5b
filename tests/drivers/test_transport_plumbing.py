"""The shared plumbing: sim:// URLs, pty and TCP serving, fault plans, and the device layer's states."""

from __future__ import annotations

import queue
import time

import pytest
import serial

from devices.base import Device, DeviceOffline, DeviceState, DeviceTimeout
from devices.config import DeviceConfig
from drivers.errors import ReplyTimeout, TransportError
from drivers.transport import open_transport
from hall_bus.hosts.device_bridge import bridged
from simulators import registry
from simulators.base import FaultPlan, SimulatedDevice, serve_pty, serve_tcp


class EchoDevice(SimulatedDevice):
    """Answers each line ``X\\n`` with ``OK X\\n`` (a stand-in device for the plumbing tests)."""

    kind = "echo-test"

    def __init__(self, query=None) -> None:
        super().__init__(query)
        self.buf = b""

    def handle(self, data: bytes) -> list[bytes]:
        self.buf += data
        out = []
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            out.append(b"OK " + line + b"\n")
        return out

    def corrupt(self, reply: bytes) -> bytes:  # the byte before the newline plays the checksum
        return reply[:-2] + bytes([reply[-2] ^ 0x20]) + reply[-1:]


registry.register("echo-test", EchoDevice)


def ask(port: serial.SerialBase, text: bytes) -> bytes:
    port.write(text + b"\n")
    return port.readline()


def test_sim_url_is_an_ordinary_serial_port() -> None:
    port = open_transport("sim://echo-test?id=plumb-1&baud=115200", baudrate=115200, timeout=2)
    try:
        assert ask(port, b"hello") == b"OK hello\n"
        sim = registry.instance("plumb-1")
        assert sim is port.simulator and bytes(sim.received) == b"hello\n"
        assert sim.baudrate == 115200
    finally:
        port.close()


@pytest.mark.parametrize("serve", [serve_pty, serve_tcp])
def test_pty_and_tcp_serving(serve) -> None:
    served = serve(EchoDevice({"baud": "115200"}))
    try:
        port = open_transport(served.url, baudrate=115200, timeout=2)
        assert ask(port, b"abc") == b"OK abc\n"
        port.close()
        port = open_transport(served.url, baudrate=115200, timeout=2)  # a second driver after the first left
        assert ask(port, b"again") == b"OK again\n"
        port.close()
    finally:
        served.stop()


def test_fault_plan_parsing() -> None:
    plan = FaultPlan.parse("delay=0.2,corrupt=1,split,no_reply=-1,no_card,jammed:1:3")
    assert plan.delay_s == 0.2 and plan.corrupt_checksum == 1 and plan.split and plan.no_reply == -1
    assert plan.has("no_card") and plan.device_args("jammed") == [["1", "3"]]
    with pytest.raises(ValueError, match="unknown fault"):
        FaultPlan.parse("explode=1")
    with pytest.raises(ValueError, match="not a number"):
        FaultPlan.parse("delay=soon")


def test_faults_on_the_wire() -> None:
    port = open_transport("sim://echo-test?fault=corrupt=1&line_rate=0", timeout=0.5)
    try:
        assert ask(port, b"one") == b"OK onE\n"  # the "checksum" byte flipped, once
        assert ask(port, b"two") == b"OK two\n"
    finally:
        port.close()
    port = open_transport("sim://echo-test?fault=no_reply=1&line_rate=0", timeout=0.5)
    try:
        assert ask(port, b"one") == b""  # no reply: the read times out empty, like hardware
        assert ask(port, b"three") == b"OK three\n"
    finally:
        port.close()
    port = open_transport("sim://echo-test?fault=split&line_rate=0", timeout=1)
    try:
        assert ask(port, b"split-me") == b"OK split-me\n"  # two chunks, reassembled by the reader
    finally:
        port.close()


def test_line_rate_emulation_figures() -> None:
    dev = EchoDevice({"baud": "9600"})
    assert dev.wire_seconds(960) == pytest.approx(1.0)
    assert EchoDevice({"baud": "9600", "line_rate": "0"}).wire_seconds(960) == 0.0


def test_bad_urls_are_transport_errors() -> None:
    with pytest.raises(TransportError, match="/dev/ttyNOPE"):
        open_transport("/dev/ttyNOPE")
    with pytest.raises(TransportError, match="no simulator of kind"):
        open_transport("sim://no-such-kind")
    with pytest.raises(TransportError):
        open_transport("socket://127.0.0.1:1")


class EchoReader(Device):
    """A device over the echo simulator, to exercise the device layer."""

    kind = "echo-test"
    backoff_min_s = 0.05

    def _open_driver(self) -> None:
        self.port = open_transport(self.config.url, timeout=0.3)

    def _close_driver(self) -> None:
        self.port.close()

    def _probe(self) -> None:
        self.ping()

    def ping(self) -> bytes:
        reply = ask(self.port, b"ping")
        if not reply:
            raise ReplyTimeout("no answer to ping", b"ping\n", b"")
        return reply

    def call(self) -> bytes:
        return self.guard(self.ping)


def test_device_states_and_reconnect(bus_factory, hall_id: str) -> None:
    served = serve_tcp(EchoDevice({"line_rate": "0"}))
    port = served.port
    watcher = bus_factory("watcher")
    states: queue.Queue = queue.Queue()
    from hall_bus.bus import topics

    watcher.subscribe(topics.device_state(hall_id, "echo-1"), lambda t, e: states.put(e.data["state"]))
    time.sleep(0.2)
    dev = bridged(
        EchoReader(DeviceConfig(id="echo-1", kind="echo-test", url=served.url)), bus_factory("kiosk-1"), hall_id
    )
    dev.open()
    assert dev.state == DeviceState.READY and dev.call() == b"OK ping\n"
    served.stop()  # unplugged
    with pytest.raises((DeviceOffline, DeviceTimeout)):
        dev.call()
    with pytest.raises(DeviceOffline):
        dev.call()
    assert dev.state == DeviceState.OFFLINE
    served = serve_tcp(EchoDevice({"line_rate": "0"}), port=port)  # plugged back in
    try:
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                assert dev.call() == b"OK ping\n"
                break
            except DeviceOffline:
                time.sleep(0.05)
        assert dev.state == DeviceState.READY
        seen = []
        while not states.empty():
            seen.append(states.get())
        assert "ready" in seen and "offline" in seen
    finally:
        dev.close()
        served.stop()
