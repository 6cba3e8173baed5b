"""Window terminal (窗口软呼叫器): the clerk's soft caller with the current ticket, its green-channel
class and appointment; transfer to another domain or window."""

from __future__ import annotations

import functools
from typing import Any

from kivy.uix.gridlayout import GridLayout

from ui.screens.staff_base import StaffScreen
from ui.theme import HALL, Theme
from ui.widgets import Panel, button, label


class TerminalScreen(StaffScreen):
    transfer_open = False

    def update(self, view: dict[str, Any], theme: Theme) -> None:
        t = HALL
        term = self.app.terminal
        self.set_title(view["title"], view["clock"])
        body = self.ids.body
        body.clear_widgets()
        pick = GridLayout(cols=max(1, len(view["windows"])), spacing=8, size_hint_y=None, height=100)
        for n in view["windows"]:
            pick.add_widget(
                button(
                    t,
                    str(n),
                    functools.partial(self.app.staff_act, term.switch, n),
                    f"window:{n}",
                    role="primary" if n == view["window"] else "normal",
                    size=40,
                    height=100,
                )
            )
        body.add_widget(pick)
        hero = Panel(orientation="vertical", fill=list(t.panel), size_hint_y=None, padding=[24, 24])
        hero.bind(minimum_height=hero.setter("height"))
        hero.add_widget(label(t, self.app.tr("terminal.current"), 36, t.muted, halign="center"))
        hero.add_widget(
            label(t, view["current"], 180, t.huge if view["has_current"] else t.muted, bold=True, halign="center")
        )
        state_colour = t.warn if view["paused"] else t.muted
        hero.add_widget(
            label(t, f"{view['current_state']}  {view['current_service']}", 34, state_colour, halign="center")
        )
        for note in view["notes"]:  # green channel, appointment, transfers: what the clerk must not miss
            hero.add_widget(label(t, note, 38, t.ok, bold=True, halign="center"))
        hero.add_widget(label(t, view["domains_text"] + "    " + view["waiting_text"], 38, t.fg, halign="center"))
        body.add_widget(hero)
        grid = GridLayout(cols=2 if self.portrait() else 4, spacing=16, size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        ops = {
            "call": term.call_next,
            "recall": term.recall,
            "start": term.start,
            "no_show": term.no_show,
            "finish": term.finish,
            "pause": term.pause,
            "resume": term.resume,
        }
        for b in view["buttons"]:
            if b["id"] == "transfer":
                tap = self._toggle_transfer
            else:
                tap = functools.partial(self.app.staff_act, ops[b["id"]])
            role = "primary" if b["id"] == "call" else ("warn" if b["id"] in ("no_show", "pause") else "normal")
            grid.add_widget(button(t, b["label"], tap, f"terminal:{b['id']}", role=role, size=48, height=170))
        body.add_widget(grid)
        if self.transfer_open and view["has_current"]:
            self._transfer_choices(view)
        if view["message"]:
            body.add_widget(label(t, view["message"], 40, t.warn if view["error"] else t.ok, halign="center", pad=20))

    def _transfer_choices(self, view: dict[str, Any]) -> None:
        t, body = HALL, self.ids.body
        for title, choices in (
            ("terminal.to_domain", [(d["label"], "domain", d["id"]) for d in view["transfer_domains"]]),
            ("terminal.to_window", [(w["label"], "window", w["number"]) for w in view["transfer_windows"]]),
        ):
            if not choices:
                continue
            body.add_widget(label(t, self.app.tr(title), 36, t.muted))
            grid = GridLayout(cols=3, spacing=10, size_hint_y=None)
            grid.bind(minimum_height=grid.setter("height"))
            for text, kind, target in choices:
                tap = functools.partial(self._transfer, **{f"to_{kind}": target})
                grid.add_widget(button(t, text, tap, f"transfer:{kind}:{target}", size=38, height=110))
            body.add_widget(grid)

    def _toggle_transfer(self) -> None:
        self.transfer_open = not self.transfer_open
        self.app.redraw()

    def _transfer(self, to_domain: str | None = None, to_window: int | None = None) -> None:
        self.transfer_open = False
        self.app.staff_act(self.app.terminal.transfer, to_domain, to_window)


SCREEN = TerminalScreen
