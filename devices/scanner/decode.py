"""Barcode and QR decoding: zxing-cpp first, pyzbar when zxing-cpp finds nothing.

zxing-cpp reads perspective-distorted and blurred codes that zbar misses, in a fraction of the
time; pyzbar (over libzbar0) is the client's choice and still reads some damaged codes zxing-cpp
gives up on. Each result says which decoder read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Decoded:
    text: str
    format: str
    decoder: str  # zxing-cpp | pyzbar


def _grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img


def decode_zxing(img: np.ndarray) -> list[Decoded]:
    import zxingcpp

    return [
        Decoded(r.text, str(r.format).split(".")[-1], "zxing-cpp") for r in zxingcpp.read_barcodes(_grey(img)) if r.text
    ]


def decode_zbar(img: np.ndarray) -> list[Decoded]:
    from pyzbar import pyzbar

    return [Decoded(r.data.decode("utf-8", errors="replace"), r.type, "pyzbar") for r in pyzbar.decode(_grey(img))]


def decode_image(img: np.ndarray) -> list[Decoded]:
    found = decode_zxing(img)
    if found:
        return found
    return decode_zbar(img)
