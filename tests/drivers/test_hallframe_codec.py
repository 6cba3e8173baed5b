"""The pad/caller/display frame codec: byte fixtures from docs/protocols/evaluation-pad.md and fuzzing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import hallframe as hf
from drivers.caller import parse_event as parse_key
from drivers.errors import FrameError
from drivers.pad import parse_event as parse_pad
from tests.helpers import ROOT

FIXTURES = [
    # (description, addr, cmd, data, wire bytes) - the same examples as the protocol document
    ("heartbeat to address 1", 1, 0x01, b"", "FF 68 02 02 68 01 01 02 16"),
    ("heartbeat reply, 0 events pending, version 1", 1, 0x81, bytes([0, 0, 1]), "FF 68 05 05 68 01 81 00 00 01 83 16"),
    ("key call_next, SEQ 5", 1, 0x43, bytes([5, 1, 0]), "FF 68 05 05 68 01 43 05 01 00 4A 16"),
    (
        "evaluation A001 level 4 reason result, SEQ 9",
        2,
        0x41,
        bytes([9]) + b"A001  " + bytes([4, 4]),
        "FF 68 0B 0B 68 02 41 09 41 30 30 31 20 20 04 04 66 16",
    ),
    (
        "display line 0 centred 请",
        1,
        0x30,
        bytes([0, 1, 0]) + "请".encode("gb2312"),
        "FF 68 07 07 68 01 30 00 01 00 C7 EB E4 16",
    ),
    (
        "pad 2 show window 3, S0301, 王芳",
        2,
        0x10,
        bytes([3]) + b"S0301   " + bytes([4]) + "王芳".encode("gb2312"),
        "FF 68 10 10 68 02 10 03 53 30 33 30 31 20 20 20 04 CD F5 B7 BC C5 16",
    ),
    (
        "pad 2 request evaluation A001 30 s",
        2,
        0x11,
        b"A001  " + bytes([30]),
        "FF 68 09 09 68 02 11 41 30 30 31 20 20 1E 43 16",
    ),
    ("its reply: done", 2, 0x91, b"\x00", "FF 68 03 03 68 02 91 00 93 16"),
    ("pad 2 timeout A001 SEQ 10", 2, 0x42, bytes([10]) + b"A001  ", "FF 68 09 09 68 02 42 0A 41 30 30 31 20 20 60 16"),
    ("pad 2 cancel: none pending", 2, 0x92, b"\x05", "FF 68 03 03 68 02 92 05 99 16"),
    (
        "caller show A001 已呼叫",
        1,
        0x20,
        "A001 已呼叫".encode("gb2312"),
        "FF 68 0D 0D 68 01 20 41 30 30 31 20 D2 D1 BA F4 BD D0 F1 16",
    ),
    ("key transfer to 4, SEQ 6", 1, 0x43, bytes([6, 4, 4]), "FF 68 05 05 68 01 43 06 04 04 52 16"),
    ("display: bad parameter", 1, 0xB0, b"\x03", "FF 68 03 03 68 01 B0 03 B4 16"),
    ("display brightness 8", 1, 0x32, b"\x08", "FF 68 03 03 68 01 32 08 3B 16"),
    ("display clear", 1, 0x31, b"", "FF 68 02 02 68 01 31 32 16"),
    ("broadcast clear", 0, 0x31, b"", "FF 68 02 02 68 00 31 31 16"),
]


def test_fixtures_are_the_documents_examples() -> None:

    doc = (ROOT / "docs/protocols/evaluation-pad.md").read_text(encoding="utf-8")
    for what, *_, wire in FIXTURES:
        assert f"`{wire}`" in doc, what


def test_drivers_send_the_documented_bytes() -> None:
    from drivers.caller import CallerDriver
    from drivers.display import DisplayDriver
    from drivers.pad import PadDriver

    class Wire:  # the far end: records what the driver writes and answers "done" (DATA 00)
        timeout = 0.05

        def __init__(self) -> None:
            self.sent: list[str] = []
            self.pending = b""

        def write(self, data: bytes) -> int:
            self.sent.append(data.hex(" ").upper())
            f = hf.HallFrameCodec().feed(data)[0]
            self.pending += hf.encode(f.addr, f.cmd | hf.REPLY, b"\x00")
            return len(data)

        def read(self, n: int) -> bytes:
            out, self.pending = self.pending[:n], self.pending[n:]
            return out

        @property
        def in_waiting(self) -> int:
            return len(self.pending)

    wire = Wire()
    pad = PadDriver(hf.HallLink(wire, 2))
    pad.show_info(3, "S0301", "王芳")
    pad.request_evaluation("A001", 30)
    CallerDriver(hf.HallLink(wire, 1)).show_text("A001 已呼叫")
    display = DisplayDriver(hf.HallLink(wire, 1))
    display.show_line(0, "请")
    display.brightness(8)
    display.clear()
    byname = {f[0]: f[4] for f in FIXTURES}
    assert wire.sent == [
        byname["pad 2 show window 3, S0301, 王芳"],
        byname["pad 2 request evaluation A001 30 s"],
        byname["caller show A001 已呼叫"],
        byname["display line 0 centred 请"],
        byname["display brightness 8"],
        byname["display clear"],
    ]


def test_fixtures_encode_and_decode() -> None:
    for what, addr, cmd, data, wire in FIXTURES:
        raw = bytes.fromhex(wire)
        assert hf.encode(addr, cmd, data) == raw, what
        assert hf.HallFrameCodec().feed(raw) == [hf.Frame(addr, cmd, data)], what


def test_parsed_events() -> None:
    frames = hf.HallFrameCodec().feed(bytes.fromhex(FIXTURES[2][4] + FIXTURES[3][4]))
    assert parse_key(frames[0]).key == "call_next"
    ev = parse_pad(frames[1])
    assert (ev.ticket, ev.level, ev.reason, ev.timed_out) == ("A001", 4, "result", False)


def test_checksum_mismatch_is_reported_and_the_next_frame_survives() -> None:
    good = bytes.fromhex(FIXTURES[0][4])
    bad = bytearray(bytes.fromhex(FIXTURES[2][4]))
    bad[-2] ^= 0x01
    codec = hf.HallFrameCodec()
    assert codec.feed(bytes(bad) + good) == [hf.Frame(1, 1, b"")]
    assert "checksum mismatch" in str(codec.errors[0]) and codec.errors[0].raw == bytes(bad)


def test_split_anywhere() -> None:
    raw = b"".join(bytes.fromhex(f[4]) for f in FIXTURES)
    for cut in range(1, len(raw)):
        codec = hf.HallFrameCodec()
        frames = codec.feed(raw[:cut]) + codec.feed(raw[cut:])
        assert len(frames) == len(FIXTURES), cut


def test_bad_pad_event_is_a_protocol_error() -> None:
    import pytest

    with pytest.raises(FrameError):
        parse_pad(hf.Frame(1, 0x41, bytes([1]) + b"A001  " + bytes([5, 0])))  # a bad level without a reason
    with pytest.raises(FrameError):
        parse_key(hf.Frame(1, 0x43, bytes([1, 0x99, 0])))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_protocol_errors_and_sync_is_kept(junk: bytes) -> None:
    codec = hf.HallFrameCodec()
    codec.feed(junk)  # never raises
    assert all(isinstance(e, FrameError) for e in codec.errors)
    good = hf.encode(1, 0x43, bytes([7, 2, 0]))
    frames = codec.feed(good + good)
    assert frames[-1] == hf.Frame(1, 0x43, bytes([7, 2, 0]))  # at the latest the second copy is whole


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_frames_never_hide_the_following_valid_frame(data) -> None:
    frame = bytearray(hf.encode(1, 0x41, bytes([3]) + b"B012  " + bytes([2, 0])))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(frame) - 1))
        frame[i] = data.draw(st.integers(0, 255))
    follow = hf.encode(1, 0x01, b"")
    codec = hf.HallFrameCodec()
    out = codec.feed(bytes(frame) + follow + follow)
    assert hf.Frame(1, 0x01, b"") in out
