"""Camera sources opened from a URL, the pyserial way.

:class:`Camera` is OpenCV's ``VideoCapture``: a device index (``0`` or ``/dev/video0``), a file, or a
stream URL (``http://…/stream.mjpg``). Full resolution comes as MJPEG (uncompressed frames of 5 MP
exceed USB 2.0 bandwidth), so MJPG, width, height and fps are requested on open.

:func:`open_camera` also takes URL schemes provided by packages, found by name as pyserial finds
its ``protocol_handler_packages``: for a scheme ``X`` it imports ``<package>.camera_X`` and calls its
``open(url, width, height, fps, realtime)``. The simulators' desk scene is ``sim://scanner`` this way;
nothing here knows whether a source is simulated. Every source has ``read() -> frame``,
``timestamp`` (seconds, of the last frame) and ``close()``.
"""

from __future__ import annotations

import importlib
import time
import urllib.parse
from typing import Any, Protocol

import cv2
import numpy as np

from drivers.errors import ReplyTimeout, TransportError

CAMERA_HANDLER_PACKAGES = ["simulators.schemes"]


class CameraSource(Protocol):
    timestamp: float

    def read(self) -> np.ndarray: ...

    def close(self) -> None: ...


class Camera:
    def __init__(self, url: str, width: int = 0, height: int = 0, fps: float = 0, fourcc: str = "MJPG") -> None:
        self.url = url
        self.timestamp = time.monotonic()
        source: int | str = int(url) if url.isdigit() else url
        self.cap = cv2.VideoCapture(source)
        if not self.cap.isOpened():
            raise TransportError(url, "OpenCV cannot open this camera or stream")
        if fourcc:
            self.cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*fourcc))
        if width and height:
            self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            self.cap.set(cv2.CAP_PROP_FPS, fps)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT))

    def read(self) -> np.ndarray:
        ok, frame = self.cap.read()
        if not ok or frame is None:
            raise ReplyTimeout(f"{self.url}: no frame from the camera")
        self.timestamp = time.monotonic()
        return frame

    def close(self) -> None:
        self.cap.release()


def open_camera(
    url: str, width: int = 0, height: int = 0, fps: float = 0, fourcc: str = "MJPG", realtime: bool = True
) -> CameraSource:
    """The source ``url`` names; raise TransportError if nothing can open it."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme and scheme not in ("http", "https", "rtsp", "file") and len(scheme) > 1:
        for package in CAMERA_HANDLER_PACKAGES:
            try:
                handler: Any = importlib.import_module(f"{package}.camera_{scheme}")
            except ModuleNotFoundError as exc:
                if exc.name not in (package, f"{package}.camera_{scheme}"):
                    raise
                continue
            source: CameraSource = handler.open(url, width, height, fps, realtime)
            return source
        raise TransportError(url, f"no camera handler for the URL scheme {scheme!r}")
    return Camera(url, width, height, fps, fourcc)
