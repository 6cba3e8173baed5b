"""Auto-capture: take the picture once the page has lain still long enough, never during motion.

Feed it the detection of each frame (on the downscaled frame, cheap). It fires once when the
page's corners have moved less than ``still_tolerance`` (fraction of the page diagonal) for
``still_s`` seconds. It re-arms when the page moves by more than ``rearm_move`` or disappears, so
the next page (or the same page turned over) is captured once again.
"""

from __future__ import annotations

import numpy as np


class AutoCapture:
    def __init__(self, still_s: float = 1.0, still_tolerance: float = 0.004, rearm_move: float = 0.03) -> None:
        self.still_s = still_s
        self.still_tolerance = still_tolerance
        self.rearm_move = rearm_move
        self._last: np.ndarray | None = None
        self._still_since: float | None = None
        self._captured_at: np.ndarray | None = None  # corners of the page already captured
        self.fired = 0

    def update(self, corners: np.ndarray | None, t: float) -> bool:
        """True exactly once per still page."""
        if corners is None:
            self._last, self._still_since, self._captured_at = None, None, None
            return False
        diag = float(np.linalg.norm(corners[2] - corners[0])) or 1.0
        if self._captured_at is not None:
            if np.abs(corners - self._captured_at).max() / diag > self.rearm_move:
                self._captured_at = None  # a new page, or this one moved: capture again when still
            else:
                self._last = corners
                return False
        if self._last is None or np.abs(corners - self._last).max() / diag > self.still_tolerance:
            self._still_since = t
        self._last = corners
        if self._still_since is not None and t - self._still_since >= self.still_s:
            self._captured_at = corners.copy()
            self._still_since = None
            self.fired += 1
            return True
        return False
