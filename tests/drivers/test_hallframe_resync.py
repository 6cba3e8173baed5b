"""Frame codec resync corner cases, the link's repeat detection and retry rules, and the simulators'
protocol rules (SEQ range, broadcast, a pad that only sends a bad rating with a reason)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from drivers import hallframe as hf
from drivers.caller import CallerDriver
from drivers.errors import DeviceReported, FrameError
from drivers.pad import PadDriver
from drivers.transport import open_transport
from simulators.caller import CallerSimulator
from simulators.display import DisplaySimulator
from simulators.pad import PadSimulator

HEARTBEAT = hf.encode(1, hf.HEARTBEAT)


def test_a_damaged_long_header_does_not_hide_the_next_frame() -> None:
    codec = hf.HallFrameCodec()
    # LEN C8 (200) on both copies: the codec would wait for 207 bytes; a whole frame follows instead
    assert codec.feed(bytes.fromhex("FF 68 C8 C8 68") + HEARTBEAT) == [hf.Frame(1, 1, b"")]
    assert "incomplete frame" in str(codec.errors[0]) and codec.errors[0].raw == bytes.fromhex("FF 68 C8 C8 68")


def test_a_truncated_reply_then_the_repeat() -> None:
    reply = hf.encode(1, 0x81, bytes([0, 0, 1]))
    codec = hf.HallFrameCodec()
    assert codec.feed(reply[:6] + reply) == [hf.Frame(1, 0x81, bytes([0, 0, 1]))]
    assert codec.error_count >= 1


def test_a_long_frame_arriving_in_pieces_is_still_waited_for() -> None:
    text = "请 A001 号到 3 号窗口办理".encode("gb2312")
    raw = hf.encode(1, hf.DISPLAY_SHOW_LINE, bytes([0, 1, 0]) + text)
    codec = hf.HallFrameCodec()
    frames = []
    for i in range(0, len(raw), 3):
        frames += codec.feed(raw[i : i + 3])
    assert frames == [hf.Frame(1, hf.DISPLAY_SHOW_LINE, bytes([0, 1, 0]) + text)] and codec.error_count == 0


def test_a_damaged_length_that_swallowed_the_next_frame() -> None:
    # a key event whose LEN was damaged on both copies so that it spans the heartbeat after it and
    # ends on that heartbeat's 16: the heartbeat inside must survive
    key = bytearray(hf.encode(1, hf.EV_KEY, bytes([5, 1, 0])))
    key[2] = key[3] = len(key) - 5 + len(HEARTBEAT) - 2
    codec = hf.HallFrameCodec()
    assert codec.feed(bytes(key) + HEARTBEAT) == [hf.Frame(1, 1, b"")]
    assert "holding a whole valid frame" in str(codec.errors[0]) and codec.errors[0].raw == bytes(key)


def test_checksum_mismatch_drops_only_up_to_a_frame_start_inside() -> None:
    bad = bytearray(hf.encode(1, hf.EV_KEY, bytes([5, 0xFF, 0x68])))  # data that looks like a frame start
    bad[-2] ^= 0x01
    codec = hf.HallFrameCodec()
    assert codec.feed(bytes(bad) + HEARTBEAT) == [hf.Frame(1, 1, b"")]
    assert "checksum mismatch" in str(codec.errors[0]) and codec.errors[0].raw == bytes(bad)


def test_a_longer_wake_up_preamble_is_not_an_error() -> None:
    codec = hf.HallFrameCodec()
    assert codec.feed(b"\xff\xff\xff" + HEARTBEAT) == [hf.Frame(1, 1, b"")] and codec.error_count == 0
    assert codec.feed(b"\x00\xff" + HEARTBEAT) == [hf.Frame(1, 1, b"")] and codec.error_count == 1


def test_errors_are_bounded_but_counted() -> None:
    codec = hf.HallFrameCodec(keep_errors=4)
    for _ in range(50):
        codec.feed(b"\x00\x01")
    assert len(codec.errors) == 4 and codec.error_count == 50


# frame-like noise: random bytes, bare headers with any LEN, pieces of frames, frames with a byte changed
_FRAMES = [
    hf.encode(1, hf.HEARTBEAT),
    hf.encode(1, 0x81, bytes([0, 0, 1])),
    hf.encode(2, hf.EV_EVAL_RESULT, bytes([9]) + b"A001  " + bytes([4, 4])),
]
_PIECE = st.one_of(
    st.binary(max_size=12),
    st.integers(0, 255).map(lambda n: bytes([0xFF, 0x68, n, n, 0x68])),
    st.tuples(st.sampled_from(_FRAMES), st.integers(1, 17)).map(lambda t: t[0][: t[1]]),
    st.tuples(st.sampled_from(_FRAMES), st.integers(0, 17), st.integers(0, 255)).map(
        lambda t: t[0][: t[1] % len(t[0])] + bytes([t[2]]) + t[0][t[1] % len(t[0]) + 1 :]
    ),
)
NOISE = st.lists(_PIECE, max_size=8).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(NOISE, st.integers(1, 9))
@example(noise=bytes.fromhex("ff 68 05 05 68"), chunk=1)  # a bare header with a plausible LEN
# found by hypothesis: a damaged header whose LEN and (by chance) checksum cover the valid frame after it
@example(
    noise=b"\xffh--h8rs\x93\x98\xf3\xffh\x0b\x0bh\x02A\tA001  \x04\x0f\x0fhh\xff\x01\x02\x02\x02\x16hh\xcc\xff", chunk=1
)
def test_frame_like_noise_never_hides_the_next_valid_frame(noise: bytes, chunk: int) -> None:
    good = hf.encode(2, hf.EV_KEY, bytes([9, 3, 0]))
    stream = noise + good
    codec = hf.HallFrameCodec()
    frames: list[hf.Frame] = []
    for i in range(0, len(stream), chunk):
        frames += codec.feed(stream[i : i + chunk])  # only ever FrameError objects in codec.errors, never raised
    assert all(isinstance(e, FrameError) for e in codec.errors)
    assert frames and frames[-1] == hf.Frame(2, hf.EV_KEY, bytes([9, 3, 0]))


class ScriptedPort:
    """A byte-level stand-in for the serial line whose far end answers from a script (used only
    to play replies no simulator sends on its own: busy, checksum-error results)."""

    def __init__(self, replies: list[bytes]) -> None:
        self.replies = list(replies)
        self.written: list[bytes] = []
        self.timeout = 0.05
        self._pending = b""

    def write(self, data: bytes) -> int:
        self.written.append(bytes(data))
        if not hf.HallFrameCodec().feed(data)[0].is_reply and self.replies:
            self._pending += self.replies.pop(0)
        return len(data)

    def read(self, n: int) -> bytes:
        out, self._pending = self._pending[:n], self._pending[n:]
        return out

    @property
    def in_waiting(self) -> int:
        return len(self._pending)


def test_busy_and_checksum_results_are_retried_other_codes_are_not() -> None:
    busy, crc, ok = (hf.encode(1, 0x81, bytes([c, 0, 1])) for c in (4, 1, 0))
    port = ScriptedPort([busy, crc, ok])
    assert hf.HallLink(port).request(hf.HEARTBEAT) == bytes([0, 1])
    assert len(port.written) == 3
    port = ScriptedPort([hf.encode(1, 0x81, bytes([3]))])
    with pytest.raises(DeviceReported) as err:
        hf.HallLink(port).request(hf.HEARTBEAT)
    assert err.value.code == 3 and len(port.written) == 1
    port = ScriptedPort([busy, busy, busy])
    with pytest.raises(DeviceReported, match="busy"):
        hf.HallLink(port).request(hf.HEARTBEAT)


def test_damaged_replies_only_give_a_protocol_error_with_the_bytes() -> None:
    bad = bytearray(hf.encode(1, 0x81, bytes([0, 0, 1])))
    bad[-2] ^= 0xFF
    port = ScriptedPort([bytes(bad)] * 3)
    with pytest.raises(FrameError, match="checksum mismatch") as err:
        hf.HallLink(port).request(hf.HEARTBEAT)
    assert err.value.raw == bytes(bad)


def test_repeats_are_dropped_but_a_restarted_device_counting_from_one_is_heard() -> None:
    now = [100.0]
    key = hf.encode(1, hf.EV_KEY, bytes([1, 1, 0]))
    port = ScriptedPort([])
    port._pending = key + key + key
    link = hf.HallLink(port, clock=lambda: now[0])
    assert [f.data for f in link.poll()] == [bytes([1, 1, 0])]
    assert link.duplicates == 2 and len(port.written) == 3  # every copy acknowledged
    now[0] += 60  # the keypad restarted a minute later: SEQ 1 again, a new press
    port._pending = key
    assert [f.data for f in link.poll()] == [bytes([1, 1, 0])]
    port._pending = hf.encode(1, hf.EV_KEY, bytes([1, 2, 0]))  # same SEQ, other key, right away: new
    assert [f.data for f in link.poll()] == [bytes([1, 2, 0])]


def test_seq_runs_1_to_255_and_wraps_past_zero() -> None:
    sim = CallerSimulator({"line_rate": "0"})
    seqs = [sim.press("recall") for _ in range(256)]
    assert seqs[0] == 1 and seqs[254] == 255 and seqs[255] == 1 and 0 not in seqs


def test_broadcast_is_obeyed_without_a_reply() -> None:
    sim = DisplaySimulator({"line_rate": "0", "address": "3"})
    text = "暂停".encode("gb2312")
    assert sim.feed(hf.encode(0, hf.DISPLAY_SHOW_LINE, bytes([1, 1, 0]) + text)) == []
    assert sim.lines[1] == "暂停"
    assert sim.feed(hf.encode(3, hf.DISPLAY_CLEAR)) == [hf.encode(3, hf.DISPLAY_CLEAR | hf.REPLY, b"\x00")]
    assert sim.lines == ["", ""]


def test_pad_simulator_refuses_bad_presses_and_bad_plans() -> None:
    sim = PadSimulator({"line_rate": "0"})
    sim.feed(hf.encode(1, hf.PAD_REQUEST_EVAL, b"A001  " + bytes([30])))
    with pytest.raises(ValueError, match="needs a reason"):
        sim.press(4)
    with pytest.raises(ValueError, match="no reason"):
        sim.press(5, "weather")
    with pytest.raises(ValueError, match="1..5"):
        sim.press(0)
    assert sim.press(4, "efficiency") and sim.results == [("A001", 4, "efficiency")]
    with pytest.raises(ValueError, match="press="):
        PadSimulator({"press": "23"})
    assert PadSimulator({"press": "2", "delay": "3"}).after == 3.0
    # a ticket that is not printable ASCII, or a zero timeout, is a bad parameter (03)
    reply = sim.feed(hf.encode(1, hf.PAD_REQUEST_EVAL, b"\xb0\xa1\x00\x00\x00\x00" + bytes([30])))
    assert hf.HallFrameCodec().feed(reply[0])[0].data == b"\x03"


def test_a_malformed_event_raises_but_the_good_ones_with_it_are_kept() -> None:
    port = open_transport("sim://pad?line_rate=0")
    sim = port.simulator
    try:
        link = hf.HallLink(port)
        pad = PadDriver(link)
        # what a broken pad might send: a bad rating without a reason, next to a good rating
        sim.emit(hf.EV_EVAL_RESULT, b"A001  " + bytes([5, 0]))
        sim.emit(hf.EV_EVAL_RESULT, b"A002  " + bytes([1, 0]))
        got: list = []
        errors: list[FrameError] = []
        for _ in range(40):
            try:
                got += pad.poll(0.05)
            except FrameError as exc:
                errors.append(exc)
            if got:
                break
        assert errors and "without a reason" in str(errors[0])
        assert [(e.ticket, e.level) for e in got] == [("A002", 1)]
    finally:
        port.close()


def test_a_bad_key_event_does_not_lose_the_press_after_it() -> None:
    port = open_transport("sim://caller?line_rate=0")
    sim = port.simulator
    try:
        caller = CallerDriver(hf.HallLink(port))
        sim.emit(hf.EV_KEY, bytes([0x7E, 0]))  # a key code the protocol does not have
        sim.press("no_show")
        keys: list = []
        errors = 0
        for _ in range(40):
            try:
                keys += caller.poll(0.05)
            except FrameError:
                errors += 1
            if keys:
                break
        assert errors == 1 and [k.key for k in keys] == ["no_show"]
    finally:
        port.close()


@pytest.mark.parametrize("fault", ["split", "delay=0.1,split", "truncate=1", "no_reply=2", "corrupt=2"])
def test_display_works_through_fault_plans(fault: str) -> None:
    """Every fault a line plays short of silence is absorbed by the retries; the bytes are the device's."""
    from devices.config import DeviceConfig
    from devices.display import WindowDisplay

    display = WindowDisplay(
        DeviceConfig(
            id="d",
            kind="display",
            url=f"sim://display?fault={fault}&baud=19200",
            profile="generic-led-2line",
            options={"baudrate": 19200},  # the line runs at the device's rate
        )
    ).open()
    try:
        sim = display.port.simulator
        display.show("请 B007 号", "到2号窗口")
        assert sim.lines == ["请 B007 号", "到2号窗口"]
        if fault.startswith(("truncate", "no_reply", "corrupt")):
            assert display.link.codec.error_count >= 1 or sim.received.count(hf.encode(1, hf.HEARTBEAT)) >= 2
    finally:
        display.close()


def test_a_late_reply_is_not_taken_for_the_next_commands_answer() -> None:
    """Line 0's reply comes after the host gave up and sent line 0 again; the answer to that copy
    then arrives while the host waits for line 1's: it must not count as line 1's (which is refused)."""
    from simulators.base import serve_tcp

    class SlowOnce(DisplaySimulator):
        slow = True

        def outgoing(self, reply: bytes) -> list[tuple[float, bytes]]:
            if self.slow and hf.HallFrameCodec().feed(reply)[0].cmd == hf.DISPLAY_SHOW_LINE | hf.REPLY:
                self.slow = False
                return [(0.7, reply)]
            return super().outgoing(reply)

    sim = SlowOnce({"line_rate": "0", "rows": "1"})  # a one-line display: line 1 is refused with 03
    served = serve_tcp(sim)
    port = open_transport(served.url, timeout=0.05)
    try:
        from drivers.display import DisplayDriver

        link = hf.HallLink(port)
        display = DisplayDriver(link)
        display.show_line(0, "请 A001 号")  # answered by the first copy's late reply
        with pytest.raises(DeviceReported) as err:
            display.show_line(1, "到3号窗口")
        assert err.value.code == 3 and link.late_replies == 1
        assert sim.lines == ["请 A001 号"]
    finally:
        port.close()
        served.stop()


def test_a_silent_command_leaves_nothing_owed_so_the_next_one_is_heard() -> None:
    port = open_transport("sim://caller?line_rate=0")
    try:
        link = hf.HallLink(port, reply_timeout=0.2)
        port.simulator.faults.no_reply = 3  # the keypad misses one command completely (three copies)
        with pytest.raises(Exception, match="no reply"):
            link.request(hf.HEARTBEAT)
        assert link.request(hf.HEARTBEAT) == bytes([0, 1])  # the next one is not mistaken for a late reply
        assert link.late_replies == 0
    finally:
        port.close()


def test_a_broadcast_is_sent_once_and_not_waited_for() -> None:
    from drivers.display import DisplayDriver

    port = open_transport("sim://display?line_rate=0&address=3")
    try:
        sim = port.simulator
        DisplayDriver(hf.HallLink(port, 3)).show_line(0, "暂停服务")
        assert sim.lines[0] == "暂停服务"
        assert DisplayDriver(hf.HallLink(port, 0)).clear() is None  # no reply is awaited
        hf.HallLink(port, 3).request(hf.HEARTBEAT)  # the display answers its own address after it
        assert sim.lines == ["", ""] and sim.received.count(hf.encode(0, hf.DISPLAY_CLEAR)) == 1
    finally:
        port.close()


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["pad", "caller", "display"]),
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2]),
            st.integers(0, 0x3F) | st.sampled_from([0x01, 0x10, 0x11, 0x12, 0x20, 0x30, 0x31, 0x32]),
            st.binary(max_size=40),
        ),
        max_size=6,
    ),
)
def test_simulators_answer_any_well_framed_command_with_a_valid_reply(kind: str, commands) -> None:
    """A device never falls over on a command it does not like: it answers 02/03 (and stays
    silent on broadcasts and other addresses)."""
    sim = {"pad": PadSimulator, "caller": CallerSimulator, "display": DisplaySimulator}[kind]({"line_rate": "0"})
    for addr, cmd, data in commands:
        replies = sim.feed(hf.encode(addr, cmd, data))
        if addr != 1:
            assert replies == []
            continue
        (frame,) = hf.HallFrameCodec().feed(b"".join(replies))
        assert frame.cmd == cmd | hf.REPLY and frame.data[:1] in (b"\x00", b"\x02", b"\x03", b"\x05")
