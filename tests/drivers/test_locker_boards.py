"""8A/80 lock boards: frame fixtures, codec properties, driver vs simulator over pty and TCP,
door scripts, polarity, several boards on one line, timeouts, and the LockerBank device."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import DeviceState, DeviceTimeout
from devices.config import DeviceConfig
from devices.locker import LockerBank
from drivers import locker as lb
from drivers.errors import FrameError, ReplyTimeout
from drivers.transport import open_transport
from simulators import registry
from simulators.base import serve_pty, serve_tcp
from simulators.locker import LockerSimulator


def test_frames_match_the_protocol_page() -> None:
    assert lb.open_request(1, 1) == bytes.fromhex("8A 01 01 11 9B")  # the example in docs/protocols/locker-boards.md
    assert lb.query_request(2, 5) == bytes.fromhex("80 02 05 33 B4")
    assert lb.query_request(1, 0) == bytes.fromhex("80 01 00 33 B2")
    assert lb.levels_to_bits({1: True, 9: True, 32: True}) == (0x80, 0x00, 0x01, 0x01)
    assert lb.bits_to_levels(0x80, 0, 0x01, 0x01, 32) == {n: n in (1, 9, 32) for n in range(1, 33)}


def test_simulator_replies_byte_exact() -> None:
    sim = LockerSimulator({"boards": "1", "fire_ms": "0", "auto_close_s": "none"})
    assert sim.feed(lb.open_request(1, 1)) == [bytes.fromhex("8A 01 01 11 9B")]  # door open, 0x11
    assert sim.feed(lb.query_request(1, 1)) == [bytes.fromhex("80 01 01 11 91")]
    assert sim.feed(lb.query_request(1, 0)) == [bytes.fromhex("80 01 00 00 00 01 33 B3")]
    assert sim.feed(lb.query_request(3, 1)) == []  # no board 3 on the line: silence


@settings(max_examples=300, deadline=None)
@given(junk=st.binary(max_size=100), split=st.integers(0, 110))
def test_request_codec_only_protocol_errors_and_keeps_sync(junk: bytes, split: int) -> None:
    codec = lb.RequestCodec()
    stream = junk + lb.query_request(7, 3)
    got: list[lb.Request] = []
    for piece in (stream[:split], stream[split:]):
        chunk = piece
        while True:
            try:
                got += codec.feed(chunk)
                break
            except FrameError as exc:
                got += exc.frames
                chunk = b""
    assert got and got[-1] == lb.Request(lb.QUERY, 7, 3, lb.CMD_QUERY)


@pytest.fixture(params=["pty", "tcp"])
def line(request):
    started = []

    def start(**query: str):
        query.setdefault("fire_ms", "20")
        sim = LockerSimulator(query)
        s = serve_pty(sim) if request.param == "pty" else serve_tcp(sim)
        started.append(s)
        return s.url, sim

    yield start
    for s in started:
        s.stop()


def bus_on(url: str, **kw) -> lb.LockBoardBus:
    kw.setdefault("reply_timeout_s", 0.3)
    return lb.LockBoardBus(open_transport(url, baudrate=9600, timeout=0.1), **kw)


def test_two_boards_open_query_and_scripts(line) -> None:
    url, sim = line(boards="1,2", auto_close_s="none")
    drv = bus_on(url)
    try:
        assert drv.open_lock(2, 7) is True
        assert drv.query(2, 7) is True and drv.query(1, 7) is False
        doors = drv.query_all(2)
        assert [n for n, o in doors.items() if o] == [7] and len(doors) == 24
        sim.script(1, 3, "jammed")
        assert drv.open_lock(1, 3) is False
        sim.script(1, 4, "open_then_close", after_s=0.2)
        assert drv.open_lock(1, 4) is True
        sim.script(1, 5, "never_close")
        assert drv.open_lock(1, 5) is True
        sim.close_door(2, 7)
        assert drv.query(2, 7) is False
        drv.open_all(2)
        assert all(drv.query_all(2).values())
        assert sim.door_open(1, 5) and not sim.door_open(1, 3)
    finally:
        drv.close()
    assert sim.doors[(1, 3)].fired == 1


def test_polarity_is_per_model(line) -> None:
    url, sim = line(boards="1", open_value="00", auto_close_s="none", locks="16")
    wrong = bus_on(url, door_open_value=lb.SENSOR_HIGH, locks_per_board=16)
    try:
        assert wrong.query(1, 1) is True  # a closed door read with the wrong wiring setting
    finally:
        wrong.close()
    right = bus_on(url, door_open_value=lb.SENSOR_LOW, locks_per_board=16)
    try:
        assert right.query(1, 1) is False
        assert right.open_lock(1, 1) is True
        assert [n for n, o in right.query_all(1).items() if o] == [1]
    finally:
        right.close()


def test_offline_board_and_absent_board_time_out(line) -> None:
    url, sim = line(boards="1,2", fault="board_offline:2")
    drv = bus_on(url)
    try:
        with pytest.raises(ReplyTimeout) as info:
            drv.query(2, 1)
        assert info.value.sent == lb.query_request(2, 1) and info.value.received == b""
        with pytest.raises(ReplyTimeout):
            drv.query_all(9)
        sim.set_offline(2, False)
        assert drv.query(2, 1) is False
        with pytest.raises(ValueError, match="lock 25"):
            drv.query(1, 25)
    finally:
        drv.close()


def test_corrupted_and_truncated_replies(line) -> None:
    url, sim = line(boards="1", fault="corrupt=1")
    drv = bus_on(url)
    try:
        with pytest.raises(FrameError, match="checksum"):
            drv.query(1, 1)
        sim.faults.truncate = 1
        with pytest.raises(ReplyTimeout):
            drv.query(1, 1)
        assert drv.query(1, 1) is False  # the line recovers for the next exchange
    finally:
        drv.close()


def test_jammed_fault_word() -> None:
    sim = LockerSimulator({"boards": "1", "fire_ms": "0", "fault": "jammed:1:3"})
    assert sim.feed(lb.open_request(1, 3)) == [lb.frame(lb.OPEN, 1, 3, lb.SENSOR_LOW)]


# ---------------------------------------------------------------------------- the device
def bank(url: str, boards=(1, 2), profile: str = "8a80-24") -> LockerBank:
    return LockerBank(
        DeviceConfig(
            id="lockers-a",
            kind="locker",
            url=url,
            profile=profile,
            options={"boards": list(boards), "poll_interval_s": 0.05},
        )
    ).open()


def test_locker_bank_open_status_wait_closed() -> None:
    dev = bank("sim://locker?boards=1,2&fire_ms=20&auto_close_s=none&id=bank-test-1")
    sim = registry.instance("bank-test-1")
    try:
        assert dev.state == DeviceState.READY
        sim.script(2, 4, "open_then_close", after_s=0.3)
        assert dev.open(2, 4) is True
        assert dev.status(2)[4] == "open"
        assert dev.wait_closed(2, 4, 5.0) is True
        assert dev.status(2)[4] == "closed"
        sim.script(1, 1, "never_close")
        assert dev.open(1, 1) is True
        assert dev.wait_closed(1, 1, 0.2) is False
        sim.script(1, 2, "jammed")
        assert dev.open(1, 2) is False
        with pytest.raises(ValueError, match="board 5"):
            dev.status(5)
    finally:
        dev.close()


def test_locker_bank_degrades_with_an_offline_board() -> None:
    dev = bank("sim://locker?boards=1,2&fire_ms=20&fault=board_offline:2&id=bank-test-2")
    sim = registry.instance("bank-test-2")
    try:
        assert dev.state == DeviceState.DEGRADED and "[2]" in dev.detail
        assert dev.status(1)[1] == "closed"
        assert dev.state == DeviceState.DEGRADED
        with pytest.raises(DeviceTimeout):
            dev.open(2, 1)
        sim.set_offline(2, False)
        assert dev.status(2)[1] == "closed"
        assert dev.state == DeviceState.READY
    finally:
        dev.close()


def test_inverted_profile_reads_the_right_doors() -> None:
    dev = bank(
        "sim://locker?boards=1&locks=16&open_value=00&fire_ms=20&auto_close_s=none", boards=(1,), profile="8a80-16-nc"
    )
    try:
        assert set(dev.status(1).values()) == {"closed"} and len(dev.status(1)) == 16
        assert dev.open(1, 16) is True
        assert dev.status(1)[16] == "open"
    finally:
        dev.close()
