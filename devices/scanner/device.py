"""The document camera as a hall device: frames from a URL, auto-capture into a scanning session.

URLs are opened by :func:`drivers.camera.open_camera`: a device index or ``/dev/video0``, a video
file, a stream URL (``http://…/stream.mjpg``), or a scheme whose handler a package provides (the
desk scene of the simulators is ``sim://scanner?width=&height=&fps=&seed=&script=``). Either way the
pipeline only sees frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from devices.base import Device, DriverSlot
from devices.config import DeviceConfig
from devices.factory import register_kind
from devices.scanner import pipeline
from devices.scanner.autocapture import AutoCapture
from devices.scanner.session import ScanSession, SessionResult
from drivers.camera import CameraSource, open_camera


class DocumentScanner(Device):
    kind = "scanner"

    def __init__(self, config: DeviceConfig, realtime: bool = True) -> None:
        super().__init__(config)
        self.link: DriverSlot[CameraSource] = DriverSlot(config.id)
        self.realtime = realtime

    def _open_driver(self) -> None:
        p = self.profile
        self.link.value = open_camera(
            self.config.url,
            int(p.get("width", 2592)),
            int(p.get("height", 1944)),
            float(p.get("fps", 15)),
            p.get("fourcc", "MJPG"),
            self.realtime,
        )

    @property
    def camera(self) -> CameraSource:
        """The open camera (DeviceOffline before the scanner was opened)."""
        return self.link.get()

    def _close_driver(self) -> None:
        self.link.close()

    def _probe(self) -> None:
        self.camera.read()

    def frame(self) -> np.ndarray:
        return self.guard(lambda: self.camera.read())

    def scan(
        self,
        session: ScanSession,
        pages: int = 1,
        still_s: float = 1.0,
        timeout_s: float = 60.0,
        whiten: bool = False,
        on_capture: Callable[[int, np.ndarray], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> SessionResult | None:
        """Auto-capture ``pages`` pages into ``session`` (each once, when still); finish it."""
        auto = AutoCapture(still_s=still_s)
        deadline = time.monotonic() + timeout_s
        while len(session.pages) < pages and time.monotonic() < deadline and not should_stop():
            frame = self.frame()
            det = pipeline.detect(frame, refine=False)
            if auto.update(None if det is None else det.corners, self.camera.timestamp):
                full = pipeline.detect(frame)  # refine at full resolution only for the captured frame
                if full is None:
                    continue
                page, _ = pipeline.deskew(pipeline.warp(frame, full.corners))
                if whiten:
                    page = pipeline.whiten(page)
                n = session.add(page)
                self.publish_event("scan", "scanner.page", {"session_id": session.session_id, "page": n})
                if on_capture:
                    on_capture(n, page)
        return session.finish() if session.pages else None


register_kind("scanner", DocumentScanner)


def scan_to_dir(
    url: str, out_dir: str | Path, pages: int, still_s: float, timeout_s: float, profile: str = "generic-5mp"
) -> SessionResult | None:
    dev = DocumentScanner(DeviceConfig(id="scanner", kind="scanner", url=url, profile=profile))
    dev.open()
    try:
        return dev.scan(ScanSession(out_dir), pages, still_s, timeout_s)
    finally:
        dev.close()
