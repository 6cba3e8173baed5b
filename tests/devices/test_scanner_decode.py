"""QR and barcode payloads come back as encoded (issue 13, item 16): GS1 keeps its GS separators,
control characters stay bytes, Chinese byte-mode payloads are read as UTF-8 (or GB18030); the
pipeline's second tries read real photographs that both decoders miss; ``hallkit scan decode``
keeps one line per image and has ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import qrcode
import zxingcpp

from devices.scanner.decode import decode_image, decode_zbar, decode_zxing, payload_text
from hall_bus.cli.main import main
from tests.helpers import ROOT

PHOTOS = ROOT / "tests" / "fixtures" / "qr-photos"
GS1 = "(01)09501101530003(17)261231(10)AB12(21)XYZ"
GS1_RAW = "01095011015300031726123110AB12\x1d21XYZ"


def code_image(content: str | bytes, **kw) -> np.ndarray:
    symbol = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.QRCode, **kw)
    return np.pad(np.array(zxingcpp.write_barcode_to_image(symbol, scale=4)), 24, constant_values=255)


def byte_mode_qr(data: bytes) -> np.ndarray:
    qr = qrcode.QRCode(box_size=4, border=4)
    qr.add_data(data)  # bytes: byte mode, no ECI
    qr.make(fit=True)
    return np.array(qr.make_image().get_image().convert("L"))


@pytest.mark.parametrize("decode", [decode_zxing, decode_zbar, decode_image])
def test_a_gs1_code_comes_back_as_encoded_not_as_human_readable_text(decode) -> None:
    found = decode(code_image(GS1, gs1=True))
    assert [d.text for d in found] == [GS1_RAW]
    assert found[0].raw == GS1_RAW.encode()


@pytest.mark.parametrize("decode", [decode_zxing, decode_zbar])
def test_control_characters_stay_bytes(decode) -> None:
    found = decode(code_image(b"HK\x01A012\r\n\x04"))
    assert [d.text for d in found] == ["HK\x01A012\r\n\x04"]


@pytest.mark.parametrize("decode", [decode_zxing, decode_zbar])
def test_chinese_in_byte_mode_without_eci_is_utf8(decode) -> None:
    found = decode(byte_mode_qr("取号A012·社保".encode()))
    assert [d.text for d in found] == ["取号A012·社保"]


def test_a_legacy_gbk_payload_is_read_as_gb18030() -> None:
    assert [d.text for d in decode_zxing(byte_mode_qr("居民码".encode("gbk")))] == ["居民码"]
    assert payload_text(b"\xff\xfe") == "\xff\xfe"  # neither UTF-8 nor GB18030: ISO 8859-1


def photo(name: str) -> tuple[np.ndarray, str]:
    return cv2.imread(str(PHOTOS / f"{name}.png")), (PHOTOS / f"{name}.txt").read_text(encoding="utf-8")


def test_a_real_phone_photo_is_read() -> None:
    img, text = photo("zxing-qrcode-3-01")
    assert [d.text for d in decode_image(img)] == [text]


def test_a_code_on_cloth_that_both_decoders_miss_is_read_by_a_second_try() -> None:
    img, text = photo("zxing-qrcode-4-34")
    assert decode_zxing(img) == [] and decode_zbar(img) == []
    found = decode_image(img)
    assert [d.text for d in found] == [text] and found[0].decoder == "zxing-cpp+histogram"


def test_no_code_no_result() -> None:
    assert decode_image(np.full((300, 400), 200, np.uint8)) == []


def run(capsys, *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    return rc, capsys.readouterr().out


def test_scan_decode_keeps_one_line_per_image_and_escapes(capsys, tmp_path: Path) -> None:
    crlf, gs1, none = tmp_path / "crlf.png", tmp_path / "gs1.png", tmp_path / "none.png"
    cv2.imwrite(str(crlf), code_image(b"line 1\r\nline 2|x\\y"))
    cv2.imwrite(str(gs1), code_image(GS1, gs1=True))
    cv2.imwrite(str(none), np.full((200, 200), 255, np.uint8))
    rc, out = run(capsys, "scan", "decode", str(crlf), str(gs1), str(none))
    assert rc == 0
    assert out.splitlines() == [
        f"{crlf}: line 1\\r\\nline 2\\|x\\\\y [QRCode, zxing-cpp]",
        f"{gs1}: 01095011015300031726123110AB12\\x1d21XYZ [QRCode, zxing-cpp]",
        f"{none}: NONE",
    ]


def test_scan_decode_json_gives_one_object_per_image(capsys, tmp_path: Path) -> None:
    crlf, none = tmp_path / "crlf.png", tmp_path / "none.png"
    cv2.imwrite(str(crlf), code_image(b"line 1\r\nline 2"))
    cv2.imwrite(str(none), np.full((200, 200), 255, np.uint8))
    rc, out = run(capsys, "scan", "decode", "--json", str(crlf), str(none))
    assert rc == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines == [
        {
            "file": str(crlf),
            "texts": [
                {
                    "text": "line 1\r\nline 2",
                    "format": "QRCode",
                    "decoder": "zxing-cpp",
                    "hex": b"line 1\r\nline 2".hex(),
                }
            ],
        },
        {"file": str(none), "texts": []},
    ]
