"""The document camera as a hall device: frames from a URL, auto-capture into a scanning session.

URLs: ``sim://scanner?width=&height=&fps=&seed=&script=`` (the desk scene, in-process), a device
index or ``/dev/video0``, a video file, or a stream URL (``http://…/stream.mjpg``). A camera is not a
serial port, so ``sim://scanner`` is resolved here rather than by the pyserial scheme; either way
the pipeline only sees frames.
"""
from __future__ import annotations

import time
import urllib.parse
from pathlib import Path
from typing import Callable

import numpy as np

from drivers.camera import Camera

from ..base import Device
from ..factory import register_kind
from . import pipeline
from .autocapture import AutoCapture
from .session import ScanSession, SessionResult


class SceneSource:
    """The simulated desk, paced to its frame rate like a camera."""

    def __init__(self, query: dict[str, str], width: int, height: int, fps: float, realtime: bool = True) -> None:
        from simulators.desk_scene import DeskScene

        self.scene = DeskScene(int(query.get("width", width)), int(query.get("height", height)), float(query.get("fps", fps)),
                               seed=int(query.get("seed", 0)), script=query.get("script", "move:1.0,still:2.5,move:1.0,still:2.5"))
        self.realtime = query.get("realtime", "1" if realtime else "0") not in ("0", "false")
        self._next = time.monotonic()
        self.last = None

    def read(self) -> np.ndarray:
        if self.realtime:
            now = time.monotonic()
            if now < self._next:
                time.sleep(self._next - now)
            self._next = max(now, self._next) + 1.0 / self.scene.fps
        self.last = self.scene.read()
        return self.last.image

    def close(self) -> None:
        pass


def open_source(url: str, width: int, height: int, fps: float, fourcc: str = "MJPG", realtime: bool = True):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "sim":
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        return SceneSource(query, width, height, fps, realtime)
    return Camera(url, width, height, fps, fourcc)


class DocumentScanner(Device):
    kind = "scanner"

    def __init__(self, config, bus=None, hall_id: str = "", realtime: bool = True) -> None:
        super().__init__(config, bus, hall_id)
        self.source = None
        self.realtime = realtime

    def _open_driver(self) -> None:
        p = self.profile
        self.source = open_source(self.config.url, int(p.get("width", 2592)), int(p.get("height", 1944)),
                                  float(p.get("fps", 15)), p.get("fourcc", "MJPG"), self.realtime)

    def _close_driver(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None

    def _probe(self) -> None:
        self.source.read()

    def frame(self) -> np.ndarray:
        return self.guard(self.source.read)

    def scan(self, session: ScanSession, pages: int = 1, still_s: float = 1.0, timeout_s: float = 60.0,
             whiten: bool = False, on_capture: Callable[[int, np.ndarray], None] | None = None,
             should_stop: Callable[[], bool] = lambda: False) -> SessionResult | None:
        """Auto-capture ``pages`` pages into ``session`` (each once, when still); finish it."""
        auto = AutoCapture(still_s=still_s)
        deadline = time.monotonic() + timeout_s
        t0 = time.monotonic()
        while len(session.pages) < pages and time.monotonic() < deadline and not should_stop():
            frame = self.frame()
            det = pipeline.detect(frame, refine=False)
            t = getattr(getattr(self.source, "last", None), "t", time.monotonic() - t0)
            if auto.update(None if det is None else det.corners, t):
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


def scan_to_dir(url: str, out_dir: str | Path, pages: int, still_s: float, timeout_s: float, profile: str = "generic-5mp") -> SessionResult | None:
    from ..config import DeviceConfig

    dev = DocumentScanner(DeviceConfig(id="scanner", kind="scanner", url=url, profile=profile)).open()
    try:
        return dev.scan(ScanSession(out_dir), pages, still_s, timeout_s)
    finally:
        dev.close()
