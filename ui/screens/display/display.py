"""Hall display (综合屏): the latest call large, every window's current ticket, recent calls and
waiting counts per domain. Calls are also announced by the app (text, and speech when espeak-ng is
installed)."""

from __future__ import annotations

from typing import Any

from kivy.uix.gridlayout import GridLayout

from ui.screens.staff_base import StaffScreen
from ui.theme import HALL, Theme
from ui.widgets import Panel, label


class DisplayScreen(StaffScreen):
    def update(self, view: dict[str, Any], theme: Theme) -> None:
        t = HALL
        self.set_title(f"{view['hall_name']}  ·  {view['title']}", view["clock"])
        body = self.ids.body
        body.clear_widgets()
        latest = view.get("latest")
        hero = Panel(orientation="vertical", fill=list(t.panel), size_hint_y=None, padding=[24, 24], spacing=6)
        hero.bind(minimum_height=hero.setter("height"))
        if latest:
            hero.add_widget(label(t, latest["ticket"], 200, t.huge, bold=True, halign="center", pad=10))
            hero.add_widget(label(t, latest["text"], 58, t.fg, bold=True, halign="center", pad=16))
        else:
            hero.add_widget(label(t, view["title"], 80, t.muted, halign="center", pad=60))
        body.add_widget(hero)

        cols = 3 if self.portrait() else 6
        grid = GridLayout(cols=cols, spacing=14, size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        for w in view["windows"]:
            cell = Panel(
                orientation="vertical",
                fill=list(t.button if w["ticket"] and w["state"] != "paused" else t.disabled),
                size_hint_y=None,
                padding=[12, 12],
                spacing=2,
            )
            cell.bind(minimum_height=cell.setter("height"))
            cell.add_widget(label(t, w["name"], 34, t.muted, halign="center", pad=4))
            cell.add_widget(
                label(
                    t,
                    w["ticket"] or "—",
                    76,
                    t.huge if w["state"] == "calling" else t.fg,
                    bold=True,
                    halign="center",
                    pad=4,
                )
            )
            paused = w["state"] == "paused"
            cell.add_widget(label(t, w["state_label"], 30, t.warn if paused else t.muted, halign="center", pad=4))
            grid.add_widget(cell)
        body.add_widget(grid)

        body.add_widget(label(t, view["labels"]["recent"], 40, t.muted, bold=True, pad=8))
        recent = GridLayout(cols=2, spacing=8, size_hint_y=None)
        recent.bind(minimum_height=recent.setter("height"))
        for c in view["recent"][1:7]:
            recent.add_widget(label(t, f"[b]{c['ticket']}[/b] → {c['window']}", 38, t.fg, pad=8))
        body.add_widget(recent)

        body.add_widget(label(t, view["labels"]["waiting"], 40, t.muted, bold=True, pad=8))
        wait = GridLayout(cols=2 if self.portrait() else 3, spacing=10, size_hint_y=None)
        wait.bind(minimum_height=wait.setter("height"))
        for d in view["waiting"]:
            cell = Panel(orientation="vertical", fill=list(t.panel), size_hint_y=None, padding=[18, 14])
            cell.bind(minimum_height=cell.setter("height"))
            cell.add_widget(label(t, f"{d['label']}   [b]{d['waiting']}[/b]", 40, t.fg, pad=4))
            if d["wait_text"]:
                cell.add_widget(label(t, d["wait_text"], 32, t.muted, pad=2))
            wait.add_widget(cell)
        body.add_widget(wait)


SCREEN = DisplayScreen
