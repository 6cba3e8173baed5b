"""Document detection and correction, the standard pipeline (see docs/scanner.md):

grey -> blur -> Canny -> external contours -> the largest 4-point polygon (approxPolyDP at 2 % of
the perimeter), on a frame downscaled to about 800 px wide; the corners found there are scaled up
and refined on the full-resolution frame (``cornerSubPix`` on a small window), then the
full-resolution frame is warped to a flat page. Deskew removes residual rotation of the content;
optional whitening divides out the paper's shading so scans look like photocopies.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

DETECT_WIDTH = 800
A4_RATIO = 297.0 / 210.0


@dataclass(frozen=True)
class Detection:
    corners: np.ndarray  # 4x2 float32, tl, tr, br, bl, in full-resolution pixels
    area_fraction: float  # of the frame


def order_corners(pts: np.ndarray) -> np.ndarray:
    """tl, tr, br, bl from any 4 points."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32)


def downscale(frame: np.ndarray, width: int = DETECT_WIDTH) -> tuple[np.ndarray, float]:
    h, w = frame.shape[:2]
    if w <= width:
        return frame, 1.0
    scale = width / w
    return cv2.resize(frame, (width, int(round(h * scale))), interpolation=cv2.INTER_LINEAR), scale


def detect(frame: np.ndarray, min_area: float = 0.08, refine: bool = True) -> Detection | None:
    """Find the page in a BGR (or grey) frame; None if there is no plausible page."""
    small, scale = downscale(frame)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    grey = cv2.GaussianBlur(grey, (5, 5), 0)
    edges = cv2.Canny(grey, 40, 120)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    frame_area = small.shape[0] * small.shape[1]
    best = None
    for c in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        area = cv2.contourArea(c)
        if area < min_area * frame_area:
            break
        hull = cv2.convexHull(c)
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            best = (approx.reshape(4, 2).astype(np.float32), area)
            break
    if best is None:
        return None
    corners = order_corners(best[0]) / scale
    if refine and scale < 1.0:
        corners = _refine(frame, corners, scale)
    return Detection(corners, best[1] / frame_area)


def _refine(frame: np.ndarray, corners: np.ndarray, scale: float) -> np.ndarray:
    """Move each corner onto the intersection of the page edges at full resolution: fit lines to
    the strongest gradient along each edge near the coarse estimate."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    h, w = grey.shape
    win = max(4, int(round(2.0 / scale)))
    lines = []
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        pts = []
        for t in np.linspace(0.15, 0.85, 24):
            p = a + (b - a) * t
            n = np.array([-(b - a)[1], (b - a)[0]], np.float32)
            n /= np.linalg.norm(n) + 1e-9
            offs = np.arange(-win * 2, win * 2 + 1, dtype=np.float32)
            xs = np.clip(p[0] + n[0] * offs, 0, w - 1).astype(int)
            ys = np.clip(p[1] + n[1] * offs, 0, h - 1).astype(int)
            profile = grey[ys, xs].astype(np.float32)
            grad = np.abs(np.diff(profile))
            if grad.size == 0 or grad.max() < 15:
                continue
            k = int(np.argmax(grad))
            pts.append(p + n * (offs[k] + 0.5))
        if len(pts) < 6:
            return corners
        vx, vy, x0, y0 = cv2.fitLine(np.array(pts, np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    out = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[(i - 1) % 4], lines[i]
        m = np.array([d1, -d2]).T
        if abs(np.linalg.det(m)) < 1e-6:
            return corners
        s = np.linalg.solve(m, p2 - p1)
        q = p1 + d1 * s[0]
        if np.linalg.norm(q - corners[i]) > 4 * win:
            return corners  # the refinement wandered off: keep the coarse corner
        out.append(q)
    return np.array(out, np.float32)


def page_size(corners: np.ndarray) -> tuple[int, int]:
    tl, tr, br, bl = corners
    width = max(float(np.linalg.norm(tr - tl)), float(np.linalg.norm(br - bl)))
    height = max(float(np.linalg.norm(bl - tl)), float(np.linalg.norm(br - tr)))
    if abs(height / max(width, 1) - A4_RATIO) < 0.12:  # an A4 page: keep its true proportions
        height = width * A4_RATIO
    return int(round(width)), int(round(height))


def warp(frame: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The flat page from the full-resolution frame."""
    w, h = page_size(corners)
    dst = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    m = cv2.getPerspectiveTransform(corners.astype(np.float32), dst)
    return cv2.warpPerspective(frame, m, (w, h), flags=cv2.INTER_LINEAR)


def deskew(page: np.ndarray, max_angle: float = 8.0) -> tuple[np.ndarray, float]:
    """Rotate away a small residual tilt of the content (from the ink's minimum-area rectangle)."""
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    small, _ = downscale(grey, 600)
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    pts = cv2.findNonZero(ink)
    if pts is None or len(pts) < 50:
        return page, 0.0
    angle = cv2.minAreaRect(pts)[2]
    if angle > 45:
        angle -= 90
    if abs(angle) < 0.3 or abs(angle) > max_angle:
        return page, 0.0
    h, w = page.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(page, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), float(angle)


def whiten(page: np.ndarray) -> np.ndarray:
    """Divide by the paper's own shading (a large closing), so the background turns white."""
    h, w = page.shape[:2]
    k = max(15, (min(h, w) // 40) | 1)
    background = cv2.morphologyEx(page, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    return cv2.divide(page, background, scale=255)


def encode_jpeg(img: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def process(frame: np.ndarray, whiten_background: bool = False) -> tuple[np.ndarray, Detection] | None:
    """Detect, warp, deskew (and whiten): the scanned page, or None if no page was found."""
    det = detect(frame)
    if det is None:
        return None
    page = warp(frame, det.corners)
    page, _ = deskew(page)
    if whiten_background:
        page = whiten(page)
    return page, det
