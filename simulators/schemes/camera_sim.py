"""``sim://scanner?width=&height=&fps=&seed=&script=&realtime=``: the desk scene as a camera.

:func:`drivers.camera.open_camera` finds this module by name, as pyserial finds ``protocol_sim``:
for a URL scheme ``X`` it imports ``camera_X`` from each package of
``drivers.camera.CAMERA_HANDLER_PACKAGES`` and calls its :func:`open`.
"""

from __future__ import annotations

import time
import urllib.parse

import numpy as np

from simulators.desk_scene import DeskScene, Frame

DEFAULT_SCRIPT = "move:1.0,still:2.5,move:1.0,still:2.5"


class SceneSource:
    """The simulated desk, paced to its frame rate like a camera."""

    def __init__(self, query: dict[str, str], width: int, height: int, fps: float, realtime: bool = True) -> None:
        self.scene = DeskScene(
            int(query.get("width", width)),
            int(query.get("height", height)),
            float(query.get("fps", fps)),
            seed=int(query.get("seed", 0)),
            script=query.get("script", DEFAULT_SCRIPT),
        )
        self.realtime = query.get("realtime", "1" if realtime else "0") not in ("0", "false")
        self._next = time.monotonic()
        self.last: Frame | None = None
        self.timestamp = 0.0  # scene time of the last frame (seconds)

    def read(self) -> np.ndarray:
        if self.realtime:
            now = time.monotonic()
            if now < self._next:
                time.sleep(self._next - now)
            self._next = max(now, self._next) + 1.0 / self.scene.fps
        self.last = self.scene.read()
        self.timestamp = self.last.t
        return self.last.image

    def close(self) -> None:
        pass


def open(url: str, width: int, height: int, fps: float, realtime: bool = True) -> SceneSource:
    """The scene for a ``sim://scanner?...`` URL (query values override the profile's size and rate)."""
    query = {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}
    return SceneSource(query, width, height, fps, realtime)
