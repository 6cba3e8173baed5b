"""Manager console (大厅管理): windows with their domains, one wait figure per domain (minutes), reassign,
tidal proposals while they still apply."""

from __future__ import annotations

import functools
from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from ui.screens.staff_base import StaffScreen
from ui.theme import HALL, Theme
from ui.widgets import Panel, button, label


class ManagerScreen(StaffScreen):
    editing: int | None = None
    chosen: set[Any] = set()

    def update(self, view: dict[str, Any], theme: Theme) -> None:
        t = HALL
        mgr = self.app.manager
        tr = self.app.tr
        self.set_title(view["title"], view["clock"])
        body = self.ids.body
        body.clear_widgets()
        if view["message"]:
            body.add_widget(label(t, view["message"], 36, t.warn if view["error"] else t.ok, pad=10))
        body.add_widget(label(t, tr("manager.windows"), 42, t.muted, bold=True))
        for w in view["windows"]:
            row = Panel(fill=list(t.panel), size_hint_y=None, height=130, padding=[18, 10], spacing=12)
            text = f"[b]{w['name']}[/b]  {w['domains_text']}"
            paused = tr("display.paused") if w["state"] == "paused" else ""
            sub = f"{w['current'] or '—'}   {tr('common.waiting', n=w['waiting'])}   {paused}   {w['pending']}"
            info = BoxLayout(orientation="vertical", size_hint_y=None)
            info.bind(minimum_height=info.setter("height"))
            info.add_widget(label(t, text, 38, t.fg, pad=4))
            info.add_widget(label(t, sub, 30, t.muted, pad=4))
            info.bind(height=lambda box, h, row=row: setattr(row, "height", max(130, h + 20)))  # long names wrap
            row.add_widget(info)
            edit = button(
                t,
                tr("manager.reassign"),
                functools.partial(self._edit, w["number"], w["domains"]),
                f"reassign:{w['number']}",
                size=34,
                height=100,
                size_hint_x=None,
                width=200,
            )
            row.add_widget(edit)
            body.add_widget(row)
            if self.editing == w["number"]:
                grid = GridLayout(cols=3, spacing=10, size_hint_y=None)
                grid.bind(minimum_height=grid.setter("height"))
                for d in view["domains"]:
                    if d["id"] not in w["skills"]:
                        continue
                    grid.add_widget(
                        button(
                            t,
                            d["label"],
                            functools.partial(self._toggle, d["id"]),
                            f"domain:{d['id']}",
                            role="primary" if d["id"] in self.chosen else "normal",
                            size=36,
                            height=100,
                        )
                    )
                grid.add_widget(
                    button(t, tr("common.confirm"), self._apply, "reassign:ok", role="green", size=36, height=100)
                )
                body.add_widget(grid)
        body.add_widget(label(t, tr("manager.domains"), 42, t.muted, bold=True))
        for d in view["queues"]:  # one row, one wait figure per domain
            colour = t.warn if d["overloaded"] else t.fg
            body.add_widget(label(t, f"[b]{d['label']}[/b]   {d['text']}", 34, colour, pad=4))
        if view["tidal"]:
            body.add_widget(label(t, tr("manager.tidal"), 42, t.muted, bold=True))
            if not view["proposals"]:
                body.add_widget(label(t, tr("manager.tidal.none"), 34, t.muted))
            for p in view["proposals"]:
                row = Panel(orientation="vertical", fill=list(t.panel), size_hint_y=None, padding=[18, 12], spacing=8)
                row.bind(minimum_height=row.setter("height"))
                row.add_widget(label(t, p["text"], 34, t.fg))
                btns = BoxLayout(size_hint_y=None, height=100, spacing=12)
                btns.add_widget(
                    button(
                        t,
                        tr("manager.accept"),
                        functools.partial(self.app.staff_act, mgr.accept, p["id"]),
                        f"accept:{p['id']}",
                        role="green",
                        size=36,
                        height=100,
                    )
                )
                btns.add_widget(
                    button(
                        t,
                        tr("manager.reject"),
                        functools.partial(self.app.staff_act, mgr.reject, p["id"]),
                        f"reject:{p['id']}",
                        role="warn",
                        size=36,
                        height=100,
                    )
                )
                row.add_widget(btns)
                body.add_widget(row)

    def _edit(self, number: int, domains: list[Any]) -> None:
        self.editing = None if self.editing == number else number
        self.chosen = set(domains)
        self.app.redraw()

    def _toggle(self, domain: str) -> None:
        self.chosen ^= {domain}
        self.app.redraw()

    def _apply(self) -> None:
        number, domains = self.editing, sorted(self.chosen)
        self.editing = None
        if number is not None and domains:
            self.app.staff_act(self.app.manager.reassign, number, domains)
        self.app.redraw()


SCREEN = ManagerScreen
