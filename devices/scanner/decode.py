"""Barcode and QR decoding: zxing-cpp first, pyzbar when zxing-cpp finds nothing, then second tries.

zxing-cpp reads perspective-distorted and blurred codes that zbar misses, in a fraction of the
time; pyzbar (over libzbar0) is the client's choice and still reads some damaged codes zxing-cpp
gives up on. When neither reads anything, ``decode_harder`` tries what earned its place on real
photographs of QR codes and on the benchmark's distorted pages (docs/scanner.md has the figures):
zxing-cpp with its global-histogram binarizer (uneven light; a few ms even at 5 MP), and on a small
image (a phone photo, a cropped code: at most ``SMALL`` pixels a side) zxing-cpp on a 2x cubic
upscale and zbar on a lightly blurred copy (modules of two or three pixels, JPEG noise). Each result
says which decoder, and which second try, read it.

Payloads come back as encoded, never rewritten for a human: zxing-cpp's default text mode (HRI)
turns a GS1 code's ``01095011015300031726...\\x1d21...`` into ``(01)09501101530003(17)26...`` and a
control character into ``<SOH>``, and zbar converts bytes from a guessed code page. Both decoders
are asked for the bytes (zxing-cpp ``TextMode.Plain`` and ``Barcode.bytes``; zbar with its
``BINARY`` option), and the text is what the bytes say: the ECI's character set where the code
declares one (and Shift_JIS for a Kanji-mode segment, which the decoders know), otherwise UTF-8
(phones and the provincial platforms write UTF-8), then GB18030 (older Chinese generators), then
ISO 8859-1 (the QR standard's default).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar
from pyzbar import wrapper as zbar

ZBAR_CFG_BINARY = 4  # zbar >= 0.23.1: hand over a QR code's bytes as they are (no code-page guess)
SMALL = 1600  # pixels on the long side: images this small are worth an upscale


@dataclass(frozen=True)
class Decoded:
    text: str  # the payload as encoded (GS1's GS separators and control characters kept)
    format: str
    decoder: str  # zxing-cpp | pyzbar, with the second try that read it: zxing-cpp+histogram, ...
    raw: bytes = b""  # the payload's bytes


def payload_text(raw: bytes) -> str:
    """The text of a payload without an ECI: UTF-8, else GB18030, else ISO 8859-1."""
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img


def decode_zxing(img: np.ndarray, binarizer: str = "local", decoder: str = "zxing-cpp") -> list[Decoded]:
    """zxing-cpp's reading (``binarizer``: local | histogram)."""
    how = zxingcpp.Binarizer.GlobalHistogram if binarizer == "histogram" else zxingcpp.Binarizer.LocalAverage
    out = []
    for r in zxingcpp.read_barcodes(_grey(img), text_mode=zxingcpp.TextMode.Plain, binarizer=how):
        raw = bytes(r.bytes)
        if not raw and not r.text:
            continue
        # zxing-cpp reads bytes without an ECI as ISO 8859-1; with an ECI its text is already right
        text = payload_text(raw) if r.text == raw.decode("latin-1") else r.text
        out.append(Decoded(text, r.format.name, decoder, raw))
    return out


def decode_zbar(img: np.ndarray, decoder: str = "pyzbar") -> list[Decoded]:
    grey = np.ascontiguousarray(_grey(img))
    found = _zbar_scan(grey, binary=True)
    if all(_is_utf8(raw) for _, raw in found):
        return [Decoded(raw.decode("utf-8"), kind, decoder, raw) for kind, raw in found]
    # Not UTF-8: a Kanji-mode segment (Shift_JIS bytes) or a legacy code page, which zbar's own
    # conversion (it knows the segments' modes) reads better than a guess from the bytes alone.
    texts = _zbar_scan(grey, binary=False)
    if len(texts) != len(found):
        return [Decoded(payload_text(raw), kind, decoder, raw) for kind, raw in found]
    return [
        Decoded(t.decode("utf-8", "replace"), kind, decoder, raw)
        for (kind, raw), (_, t) in zip(found, texts, strict=True)
    ]


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _zbar_scan(grey: np.ndarray, binary: bool) -> list[tuple[str, bytes]]:
    """(symbology, data) of every code zbar finds; ``binary``: the bytes as they are."""
    height, width = grey.shape[:2]
    scanner = zbar.zbar_image_scanner_create()
    image = zbar.zbar_image_create()
    try:
        if binary:
            zbar.zbar_image_scanner_set_config(scanner, zbar.ZBarSymbol.QRCODE, ZBAR_CFG_BINARY, 1)
        zbar.zbar_image_set_format(image, pyzbar._FOURCC["L800"])
        zbar.zbar_image_set_size(image, width, height)
        pixels = grey.tobytes()
        zbar.zbar_image_set_data(image, ctypes.cast(ctypes.c_char_p(pixels), ctypes.c_void_p), len(pixels), None)
        if zbar.zbar_scan_image(scanner, image) < 0:
            return []
        out = []
        symbol = zbar.zbar_image_first_symbol(image)
        while symbol:
            data = ctypes.string_at(zbar.zbar_symbol_get_data(symbol), zbar.zbar_symbol_get_data_length(symbol))
            try:
                kind = zbar.ZBarSymbol(symbol.contents.type).name
            except ValueError:  # a symbology this pyzbar release does not name
                kind = f"zbar-{symbol.contents.type}"
            out.append((kind, data))
            symbol = zbar.zbar_symbol_next(symbol)
        return out
    finally:
        zbar.zbar_image_destroy(image)
        zbar.zbar_image_scanner_destroy(scanner)


def decode_image(img: np.ndarray) -> list[Decoded]:
    grey = _grey(img)
    return decode_zxing(grey) or decode_zbar(grey) or decode_harder(grey)


def decode_harder(img: np.ndarray) -> list[Decoded]:
    """The second tries on an image neither decoder read (see the module docstring)."""
    grey = _grey(img)
    found = decode_zxing(grey, "histogram", "zxing-cpp+histogram")
    if found or max(grey.shape[:2]) > SMALL:
        return found
    up = cv2.resize(grey, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    return decode_zxing(up, decoder="zxing-cpp+upscale") or decode_zbar(
        cv2.GaussianBlur(grey, (0, 0), 1.0), "pyzbar+blur"
    )
