"""A baud mismatch garbles frames as a real UART would (issue 13, item 17): the simulators' line
knows the driver's rate (a pty's termios, the ``sim://`` port's rate) and resamples the bits."""

from __future__ import annotations

import pytest

from drivers import hallframe as hf
from drivers import idcard as sam
from drivers.errors import FrameError, ReplyTimeout
from drivers.idcard import IdCardDriver
from drivers.transport import open_transport
from simulators.base import serve_pty
from simulators.idcard import IdCardSimulator
from simulators.uart import resample

FRAME = sam.request(*sam.FIND_CARD)


def test_the_same_rate_or_a_few_per_cent_off_reads_every_byte() -> None:
    data = bytes(range(256))
    assert resample(data, 9600, 9600) == data
    assert resample(data, 9600, 9600 * 102 // 100) == data  # crystals are never exact
    assert resample(data, 115200, 115200 * 97 // 100) == data


@pytest.mark.parametrize(("tx", "rx"), [(9600, 115200), (115200, 9600), (9600, 19200), (19200, 9600)])
def test_a_wrong_rate_reads_other_bytes(tx: int, rx: int) -> None:
    got = resample(FRAME, tx, rx)
    assert got != FRAME
    try:
        frames = sam.IdCardCodec().feed(got)
    except FrameError:
        frames = []
    assert frames == []  # no frame in what arrives


def test_a_faster_receiver_reads_a_nul_per_slow_low_bit_and_a_slower_one_a_byte_per_burst() -> None:
    # 0x55 in 8N1 is low in its start bit and bits 1, 3, 5, 7: at 115200 each of those 9600 bits is
    # twelve bit times of low line, a NUL with a framing error
    assert resample(b"\x55\x55", 9600, 115200) == bytes(10)
    # two bytes at 115200 pass in the first bit time of a 9600 receiver: one start edge, one byte
    assert resample(b"\x55\x55", 115200, 9600) == b"\xfe"


def read_over(url: str, baudrate: int) -> str:
    port = open_transport(url, baudrate=baudrate, timeout=0.3)
    try:
        return IdCardDriver(port, reply_timeout_s=0.4, retries=1).read_card().masked_id
    except (ReplyTimeout, FrameError) as exc:
        return str(exc)
    finally:
        port.close()


def test_a_sim_url_at_the_devices_rate_reads_and_at_another_rate_does_not() -> None:
    assert read_over("sim://idcard?card=0", 115200) == "1101**********103X"  # a SAM reader's own rate
    assert read_over("sim://idcard?card=0&baud=9600", 9600) == "1101**********103X"  # a reader set to 9600
    wrong = read_over("sim://idcard?card=0", 9600)
    assert "ID card reader: no complete reply" in wrong
    assert "check the baud rate (--baud)" in wrong or "the baud rate (--baud)" in wrong


def test_a_pty_tells_the_simulator_the_rate_the_driver_set() -> None:
    served = serve_pty(IdCardSimulator({"card": "0"}))  # a SAM reader: 115200 baud
    try:
        assert read_over(served.url, 115200) == "1101**********103X"
        assert "no complete reply" in read_over(served.url, 9600)
        assert served.device.host_baud == 9600
        assert read_over(served.url, 115200) == "1101**********103X"  # set right again: it reads
    finally:
        served.stop()


def test_a_hall_frame_device_at_the_wrong_rate_names_the_likely_causes() -> None:
    port = open_transport("sim://display?baud=19200", baudrate=9600, timeout=0.05)
    try:
        link = hf.HallLink(port, 1, reply_timeout=0.2, retries=1)
        with pytest.raises((ReplyTimeout, FrameError), match=r"the baud rate \(--baud\)"):
            link.request(hf.HEARTBEAT)
    finally:
        port.close()
