"""Colours and type sizes: the standard look and the elder mode (larger type, higher contrast)."""

from __future__ import annotations

from dataclasses import dataclass


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


@dataclass(frozen=True)
class Theme:
    name: str
    scale: float
    bg: tuple[float, ...]
    panel: tuple[float, ...]
    fg: tuple[float, ...]
    muted: tuple[float, ...]
    accent: tuple[float, ...]  # header bar, primary buttons
    accent_fg: tuple[float, ...]
    button: tuple[float, ...]  # secondary buttons
    button_fg: tuple[float, ...]
    disabled: tuple[float, ...]
    disabled_fg: tuple[float, ...]
    warn: tuple[float, ...]
    ok: tuple[float, ...]
    green: tuple[float, ...]  # green channel
    huge: tuple[float, ...]  # the ticket number

    def fs(self, px: float) -> float:
        return px * self.scale


STANDARD = Theme(
    name="standard",
    scale=1.0,
    bg=rgba("#E6EBF2"),
    panel=rgba("#FFFFFF"),
    fg=rgba("#1B2430"),
    muted=rgba("#5A6675"),
    accent=rgba("#1F5FBF"),
    accent_fg=rgba("#FFFFFF"),
    button=rgba("#FFFFFF"),
    button_fg=rgba("#1B2430"),
    disabled=rgba("#D5DBE3"),
    disabled_fg=rgba("#7D8794"),
    warn=rgba("#C0392B"),
    ok=rgba("#1E8E3E"),
    green=rgba("#1E8E3E"),
    huge=rgba("#C0392B"),
)

ELDER = Theme(
    name="elder",
    scale=1.3,
    bg=rgba("#000000"),
    panel=rgba("#1A1A1A"),
    fg=rgba("#FFFFFF"),
    muted=rgba("#E6E6E6"),
    accent=rgba("#FFD400"),
    accent_fg=rgba("#000000"),
    button=rgba("#FFFFFF"),
    button_fg=rgba("#000000"),
    disabled=rgba("#444444"),
    disabled_fg=rgba("#BBBBBB"),
    warn=rgba("#FF6B5B"),
    ok=rgba("#5BE37D"),
    green=rgba("#5BE37D"),
    huge=rgba("#FFD400"),
)


THEME_COLOURS = ("bg", "panel", "fg", "muted", "accent", "accent_fg", "button", "button_fg", "disabled", "warn")


def ui_scale(width: float, height: float) -> float:
    """How much the UI (designed at 1080x1920 portrait, 1920x1080 landscape) is scaled to fit a window."""
    design = (1080, 1920) if width <= height else (1920, 1080)
    return max(0.4, min(1.0, width / design[0], height / design[1]))


def theme_for(elder: bool) -> Theme:
    return ELDER if elder else STANDARD


HALL = Theme(
    name="hall",
    scale=1.0,
    bg=rgba("#0E1A2B"),
    panel=rgba("#1B2D47"),
    fg=rgba("#FFFFFF"),
    muted=rgba("#A9B8CC"),
    accent=rgba("#2F7DE1"),
    accent_fg=rgba("#FFFFFF"),
    button=rgba("#24406A"),
    button_fg=rgba("#FFFFFF"),
    disabled=rgba("#2A3748"),
    disabled_fg=rgba("#6F7E92"),
    warn=rgba("#E5533D"),
    ok=rgba("#3CC46A"),
    green=rgba("#3CC46A"),
    huge=rgba("#FFD400"),
)
