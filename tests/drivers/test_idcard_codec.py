"""SAM frame codec, card layouts and identity rules: byte fixtures and property tests."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices import identity
from drivers import idcard as sam
from drivers import personal
from drivers.errors import FrameError
from simulators.cards import DECK

# Frames written out by hand from docs/protocols/idcard-sam.md, checksums computed on paper.
FIND_CARD = bytes.fromhex("AAAAAA9669 0003 2001 22")  # the example in docs/protocols/idcard-sam.md
SELECT_CARD = bytes.fromhex("AAAAAA9669 0003 2002 21")
READ_TEXT = bytes.fromhex("AAAAAA9669 0003 3001 32")
SAM_STATUS = bytes.fromhex("AAAAAA9669 0003 11FF ED")
FIND_OK_REPLY = bytes.fromhex("AAAAAA9669 0008 00009F 00000000 97")  # 00^08^9F = 97
NO_CARD_REPLY = bytes.fromhex("AAAAAA9669 0004 000080 84")
READ_FAIL_REPLY = bytes.fromhex("AAAAAA9669 0004 000041 45")


@pytest.mark.parametrize(
    "frame,cmd",
    [
        (FIND_CARD, sam.FIND_CARD),
        (SELECT_CARD, sam.SELECT_CARD),
        (READ_TEXT, sam.READ_TEXT_PHOTO),
        (SAM_STATUS, sam.SAM_STATUS),
    ],
)
def test_request_frames_match_fixtures(frame: bytes, cmd: tuple[int, int]) -> None:
    assert sam.request(*cmd) == frame
    (decoded,) = sam.IdCardCodec().feed(frame)
    assert (decoded.cmd, decoded.para) == cmd


def test_reply_fixtures_decode_with_status() -> None:
    codec = sam.IdCardCodec()
    frames = codec.feed(FIND_OK_REPLY + NO_CARD_REPLY + READ_FAIL_REPLY)
    assert [f.sw3 for f in frames] == [0x9F, 0x80, 0x41]
    assert frames[0].data == bytes(4)
    assert sam.reply(0x9F, bytes(4)) == FIND_OK_REPLY


def test_byte_by_byte_and_noise_between_frames() -> None:
    codec = sam.IdCardCodec()
    stream = b"\x00\xaa\xaa\x55" + FIND_CARD + b"\xaa\xaa" + SELECT_CARD
    frames = [f for b in stream for f in codec.feed(bytes([b]))]
    assert [(f.cmd, f.para) for f in frames] == [sam.FIND_CARD, sam.SELECT_CARD]
    assert codec.skipped == 6


def test_bad_checksum_raises_protocol_error_and_keeps_next_frame() -> None:
    bad = FIND_CARD[:-1] + b"\x23"
    codec = sam.IdCardCodec()
    with pytest.raises(FrameError, match="checksum 23, computed 22") as info:
        codec.feed(bad + SELECT_CARD)
    assert info.value.raw == bad
    assert [(f.cmd, f.para) for f in codec.feed(b"")] == [sam.SELECT_CARD]


def test_truncated_frame_is_reported_when_the_next_one_arrives() -> None:
    long_reply = sam.reply(sam.OK, bytes(1284))  # LEN 0x0508 like a text+photo read
    assert long_reply[5:7] == b"\x05\x08"
    codec = sam.IdCardCodec()
    assert codec.feed(long_reply[:100]) == []
    frames, errors = sam.decode_all(codec, FIND_CARD)
    assert [(f.cmd, f.para) for f in frames] == [sam.FIND_CARD]
    assert len(errors) == 1 and "cut short" in str(errors[0])
    # a short frame cut off is caught by its checksum instead
    frames, errors = sam.decode_all(sam.IdCardCodec(), READ_TEXT[:8] + FIND_CARD)
    assert [(f.cmd, f.para) for f in frames] == [sam.FIND_CARD] and "checksum" in str(errors[0])


def test_length_out_of_range() -> None:
    with pytest.raises(FrameError, match="length 65535"):
        sam.IdCardCodec().feed(bytes.fromhex("AAAAAA9669 FFFF 00"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk=st.binary(max_size=300), chunks=st.lists(st.integers(1, 64), max_size=40))
def test_random_bytes_only_protocol_errors_and_next_frame_survives(junk: bytes, chunks: list[int]) -> None:
    codec = sam.IdCardCodec()
    stream = junk + FIND_OK_REPLY
    frames: list[sam.Frame] = []
    pos = 0
    for size in chunks + [len(stream)]:
        piece, pos = stream[pos : pos + size], pos + size
        got, _errors = sam.decode_all(codec, piece)  # anything but FrameError fails the test
        frames += got
    assert frames and frames[-1].body == FIND_OK_REPLY[7:-1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_frames_never_cost_the_following_frame(data: st.DataObject) -> None:
    card_reply = sam.reply(
        sam.OK, (256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + sam.encode_text(DECK[1]) + bytes(1024)
    )
    original = bytearray(data.draw(st.sampled_from([FIND_CARD, NO_CARD_REPLY, card_reply])))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "drop", "insert", "cut"]))
        i = data.draw(st.integers(0, max(0, len(original) - 1)))
        if op == "flip" and original:
            original[i] ^= data.draw(st.integers(1, 255))
        elif op == "drop" and original:
            del original[i]
        elif op == "insert":
            original.insert(i, data.draw(st.integers(0, 255)))
        elif op == "cut":
            del original[i:]
    frames, _errors = sam.decode_all(sam.IdCardCodec(), bytes(original) + SELECT_CARD)
    assert frames and frames[-1].cmd == 0x20 and frames[-1].para == 0x02


# ---------------------------------------------------------------------------- card layouts
def test_resident_layout_at_the_documented_offsets() -> None:
    text = sam.encode_text(DECK[0])
    assert len(text) == 256
    assert text[0:6].decode("utf-16-le") == "张伟民"
    assert text[30:32].decode("utf-16-le") == "1"
    assert text[32:36].decode("utf-16-le") == "01"
    assert text[36:52].decode("utf-16-le") == "19480312"
    assert text[122:158].decode("utf-16-le") == "11010119480312103X"
    assert text[204:208].decode("utf-16-le") == "长期"
    card = sam.parse_text(text)
    assert card == DECK[0]
    assert card.card_type == "resident" and card.valid_to is None and card.checksum_ok
    assert card.masked_id == "1101**********103X"
    assert "11010119480312103X" not in repr(card) and "张伟民" not in repr(card)


def test_j_and_i_layouts() -> None:
    j = sam.encode_text(DECK[4])
    assert j[248:250].decode("utf-16-le") == "J"
    assert j[220:238].decode("utf-16-le") == "H60123456"
    card = sam.parse_text(j)
    assert (card.card_type, card.pass_number, card.issue_count, card.nation) == ("J", "H60123456", 1, "")
    i = sam.encode_text(DECK[5])
    assert i[0:22].decode("utf-16-le") == "SMITH, JOHN"
    assert i[122:152].decode("utf-16-le") == "USA310176040115"
    assert i[158:164].decode("utf-16-le") == "史约翰"
    assert i[220:236].decode("utf-16-le") == "19760401"
    card = sam.parse_text(i)
    assert (card.card_type, card.name, card.name_en, card.nation) == ("I", "史约翰", "SMITH, JOHN", "USA")
    assert card.checksum_ok is None and card.birth == dt.date(1976, 4, 1)


def test_deck_numbers_have_valid_check_digits_and_wrong_ones_are_caught() -> None:
    numbers = [c.id_number for c in DECK if c.card_type != "I"]
    assert all(sam.id_checksum_ok(n) for n in numbers)
    assert any(n.endswith("X") for n in numbers)
    assert sam.id_check_digit("11010519491231002") == "X"  # the GB 11643 standard's own example
    bad = DECK[3].id_number[:-1] + ("0" if DECK[3].id_number[-1] != "0" else "1")
    text = sam.encode_text(sam.Card(**{**DECK[3].__dict__, "id_number": bad}))
    assert sam.parse_text(text).checksum_ok is False


def test_bad_text_block_is_a_protocol_error() -> None:
    with pytest.raises(FrameError, match="256"):
        sam.parse_text(b"\x20\x00" * 10)
    text = bytearray(sam.encode_text(DECK[1]))
    text[36:52] = "1955x718".encode("utf-16-le")
    with pytest.raises(FrameError, match="birth date") as info:
        sam.parse_text(bytes(text))
    assert "1955" not in str(info.value)


def test_read_reply_split_drops_photo() -> None:
    text = sam.encode_text(DECK[2])
    data = (256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + text + os.urandom(1024)
    assert sam.split_read_reply(data) == text
    with pytest.raises(FrameError, match="lengths say"):
        sam.split_read_reply(data[:-1])


# ---------------------------------------------------------------------------- identity rules
def test_masks() -> None:
    assert personal.mask_id("11010119480312103X") == "1101**********103X"
    assert personal.mask_name("张伟民") == "张**"
    assert personal.mask_name("王") == "王*"


def test_age_bands() -> None:
    today = dt.date(2026, 3, 12)
    assert identity.age_years(dt.date(1948, 3, 12), today) == 78
    assert identity.age_years(dt.date(1948, 3, 13), today) == 77
    assert [identity.age_band(a) for a in (0, 17, 18, 59, 60, 69, 70, 101)] == [
        "<18",
        "<18",
        "18-59",
        "18-59",
        "60-69",
        "60-69",
        "70+",
        "70+",
    ]


def test_token_salt_from_env_and_from_a_private_file(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(identity.SALT_ENV, raising=False)
    salt = identity.hall_salt(tmp_path)
    path = tmp_path / identity.SALT_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert identity.hall_salt(tmp_path) == salt == path.read_bytes()
    token = identity.identity_token("11010119480312103x", salt)
    assert token == identity.identity_token("11010119480312103X", salt) and len(token) == 64
    assert token != identity.identity_token("11010119480312103X", b"another hall's salt")
    monkeypatch.setenv(identity.SALT_ENV, "from-env")
    assert identity.hall_salt(tmp_path) == b"from-env"


def test_frame_that_borrows_the_next_preamble_is_rejected() -> None:
    # a read reply loses two photo bytes (zeros: its checksum still holds once "AA AA" of the next
    # frame fill the length); the codec must give the next frame back, not the damaged one
    card_reply = sam.reply(
        sam.OK, (256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + sam.encode_text(DECK[1]) + bytes(1024)
    )
    damaged = card_reply[:500] + card_reply[502:]
    frames, errors = sam.decode_all(sam.IdCardCodec(), damaged + SELECT_CARD)
    assert [(f.cmd, f.para) for f in frames] == [sam.SELECT_CARD]
    assert "overlaps" in str(errors[0])


def test_back_to_back_frames_with_checksum_aa() -> None:
    first = sam.reply(sam.OK, b"\x3f")
    assert first[-1] == 0xAA
    frames, errors = sam.decode_all(sam.IdCardCodec(), first + first + FIND_CARD)
    assert len(frames) == 3 and not errors
