"""The day's chart for the manager console: mean wait per hour and the ratings, drawn with Pillow
(Chinese labels in the CJK font; no plotting library needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from hall_bus.vocabulary import LEVELS

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LEVEL_LABELS = [*LEVELS.values(), "未评价"]
LEVEL_COLOURS = [(46, 139, 87), (102, 187, 106), (174, 213, 129), (255, 167, 38), (229, 57, 53), (189, 189, 189)]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default()


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def render(report: dict[str, Any], path: str | Path, width: int = 1200, height: int = 700) -> Path:
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    title, small = _font(30), _font(18)
    d.text(
        (30, 20),
        f"{report['hall']}  {report['day']}  等候时间与满意度 (waits and satisfaction)",
        font=title,
        fill="black",
    )
    # left: mean wait per hour
    x0, y0, x1, y1 = 70, 100, width // 2 + 60, height - 80
    d.line((x0, y1, x1, y1), fill="black", width=2)
    d.line((x0, y0, x0, y1), fill="black", width=2)
    hourly = {int(h): v for h, v in report["hourly_wait_mean_min"].items()}
    hours = list(range(min(hourly, default=8), max(hourly, default=17) + 1))
    top = max(list(hourly.values()) + [10.0])
    bar_w = (x1 - x0) / max(1, len(hours))
    for i, h in enumerate(hours):
        v = hourly.get(h, 0.0)
        bh = (y1 - y0 - 30) * v / top
        bx = x0 + i * bar_w
        d.rectangle((bx + 4, y1 - bh, bx + bar_w - 4, y1), fill=(66, 133, 244))
        d.text((bx + bar_w / 2, y1 + 8), f"{h}时", font=small, fill="black", anchor="mt")
        if v:
            d.text((bx + bar_w / 2, y1 - bh - 4), f"{v:.0f}", font=small, fill="black", anchor="mb")
    d.text((x0, y0 - 30), "平均等候（分钟）/ mean wait (min) by hour", font=small, fill="black")
    # right: ratings of served tickets
    o = report["overall"]
    counts = [o["evaluations"][str(k)] for k in range(1, 6)] + [o["served"] - o["evaluated"]]
    total = max(1, sum(counts))
    rx, ry = width // 2 + 130, 110
    d.text((rx, ry - 40), f"评价 ratings (办结 {o['served']} 件)", font=small, fill="black")
    for i, (label, n) in enumerate(zip(LEVEL_LABELS, counts, strict=True)):
        y = ry + i * 70
        w = (width - rx - 140) * n / total
        d.rectangle((rx + 110, y, rx + 110 + w, y + 40), fill=LEVEL_COLOURS[i])
        d.text((rx, y + 20), label, font=small, fill="black", anchor="lm")
        d.text((rx + 118 + w, y + 20), f"{n} ({n / total:.0%})", font=small, fill="black", anchor="lm")
    rates = [
        f"非常满意率 {_pct(o['very_satisfied_rate'])}   好评率 {_pct(o['good_rate'])}",
        f"未评价率 {_pct(o['not_evaluated_rate'])}   差评 {o['bad_reviews']} 件",
    ]
    for i, line in enumerate(rates):
        d.text((rx, ry + 6 * 70 + 10 + i * 30), line, font=small, fill="black")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, optimize=True)
    return path
