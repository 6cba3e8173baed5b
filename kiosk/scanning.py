"""The document camera (``devices.scanner.device.DocumentScanner``) as the kiosk flows use it.

:class:`KioskScanner` implements :class:`kiosk.ports.ScannerPort` on the scanner pipeline:

* ``capture_page(timeout)``: frames until auto-capture fires (the page lay still), then the
  perspective-corrected, deskewed page; a small PNG preview for the screen;
* ``read_code(timeout)``: frames until a QR/barcode decodes (居民码, appointment QR);
* ``save_pages(pages)``: a scanning session (PDF plus per-page JPEGs in the kiosk's scan folder);
  only its session id travels on, never the images.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.ports import ScannedPage

PREVIEW_WIDTH = 720


class KioskScanner:
    def __init__(self, device: Any, out_dir: str | Path, still_s: float = 1.0) -> None:
        self.device = device
        self.out_dir = Path(out_dir)
        self.still_s = still_s
        self.should_stop: Callable[[], bool] = lambda: False

    @property
    def state(self) -> Any:
        return getattr(self.device, "state", None)

    def capture_page(self, timeout: float) -> ScannedPage | None:
        from devices.scanner import pipeline
        from devices.scanner.autocapture import AutoCapture

        auto = AutoCapture(still_s=self.still_s)
        deadline = time.monotonic() + timeout
        t0 = time.monotonic()
        while time.monotonic() < deadline and not self.should_stop():
            frame = self.device.frame()
            det = pipeline.detect(frame, refine=False)
            source = getattr(self.device, "source", None)
            t = getattr(getattr(source, "last", None), "t", time.monotonic() - t0)
            if auto.update(None if det is None else det.corners, t):
                full = pipeline.detect(frame)
                if full is None:
                    continue
                page, _ = pipeline.deskew(pipeline.warp(frame, full.corners))
                return ScannedPage(
                    preview_png=_preview_png(page), width=int(page.shape[1]), height=int(page.shape[0]), handle=page
                )
        return None

    def read_code(self, timeout: float) -> str | None:
        from devices.scanner.decode import decode_image

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.should_stop():
            codes = decode_image(self.device.frame())
            if codes:
                return codes[0].text
        return None

    def save_pages(self, pages: list[ScannedPage]) -> str:
        from devices.scanner.session import ScanSession

        session = ScanSession(self.out_dir)
        for p in pages:
            session.add(p.handle)
        return session.finish().session_id

    def close(self) -> None:
        self.device.close()


def _preview_png(page: Any) -> bytes:
    import cv2

    h, w = page.shape[:2]
    scale = min(1.0, PREVIEW_WIDTH / float(w))
    small = cv2.resize(page, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".png", small)
    if not ok:
        raise ValueError("the page preview could not be encoded")
    return buf.tobytes()


def kiosk_devices(devices: dict[str, Any], data_dir: str | Path) -> dict[str, Any]:
    """Wrap a raw document-camera device in a KioskScanner (other devices pass through)."""
    out = dict(devices)
    scanner = out.get("scanner")
    if scanner is not None and not hasattr(scanner, "capture_page"):
        out["scanner"] = KioskScanner(scanner, Path(data_dir) / "scans")
    return out
