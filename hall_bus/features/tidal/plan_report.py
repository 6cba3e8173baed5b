"""What ``hallkit tidal plan`` shows of a staffing plan (排班建议): the table per hour and the chart
(SVG written by hand, or PNG drawn with pillow): windows per domain per hour as stacked bars, the
replayed p90 wait per hour as a line, the target as a dashed line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from hall_bus.config import HallConfig
from hall_bus.features.tidal.planner import Outcome, Plan, open_hours_of, p90

COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")


@dataclass
class PlanTable:
    hours: list[str]  # "09:00"
    domains: list[str]
    names: dict[str, str]
    serving: list[dict[str, float]]  # per hour: domain -> window-equivalents (a shared window split evenly)
    windows: list[int]  # staffed windows per hour
    p90_replayed: list[float | None]
    p90_recorded: list[float | None]


def table(config: HallConfig, plan: Plan, outcome: Outcome) -> PlanTable:
    day = plan.day
    tz = config.tz()
    open_hours = open_hours_of(config, day)
    domains = sorted(plan.roster)
    serving: list[dict[str, float]] = []
    for staff in plan.staffing:
        per: dict[str, float] = dict.fromkeys(domains, 0.0)
        for doms in staff.values():
            for d in doms:
                per[d] = per.get(d, 0.0) + 1.0 / len(doms)
        serving.append(per)
    return PlanTable(
        hours=[dt.datetime.fromtimestamp(day.opens + h * 3600, tz).strftime("%H:%M") for h in range(day.hours)],
        domains=domains,
        names={d.id: d.name for d in config.domains},
        serving=serving,
        windows=[len(s) for s in plan.staffing],
        p90_replayed=[p90(ws) if ws else (0.0 if open_hours[h] else None) for h, ws in enumerate(outcome.replayed)],
        p90_recorded=[p90(ws) if ws else None for ws in outcome.recorded],
    )


def lines(config: HallConfig, plan: Plan, outcome: Outcome) -> list[str]:
    """The plan as text: one row per hour, then how the recorded day would have gone."""
    t = table(config, plan, outcome)
    head = "".join(f"{t.names.get(d, d)[:6]:>8}" for d in t.domains)
    out = [
        f"staffing plan for {plan.day.day}: p90 wait <= {plan.target_p90_min:g} min in every hour "
        f"(windows per domain; a shared window counts a share to each of its domains)",
        f"{'hour':<7}{head}{'windows':>9}{'p90 plan':>10}{'p90 then':>10}   (minutes)",
    ]
    for h, label in enumerate(t.hours):
        cells = "".join(f"{t.serving[h][d]:>8.1f}" if t.serving[h][d] else f"{'-':>8}" for d in t.domains)
        rep, rec = t.p90_replayed[h], t.p90_recorded[h]
        out.append(
            f"{label:<7}{cells}{t.windows[h]:>9}{'-' if rep is None else f'{rep:.1f}':>10}"
            f"{'-' if rec is None else f'{rec:.1f}':>10}"
        )
    staffed_now = len(config.windows) * sum(open_hours_of(config, plan.day))
    rec_all, rep_all = Outcome.flat(outcome.recorded), Outcome.flat(outcome.replayed)
    out.append(f"window-hours: {plan.window_hours} recommended, {staffed_now} with every window open in the open hours")
    if rec_all:
        out.append(
            f"the recorded day: mean wait {sum(rec_all) / len(rec_all):.1f} min, p90 {p90(rec_all):.1f} min as it went; "
            f"under this plan mean {sum(rep_all) / max(1, len(rep_all)):.1f} min, p90 {p90(rep_all):.1f} min"
        )
    for d, hours in plan.unmet.items():
        out.append(
            f"target out of reach for {t.names.get(d, d)} at {', '.join(t.hours[h] for h in hours)}: "
            "no clerk skilled for it is left that hour"
        )
    return out


def _scale(t: PlanTable, target: float) -> float:
    waits = [x for x in (*t.p90_replayed, *t.p90_recorded) if x is not None]
    return max([target * 1.5, *waits, 1.0])


def svg(config: HallConfig, plan: Plan, outcome: Outcome) -> str:
    t = table(config, plan, outcome)
    w, h, left, top, bottom = 760, 380, 60, 30, 60
    bar_w = (w - left - 140) / max(1, len(t.hours))
    wmax = max([1, *t.windows, len(config.windows)])
    ymax = _scale(t, plan.target_p90_min)
    plot_h = h - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="18" font-size="13">排班建议 staffing plan {plan.day.day}: '
        f"p90 ≤ {plan.target_p90_min:g} min</text>",
    ]
    for i, label in enumerate(t.hours):
        x = left + i * bar_w
        y = float(top + plot_h)
        for k, d in enumerate(t.domains):
            v = t.serving[i][d]
            if v <= 0:
                continue
            bh = plot_h * v / wmax
            y -= bh
            parts.append(
                f'<rect x="{x + 3:.1f}" y="{y:.1f}" width="{bar_w - 6:.1f}" height="{bh:.1f}" '
                f'fill="{COLOURS[k % len(COLOURS)]}"/>'
            )
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{label}</text>')
    pts = [
        f"{left + (i + 0.5) * bar_w:.1f},{top + plot_h * (1 - v / ymax):.1f}"
        for i, v in enumerate(t.p90_replayed)
        if v is not None
    ]
    parts.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="#222" stroke-width="2"/>')
    ty = top + plot_h * (1 - plan.target_p90_min / ymax)
    parts.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{w - 140}" y2="{ty:.1f}" stroke="#d00" stroke-dasharray="6,4"/>')
    parts.append(f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{wmax}</text>')
    parts.append(f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>')
    legend = [*((t.names.get(d, d), COLOURS[k % len(COLOURS)]) for k, d in enumerate(t.domains))]
    for k, (name, colour) in enumerate(legend):
        y = top + 14 * k
        parts.append(f'<rect x="{w - 130}" y="{y}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{w - 115}" y="{y + 9}">{name}</text>')
    y = top + 14 * len(legend) + 10
    parts.append(f'<text x="{w - 130}" y="{y}">— p90 (max {ymax:.0f} min)</text>')
    parts.append(f'<text x="{w - 130}" y="{y + 14}" fill="#d00">- - target</text>')
    parts.append(
        f'<text x="{left}" y="{h - 14}">bars: windows per domain (left scale, 0-{wmax}); line: p90 wait of the '
        f"recorded day under the plan (0-{ymax:.0f} min)</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def png(config: HallConfig, plan: Plan, outcome: Outcome, path: Path) -> None:
    """The same chart as :func:`svg`, drawn with pillow."""
    t = table(config, plan, outcome)
    w, h, left, top, bottom = 760, 380, 60, 30, 60
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    bar_w = (w - left - 140) / max(1, len(t.hours))
    wmax = max([1, *t.windows, len(config.windows)])
    ymax = _scale(t, plan.target_p90_min)
    plot_h = h - top - bottom
    draw.text((left, 8), f"staffing plan {plan.day.day}: p90 <= {plan.target_p90_min:g} min", fill="black", font=font)
    for i, label in enumerate(t.hours):
        x = left + i * bar_w
        y = float(top + plot_h)
        for k, d in enumerate(t.domains):
            v = t.serving[i][d]
            if v > 0:
                bh = plot_h * v / wmax
                draw.rectangle((x + 3, y - bh, x + bar_w - 3, y), fill=COLOURS[k % len(COLOURS)])
                y -= bh
        draw.text((x + bar_w / 2 - 14, top + plot_h + 6), label, fill="black", font=font)
    pts = [
        (left + (i + 0.5) * bar_w, top + plot_h * (1 - v / ymax)) for i, v in enumerate(t.p90_replayed) if v is not None
    ]
    if len(pts) > 1:
        draw.line(pts, fill="#222222", width=2)
    ty = top + plot_h * (1 - plan.target_p90_min / ymax)
    for x0 in range(left, w - 140, 10):
        draw.line((x0, ty, x0 + 6, ty), fill="#dd0000", width=1)
    for k, d in enumerate(t.domains):
        y = top + 14 * k
        draw.rectangle((w - 130, y, w - 120, y + 10), fill=COLOURS[k % len(COLOURS)])
        draw.text((w - 115, y), d, fill="black", font=font)
    y = top + 14 * len(t.domains) + 10
    draw.text((w - 130, y), f"line: p90 (0-{ymax:.0f} min)", fill="black", font=font)
    draw.text((w - 130, y + 14), "dashes: target", fill="#dd0000", font=font)
    draw.text((left - 40, top - 4), f"{wmax} win", fill="black", font=font)
    draw.text((left - 20, top + plot_h - 8), "0", fill="black", font=font)
    draw.text(
        (left, h - 24),
        "bars: windows per domain and hour; line: p90 wait of the recorded day under the plan",
        fill="black",
        font=font,
    )
    img.save(path)


def write_chart(config: HallConfig, plan: Plan, outcome: Outcome, path: Path) -> None:
    """Write the chart to ``path``: ``.svg`` by hand, anything else (``.png``) with pillow."""
    if path.suffix.lower() == ".svg":
        path.write_text(svg(config, plan, outcome), encoding="utf-8")
    else:
        png(config, plan, outcome, path)
