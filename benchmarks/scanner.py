"""Document camera pipeline figures, one core (cv2.setNumThreads(1)).

* frame_ms: detection (downscaled) + corner refinement + full-resolution warp + JPEG encode of one
  captured frame of the simulated desk at 5 MP and 8 MP (median of the runs);
* decode_ms_5mp: decoding the codes on a captured 5 MP page (zxing-cpp first, pyzbar on failure);
* decode_success: a generated set of perspective-distorted, blurred, noisy QR pages decoded by the
  combined decoder, with zxing-cpp alone and pyzbar alone printed beside it.

Last line: frame_ms_5mp=<x> frame_ms_8mp=<y> decode_ms_5mp=<z> decode_success=<k>/<n>
Targets (issue 4): frame_ms under 50 at 5 MP; decode success above either decoder alone.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import qrcode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devices.scanner import pipeline
from devices.scanner.decode import decode_image, decode_zbar, decode_zxing
from simulators.desk_scene import DeskScene


def frame_ms(width: int, height: int, runs: int = 15) -> tuple[float, np.ndarray]:
    scene = DeskScene(width, height, seed=11)
    frames = [scene.frame_at(1.5 + 0.1 * i).image for i in range(3)]
    times, page = [], None
    for i in range(runs):
        f = frames[i % len(frames)]
        t0 = time.perf_counter()
        det = pipeline.detect(f)
        page = pipeline.warp(f, det.corners)
        pipeline.encode_jpeg(page)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), page


def distorted_qr_pages(n: int, seed: int = 5) -> list[tuple[str, np.ndarray]]:
    """QR codes as a phone-less kiosk camera sees them: tilted pages, perspective, blur, noise, low contrast."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        text = f"https://hall.example/case/BJ2026{i:06d}"
        qr = qrcode.QRCode(box_size=6, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
        qr.add_data(text)
        qr.make(fit=True)
        img = np.array(qr.make_image(fill_color="black", back_color="white").get_image().convert("L"))
        h, w = img.shape
        canvas = np.full((h * 2, w * 2), 235, np.uint8)
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        k = 0.12 + 0.28 * (i / max(1, n - 1))  # ever stronger perspective
        jitter = rng.uniform(-k, k, (4, 2)) * w
        dst = (src + w / 2 + jitter).astype(np.float32)
        m = cv2.getPerspectiveTransform(src, dst)
        warped = cv2.warpPerspective(img, m, canvas.shape[::-1], dst=canvas, borderMode=cv2.BORDER_TRANSPARENT)
        scale = rng.uniform(0.45, 0.8)  # about 3-5 pixels a module
        warped = cv2.resize(warped, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        warped = cv2.GaussianBlur(warped, (0, 0), rng.uniform(0.6, 1.4))
        warped = (
            warped.astype(np.float32) * rng.uniform(0.55, 0.9)
            + rng.uniform(10, 60)
            + rng.normal(0, rng.uniform(3, 9), warped.shape)
        )
        out.append((text, np.clip(warped, 0, 255).astype(np.uint8)))
    return out


def main() -> None:
    cv2.setNumThreads(1)
    f5, page5 = frame_ms(2592, 1944)
    f8, _ = frame_ms(3264, 2448)
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        decode_image(page5)
        times.append((time.perf_counter() - t0) * 1000)
    d5 = statistics.median(times)
    pages = distorted_qr_pages(60)
    zx = sum(any(r.text == t for r in decode_zxing(img)) for t, img in pages)
    zb = sum(any(r.text == t for r in decode_zbar(img)) for t, img in pages)
    both = sum(any(r.text == t for r in decode_image(img)) for t, img in pages)
    n = len(pages)
    print(f"frame (detect+refine+warp+JPEG, 1 core): 5 MP {f5:.1f} ms, 8 MP {f8:.1f} ms; target < 50 ms at 5 MP")
    print(f"decode of a captured 5 MP page: {d5:.1f} ms")
    print(f"distorted QR set of {n}: zxing-cpp alone {zx}/{n}, pyzbar alone {zb}/{n}, combined {both}/{n}")
    print(f"frame_ms_5mp={f5:.1f} frame_ms_8mp={f8:.1f} decode_ms_5mp={d5:.1f} decode_success={both}/{n}")


if __name__ == "__main__":
    main()
