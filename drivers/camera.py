"""A camera source from OpenCV ``VideoCapture``: a device index (``0`` or ``/dev/video0``), a file,
or a stream URL (``http://…/stream.mjpg``). Full resolution comes as MJPEG (uncompressed frames of
5 MP exceed USB 2.0 bandwidth), so MJPG, width, height and fps are requested on open."""
from __future__ import annotations

import cv2
import numpy as np

from .errors import ReplyTimeout, TransportError


class Camera:
    def __init__(self, url: str, width: int = 0, height: int = 0, fps: float = 0, fourcc: str = "MJPG") -> None:
        self.url = url
        source: int | str = int(url) if url.isdigit() else url
        self.cap = cv2.VideoCapture(source)
        if not self.cap.isOpened():
            raise TransportError(url, "OpenCV cannot open this camera or stream")
        if fourcc:
            self.cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*fourcc))
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
        return frame

    def close(self) -> None:
        self.cap.release()
