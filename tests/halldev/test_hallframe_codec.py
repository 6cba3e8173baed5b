"""The pad/caller/display frame codec: byte fixtures from docs/protocols/evaluation-pad.md and fuzzing."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import hallframe as hf
from drivers.caller import parse_event as parse_key
from drivers.errors import ProtocolError
from drivers.pad import parse_event as parse_pad

FIXTURES = [
    # (description, addr, cmd, data, wire bytes) - the same examples as the protocol document
    ("heartbeat to address 1", 1, 0x01, b"", "FF 68 02 02 68 01 01 02 16"),
    ("heartbeat reply, 0 events pending, version 1", 1, 0x81, bytes([0, 0, 1]), "FF 68 05 05 68 01 81 00 00 01 83 16"),
    ("key call_next, SEQ 5", 1, 0x43, bytes([5, 1, 0]), "FF 68 05 05 68 01 43 05 01 00 4A 16"),
    ("evaluation A001 level 4 reason result, SEQ 9", 2, 0x41, bytes([9]) + b"A001  " + bytes([4, 4]),
     "FF 68 0B 0B 68 02 41 09 41 30 30 31 20 20 04 04 66 16"),
    ("display line 0 centred 请", 1, 0x30, bytes([0, 1, 0]) + "请".encode("gb2312"), "FF 68 07 07 68 01 30 00 01 00 C7 EB E4 16"),
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

    with pytest.raises(ProtocolError):
        parse_pad(hf.Frame(1, 0x41, bytes([1]) + b"A001  " + bytes([5, 0])))  # a bad level without a reason
    with pytest.raises(ProtocolError):
        parse_key(hf.Frame(1, 0x43, bytes([1, 0x99, 0])))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_protocol_errors_and_sync_is_kept(junk: bytes) -> None:
    codec = hf.HallFrameCodec()
    codec.feed(junk)  # never raises
    assert all(isinstance(e, ProtocolError) for e in codec.errors)
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
