"""Reusable kiosk widgets: big touch buttons, wrapped labels, an on-screen keypad.

Every tappable widget carries an ``action_id`` (e.g. ``tile:ticket``, ``service:shebao-card``) so
tests, screenshots and the benchmark can find it and tap it with a real touch event.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from ui.theme import Theme

KV = """
<BigButton>:
    background_normal: ''
    background_down: ''
    background_color: 0, 0, 0, 0
    halign: 'center'
    valign: 'middle'
    markup: True
    text_size: self.width - 32, None
    canvas.before:
        Color:
            rgba: self.fill if self.state == 'normal' else self.fill_down
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [self.radius]
        Color:
            rgba: self.border_rgba
        Rectangle:
            pos: self.x + self.radius, self.y
            size: self.width - 2 * self.radius, 3

<WrapLabel>:
    text_size: self.width, None
    size_hint_y: None
    height: self.texture_size[1] + self.pad
    markup: True
    valign: 'middle'

<Panel>:
    canvas.before:
        Color:
            rgba: self.fill
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [16]
"""

Builder.load_string(KV)


class BigButton(Button):  # type: ignore[misc]  # Kivy has no type information
    action_id = StringProperty("")
    fill = ListProperty([1, 1, 1, 1])
    fill_down = ListProperty([0.8, 0.8, 0.8, 1])
    border_rgba = ListProperty([0, 0, 0, 0.15])
    radius = NumericProperty(18)


class WrapLabel(Label):  # type: ignore[misc]  # Kivy has no type information
    pad = NumericProperty(12)


class FitLabel(Label):  # type: ignore[misc]  # Kivy has no type information
    """A label that shows all of its text: wrapped, and made smaller (down to ``min_font``) until it fits
    its box (the hall's name in the header: never "示范区政务服…")."""

    max_font = NumericProperty(40)
    min_font = NumericProperty(14)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._refit = Clock.create_trigger(lambda dt: self.fit(), 0)  # after the frame's other changes
        self.fbind("size", self._refit)
        self.fbind("text", self._refit)
        self.fbind("max_font", self._refit)

    def fit(self) -> None:
        if self.width < 10 or self.height < 10:
            return
        self.text_size = (self.width, None)
        size = self.max_font
        while True:
            self.font_size = size
            self.texture_update()
            fits = self.texture_size[1] <= self.height and self.texture_size[0] <= self.width
            if fits or size <= self.min_font:
                return
            size = max(self.min_font, size - 2)


class Panel(BoxLayout):  # type: ignore[misc]  # Kivy has no type information
    fill = ListProperty([1, 1, 1, 1])


def _darker(c: tuple[Any, ...], f: float = 0.82) -> list[Any]:
    return [c[0] * f, c[1] * f, c[2] * f, c[3]]


def button(
    theme: Theme,
    text: str,
    on_tap: Callable[[], None] | None,
    action_id: str,
    role: str = "normal",
    sub: str = "",
    size: float = 44,
    height: float = 150,
    **kw: Any,
) -> BigButton:
    """A large touch target; role: primary | normal | warn | green | closed | disabled."""
    fill, fg = {
        "primary": (theme.accent, theme.accent_fg),
        "warn": (theme.warn, (1, 1, 1, 1)),
        "green": (theme.green, (1, 1, 1, 1) if theme.name == "standard" else (0, 0, 0, 1)),
        "disabled": (theme.disabled, theme.disabled_fg),
        "closed": (theme.disabled, theme.button_fg),  # looks closed (out of hours), still tappable
    }.get(role, (theme.button, theme.button_fg))
    label = f"[b]{text}[/b]"
    if sub:
        label += f"\n[size={int(theme.fs(size * 0.62))}]{sub}[/size]"
    b = BigButton(
        text=label,
        font_size=theme.fs(size),
        color=fg,
        fill=list(fill),
        fill_down=_darker(fill),
        action_id=action_id,
        size_hint_y=None,
        height=theme.fs(height),
        **kw,
    )
    if role == "disabled" or on_tap is None:
        b.disabled_color = fg
        b.background_disabled_normal = ""
        b.disabled = True
    else:
        b.bind(on_release=lambda *_: on_tap())
    return b


def label(
    theme: Theme,
    text: str,
    size: float = 40,
    colour: tuple[Any, ...] | None = None,
    bold: bool = False,
    halign: str = "left",
    pad: float = 12,
) -> WrapLabel:
    return WrapLabel(
        text=f"[b]{text}[/b]" if bold else text,
        font_size=theme.fs(size),
        color=colour or theme.fg,
        halign=halign,
        pad=pad,
    )


def spacer(height: float = 20) -> Widget:
    return Widget(size_hint_y=None, height=height)


KEYS_DIGITS = "123456789-0"
KEYS_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def keypad(
    theme: Theme,
    on_key: Callable[[str], None],
    on_back: Callable[[], None],
    on_ok: Callable[[], None],
    ok_label: str,
    back_label: str,
    letters: str = "ABCDEF",
    prefix: str = "key",
    digits: str = "1234567890",
) -> GridLayout:
    """Digits plus the letters a code may contain (ticket prefixes, appointment and case codes), backspace
    and OK. A full alphabet gets more, smaller keys per row so the keypad keeps to the screen."""
    keys = letters + digits
    cols = 6 if len(keys) <= 24 else 8
    key_h = 120 if cols == 6 else 104
    grid = GridLayout(cols=cols, spacing=12, size_hint_y=None)
    grid.bind(minimum_height=grid.setter("height"))
    for ch in keys:
        grid.add_widget(button(theme, ch, functools.partial(on_key, ch), f"{prefix}:{ch}", size=48, height=key_h))
    grid.add_widget(
        button(
            theme,
            back_label,
            on_back,
            f"{prefix}:back",
            role="warn",
            size=(36 if cols == 6 else 28) if len(back_label) < 5 else 24,
            height=key_h,
        )
    )
    grid.add_widget(
        button(
            theme,
            ok_label,
            on_ok,
            f"{prefix}:ok",
            role="primary",
            size=(40 if cols == 6 else 28) if len(ok_label) < 5 else 24,
            height=key_h,
        )
    )
    return grid


def keyboard(
    theme: Theme,
    keys: str,
    on_key: Callable[[str], None],
    back_label: str,
    clear_label: str,
    done_label: str,
    on_done: Callable[[], None],
) -> GridLayout:
    """The on-screen search keyboard: letters in QWERTY rows, then delete, clear and close
    (action ids ``kb:<letter>``, ``kb:back``, ``kb:clear``, ``kb:done``)."""
    grid = GridLayout(cols=10, spacing=8, size_hint_y=None)
    grid.bind(minimum_height=grid.setter("height"))

    def key(ch: str) -> None:
        grid.add_widget(button(theme, ch, functools.partial(on_key, ch), f"kb:{ch}", size=42, height=96))

    def command(action: str, text: str, role: str, tap: Callable[[], None]) -> None:
        grid.add_widget(button(theme, text, tap, f"kb:{action}", role=role, size=28, height=96))

    rows = (keys[:10], keys[10:19], keys[19:]) if keys == QWERTY else (keys,)
    for i, row in enumerate(rows):
        for ch in row:
            key(ch)
        if i == len(rows) - 2 or len(rows) == 1:
            command("back", back_label, "warn", functools.partial(on_key, "back"))
        if i == len(rows) - 1:
            command("clear", clear_label, "normal", functools.partial(on_key, "clear"))
            command("done", done_label, "primary", on_done)
    return grid


QWERTY = "QWERTYUIOPASDFGHJKLZXCVBNM"  # rows of 10, 9 (+ delete) and 7 (+ clear, done) keys


def find_action(root: Widget, action_id: str) -> BigButton | None:
    """The visible button with this action id under ``root`` (depth first)."""
    for w in root.walk(restrict=True):
        if isinstance(w, BigButton) and w.action_id == action_id and not w.disabled:
            return w
    return None


def actions_under(root: Widget) -> list[str]:
    return [w.action_id for w in root.walk(restrict=True) if isinstance(w, BigButton) and w.action_id]
