"""A synthetic desk seen by a document camera (高拍仪): an A4 page with Chinese text and a QR
code, moved by a hand (perspective, rotation, motion blur, glare, lighting drift), at a camera's
resolution and frame rate. Deterministic by seed; every frame comes with the page's true corners,
which is what the pipeline tests measure against.

The scene follows a script of phases, e.g. ``"move:1.0,still:2.0,move:1.0,still:2.0,away:1.0"``:
the hand brings a page (``move``), lets go (``still``), brings the next page (a new text), or takes
it ``away`` (empty desk). Use it in-process (``DeskScene.read()``), or as a stream any
``cv2.VideoCapture`` opens (``simulators/scanner_stream.py``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np
import qrcode
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
A4 = (210.0, 297.0)
PAGE_TEXTS = [
    [
        "居民身份证申领登记表",
        "申请人：张三",
        "申请事项：首次申领",
        "办理地点：示范区政务服务中心",
        "材料：户口簿原件、近期照片",
    ],
    ["不动产登记申请书", "权利人：李四", "坐落：示范区幸福路 88 号", "申请类型：转移登记", "附件：购房合同、完税凭证"],
    [
        "社会保险参保登记表",
        "单位名称：示范科技有限公司",
        "参保险种：养老、医疗、失业",
        "经办人：王五",
        "联系电话：0571-12345",
    ],
]


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR
    corners: np.ndarray | None  # 4x2 float32 (tl, tr, br, bl) in frame pixels; None when no page
    phase: str  # move | still | away
    page_index: int
    t: float


@functools.lru_cache(maxsize=8)
def render_page(index: int, width_px: int = 1000) -> np.ndarray:
    """The flat page (BGR): a title, lines of Chinese text, a QR code, a box and a signature line."""
    h = int(width_px * A4[1] / A4[0])
    img = Image.new("RGB", (width_px, h), (250, 250, 246))
    d = ImageDraw.Draw(img)
    texts = PAGE_TEXTS[index % len(PAGE_TEXTS)]
    title = ImageFont.truetype(FONT, width_px // 18)
    body = ImageFont.truetype(FONT, width_px // 30)
    margin = width_px // 10
    d.text((width_px // 2, margin), texts[0], font=title, fill=(20, 20, 20), anchor="mt")
    y = margin + width_px // 8
    for line in texts[1:]:
        d.text((margin, y), line, font=body, fill=(30, 30, 30))
        y += width_px // 16
    d.rectangle((margin, y + 10, width_px - margin, y + width_px // 4), outline=(40, 40, 40), width=3)
    qr = qrcode.QRCode(box_size=max(4, width_px // 90), border=1)
    qr.add_data(page_qr_text(index))
    qr.make(fit=True)
    qimg = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    side = width_px // 3
    qimg = qimg.resize((side, side), Image.Resampling.NEAREST)
    img.paste(qimg, (width_px - margin - side, h - margin - side))
    d.line((margin, h - margin - 20, margin + width_px // 3, h - margin - 20), fill=(30, 30, 30), width=2)
    d.text((margin, h - margin - 60), "申请人签名：", font=body, fill=(30, 30, 30))
    return cv2.cvtColor(np.array(img), cv2.COLOR_RGB2BGR)


def page_qr_text(index: int) -> str:
    return f"HALLKIT-DOC-{index:04d}"


def _desk(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.normal(0, 1, (max(2, height // 32), max(2, width // 32))).astype(np.float32)
    grain = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    base = np.empty((height, width, 3), np.float32)
    base[:] = (60, 85, 110)  # a brown desk (BGR)
    base += grain[..., None] * 6
    return np.clip(base, 0, 255).astype(np.uint8)


class DeskScene:
    def __init__(
        self,
        width: int = 2592,
        height: int = 1944,
        fps: float = 15.0,
        seed: int = 0,
        script: str = "move:1.0,still:2.5,move:1.0,still:2.5",
        page_fill: float = 0.78,
        loop: bool = True,
    ) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.phases = []
        for item in script.split(","):
            name, _, dur = item.partition(":")
            if name not in ("move", "still", "away"):
                raise ValueError(f"scene phase {name!r}: use move, still or away")
            self.phases.append((name, float(dur or 1.0)))
        self.loop = loop
        self.frame_no = 0
        self.desk = _desk(width, height, seed)
        page_w = int(min(width * 0.9, height * page_fill * A4[0] / A4[1]))
        self.page_px = (page_w, int(page_w * A4[1] / A4[0]))
        self.page_res = min(1400, max(600, int(page_w * 1.0)))
        self._rest = self._rest_pose()
        self._drift = self.rng.uniform(0, 2 * math.pi)

    def _rest_pose(self) -> np.ndarray:
        w, h = self.page_px
        cx = self.width / 2 + self.rng.uniform(-0.05, 0.05) * self.width
        cy = self.height / 2 + self.rng.uniform(-0.03, 0.03) * self.height
        angle = math.radians(self.rng.uniform(-8, 8))
        pts = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]], np.float32)
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], np.float32)
        pts = pts @ rot.T + (cx, cy)
        # a camera not exactly above the desk: keystone (the far edge a little shorter)
        k = self.rng.uniform(0.02, 0.06) * w
        pts[0, 0] += k
        pts[1, 0] -= k
        return pts.astype(np.float32)

    def phase_at(self, t: float) -> tuple[str, float, int]:
        """(phase, seconds into it, page index) at scene time t."""
        total = sum(d for _, d in self.phases)
        cycle = int(t // total) if self.loop else 0
        t = t % total if self.loop else min(t, total - 1e-6)
        page = cycle * sum(1 for n, _ in self.phases if n == "move")
        for name, dur in self.phases:
            if t < dur:
                return name, t, page
            if name == "move":
                page += 1
            t -= dur
        return self.phases[-1][0], self.phases[-1][1], page

    def read(self) -> Frame:
        t = self.frame_no / self.fps
        self.frame_no += 1
        return self.frame_at(t)

    def frame_at(self, t: float) -> Frame:
        phase, into, page_idx = self.phase_at(t)
        frame = self.desk.copy()
        if phase == "away":
            return Frame(self._light(frame, t), None, phase, page_idx, t)
        page_idx = max(0, page_idx - (1 if phase == "still" else 0)) if phase != "move" else page_idx
        rest = self._pose_for(page_idx)
        if phase == "move":
            dur = dict(self.phases).get("move", 1.0)
            k = 1.0 - min(1.0, into / max(dur, 1e-3))  # 1 -> 0: from out of frame to rest
            offset = np.array([self.width * 0.6 * k**1.5, self.height * 0.15 * math.sin(5 * into)], np.float32)
            wobble = math.radians(12 * k * math.sin(7 * into))
            c = rest.mean(axis=0)
            rot = np.array([[math.cos(wobble), -math.sin(wobble)], [math.sin(wobble), math.cos(wobble)]], np.float32)
            corners = (rest - c) @ rot.T + c + offset
        else:
            corners = rest
        page = render_page(page_idx, self.page_res)
        src = np.array(
            [[0, 0], [page.shape[1] - 1, 0], [page.shape[1] - 1, page.shape[0] - 1], [0, page.shape[0] - 1]], np.float32
        )
        m = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
        warped = cv2.warpPerspective(
            page, m, (self.width, self.height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT, dst=frame
        )
        frame = warped
        if phase == "move":
            frame = self._hand(frame, corners, into)
            ksize = max(3, int(self.width / 120) | 1)
            kernel = np.zeros((ksize, ksize), np.float32)
            kernel[ksize // 2, :] = 1.0 / ksize
            frame = cv2.filter2D(frame, -1, kernel)
        frame = self._glare(frame, corners, t)
        visible = corners if phase == "still" else corners
        return Frame(self._light(frame, t), visible.astype(np.float32), phase, page_idx, t)

    def _pose_for(self, page_idx: int) -> np.ndarray:
        rng = np.random.default_rng(self.seed * 1000 + page_idx)
        jitter = rng.uniform(-0.02, 0.02, (4, 2)).astype(np.float32) * (self.page_px[0], self.page_px[0])
        shift = rng.uniform(-0.04, 0.04, 2).astype(np.float32) * (self.width, self.height)
        pose: np.ndarray = self._rest + jitter * 0.3 + shift
        return pose

    def _hand(self, frame: np.ndarray, corners: np.ndarray, into: float) -> np.ndarray:
        # a hand holding the page's right edge: a skin-coloured blob with fingers over the page
        right = (corners[1] + corners[2]) / 2
        cx, cy = int(right[0] + self.width * 0.05), int(right[1])
        axes = (int(self.width * 0.09), int(self.height * 0.12))
        cv2.ellipse(frame, (cx, cy), axes, 15, 0, 360, (120, 150, 205), -1)
        for i in range(4):
            fy = cy - axes[1] // 2 + i * axes[1] // 4
            cv2.ellipse(frame, (cx - axes[0], fy), (axes[0] // 2, axes[1] // 12), 0, 0, 360, (125, 155, 210), -1)
        return frame

    def _glare(self, frame: np.ndarray, corners: np.ndarray, t: float) -> np.ndarray:
        c = corners.mean(axis=0)
        h, w = frame.shape[:2]
        small = np.zeros((h // 8, w // 8), np.float32)
        gx, gy = int((c[0] + 0.15 * w * math.sin(0.3 * t)) / 8), int((c[1] - 0.2 * h) / 8)
        cv2.circle(small, (gx, gy), max(2, w // 60), 1.0, -1)
        small = cv2.GaussianBlur(small, (0, 0), max(1.0, w / 250))
        glare = cv2.resize(small, (w, h))[..., None] * 70
        lit: np.ndarray = np.clip(frame.astype(np.float32) + glare, 0, 255).astype(np.uint8)
        return lit

    def _light(self, frame: np.ndarray, t: float) -> np.ndarray:
        # slow lighting drift: a horizontal gradient whose strength and direction wander
        h, w = frame.shape[:2]
        s = 0.12 * math.sin(0.2 * t + self._drift)
        ramp = np.linspace(1.0 - s, 1.0 + s, w, dtype=np.float32)
        return cv2.multiply(
            frame, np.broadcast_to(ramp[None, :, None], frame.shape).astype(np.float32), dtype=cv2.CV_8U
        )
