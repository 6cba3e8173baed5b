"""How a call is shown and spoken: 请 A001 号到 3 号窗口办理."""

from __future__ import annotations

_DIGITS_ZH = "零一二三四五六七八九"


def announcement_zh(code: str, window: int) -> str:
    """The displayed call text: 请 A001 号到 3 号窗口办理."""
    return f"请 {code} 号到 {window} 号窗口办理"


def announcement_en(code: str, window: int) -> str:
    return f"Ticket {code}, please go to window {window}"


def spoken_zh(code: str, window: int) -> str:
    """The text to speak: numbers read digit by digit (A001 -> A零零一)."""
    return f"请{_spell_zh(code)}号到{_spell_zh(str(window))}号窗口办理"


def _spell_zh(s: str) -> str:
    return "".join(_DIGITS_ZH[int(c)] if c.isdigit() else c for c in s)
