"""Base classes of the screens. Screens only draw a view dict and forward taps to the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.properties import NumericProperty
from kivy.uix.screenmanager import Screen

from ui.theme import Theme
from ui.widgets import Panel, button, keypad, label


class HallScreen(Screen):  # type: ignore[misc]  # Kivy has no type information
    """A screen of the HallKit app. ``role`` is 'kiosk' (citizen) or 'staff' (display, terminal)."""

    role = "kiosk"
    cols = NumericProperty(1)
    _drawn: tuple[Any, ...] | None = None

    def unchanged(self, view: dict[str, Any], theme: Theme) -> bool:
        """True when this exact view (countdown aside) is already on screen: skip rebuilding it."""
        session = getattr(self.app, "session", None)
        flow = id(session.flow) if session is not None and session.flow is not None else None  # buttons call this flow
        key = (theme.name, theme.scale, self.portrait(), flow, {k: v for k, v in view.items() if k != "seconds_left"})
        if key == self._drawn:
            return True
        self._drawn = key
        return False

    @property
    def app(self) -> Any:
        return App.get_running_app()

    def portrait(self) -> bool:
        return bool(self.width <= self.height)

    def update(self, view: dict[str, Any], theme: Theme) -> None:
        """Redraw from ``view`` (called on the main thread)."""
        raise NotImplementedError


class KioskScreen(HallScreen):
    """A citizen screen: title, message and a body grid rebuilt from the flow's view."""

    def update(self, view: dict[str, Any], theme: Theme) -> None:
        if self.unchanged(view, theme):
            return
        self.ids.title.text = f"[b]{view.get('title', '')}[/b]"
        self.ids.message.text = view.get("message", "") or ""
        self.ids.message.color = (
            theme.warn if view.get("state") in ("bus_error", "error", "reader_unavailable", "closed") else theme.muted
        )
        body = self.ids.body
        body.clear_widgets()
        self.cols = 1
        self.fill(view, theme, body)

    def fill(self, view: dict[str, Any], theme: Theme, body: Any) -> None:
        raise NotImplementedError

    # helpers for subclasses
    def act(self, fn: Callable[..., Any], *args: Any) -> None:
        self.app.act(fn, *args)

    def busy(self, view: dict[str, Any], theme: Theme, body: Any, cancel: Callable[[], None] | None = None) -> None:
        body.add_widget(label(theme, view.get("message") or "", 52, theme.fg, bold=True, halign="center", pad=80))
        if cancel is not None:
            body.add_widget(button(theme, self.app.tr("common.cancel"), cancel, "cancel", size=44))

    def code_entry(
        self,
        theme: Theme,
        body: Any,
        typed: str,
        flow: Any,
        on_ok: Callable[[], None],
        letters: str = "ABCDEF",
        digits: str = "1234567890",
        size: int = 72,
    ) -> None:
        """The code typed so far in large type, and the keypad typing it (``flow.type_char``,
        ``flow.backspace``; ``on_ok`` for 确认)."""
        box = Panel(fill=list(theme.panel), size_hint_y=None, height=theme.fs(140), padding=[24, 10])
        box.add_widget(label(theme, typed or " ", size, theme.fg, bold=True, halign="center"))
        body.add_widget(box)
        tr = self.app.tr
        body.add_widget(
            keypad(
                theme,
                lambda c: self.act(flow.type_char, c),
                lambda: self.act(flow.backspace),
                on_ok,
                tr("common.confirm"),
                tr("common.delete"),
                letters=letters,
                digits=digits,
            )
        )

    def tile_cols(self) -> int:
        return 2 if self.portrait() else 3
