"""Take a ticket (取号): domain, service (with search), identify, green channel, appointment, done."""

from __future__ import annotations

import functools
from typing import Any

from kivy.uix.gridlayout import GridLayout
from kivy.uix.textinput import TextInput

from ui.screens.base import KioskScreen
from ui.theme import Theme
from ui.widgets import Panel, button, keyboard, label, spacer


class TicketScreen(KioskScreen):
    _search_ev: Any = None  # the pending search (a Kivy clock event) while the citizen is still typing

    def fill(self, view: dict[str, Any], theme: Theme, body: Any) -> None:
        flow = self.app.session.flow
        s = view["state"]
        tr = self.app.tr
        if view.get("identity") and s in ("domain", "service", "priority"):
            ident = view["identity"]
            who = " ".join(x for x in (ident.get("masked_name"), ident.get("masked_id")) if x)
            if who:
                body.add_widget(label(theme, who, 32, theme.muted))
        if s == "domain":
            self.ids.message.text = view.get("message") or view["prompt"]
            search = self._search_box(theme, flow, view.get("query", ""))
            body.add_widget(search)
            if getattr(self, "_refocus", False):
                self._refocus = False
                search.focus = True
            if view.get("keyboard"):
                body.add_widget(
                    keyboard(
                        theme,
                        view["keyboard"],
                        lambda k: self.act(flow.type_search, k),
                        tr("common.delete"),
                        tr("common.clear"),
                        tr("common.finish"),
                        lambda: self.act(flow.open_keyboard, False),
                    )
                )
            if view.get("query"):
                body.add_widget(label(theme, view.get("results_label", ""), 34, theme.muted))
                for r in view.get("results", []):
                    body.add_widget(self._service_button(theme, flow, r))
            grid = GridLayout(cols=self.tile_cols(), spacing=20, size_hint_y=None)
            grid.bind(minimum_height=grid.setter("height"))
            for d in view["domains"]:
                sub = tr("common.waiting", n=d["waiting"]) if d.get("waiting") is not None else ""
                grid.add_widget(
                    button(
                        theme,
                        d["label"],
                        functools.partial(self.act, flow.choose_domain, d["id"]),
                        f"domain:{d['id']}",
                        role="normal" if d.get("mode", "open") in ("open", "appointments") else "closed",
                        sub=d.get("closed_text") or sub,
                        size=50,
                        height=210,
                    )
                )
            body.add_widget(grid)
            if view.get("can_identify"):
                body.add_widget(
                    button(
                        theme,
                        tr("home.identify"),
                        lambda: self.act(flow.identify),
                        "identify",
                        role="primary",
                        sub=tr("home.identify.sub"),
                        size=44,
                        height=170,
                    )
                )
        elif s == "service":
            self.ids.message.text = view["prompt"]
            for sv in view["services"]:
                body.add_widget(self._service_button(theme, flow, sv))
        elif s in ("identify", "reader_unavailable"):
            if not view.get("message"):
                self.ids.message.text = view["prompt"]
            if not all(m["enabled"] for m in view["methods"]):  # the reader's trouble, said as a warning
                self.ids.message.color = theme.warn
            for m in view["methods"]:
                tap = {
                    "card": flow.read_card,
                    "qr": flow.scan_qr,
                    "appointment": flow.enter_appointment,
                    "skip": flow.skip_identify,
                }[m["id"]]
                role = ("primary" if m["id"] == "card" else "normal") if m["enabled"] else "disabled"
                body.add_widget(
                    button(
                        theme,
                        m["label"],
                        functools.partial(self.act, tap) if m["enabled"] else None,
                        f"identify:{m['id']}",
                        role=role,
                        sub=m.get("sub", ""),
                        size=50,
                        height=190,
                    )
                )
        elif s in ("reading_card", "scanning_qr", "issuing", "printing", "looking_up"):
            cancel = self.app.cancel_wait if s in ("reading_card", "scanning_qr") else None
            self.busy(view, theme, body, cancel)
        elif s == "appointment":
            self.ids.message.text = view.get("message") or view["prompt"]  # always one line: no jump on an error
            on_ok = functools.partial(self.act, flow.lookup_appointment)
            self.code_entry(theme, body, view.get("typed", ""), flow, on_ok, letters=view["keypad"])
        elif s == "appointment_found":
            a = view["appointment"]
            body.add_widget(label(theme, a["text"], 46, theme.fg, bold=True, pad=40))
            if not a["checked_in"]:
                body.add_widget(
                    button(
                        theme,
                        tr("ticket.appointment.check_in"),
                        lambda: self.act(flow.check_in),
                        "check_in",
                        role="primary",
                        size=52,
                        height=190,
                    )
                )
        elif s == "priority":
            if view.get("service"):
                body.add_widget(label(theme, view["service"]["label"], 46, theme.fg, bold=True))
            elderly = view.get("identity", {}).get("elderly")
            body.add_widget(label(theme, view["prompt"], 40, theme.fg, bold=bool(elderly)))
            body.add_widget(label(theme, view["note"], 34, theme.green if elderly else theme.muted))
            first, *others = view["priorities"]
            body.add_widget(self._priority_button(theme, flow, first, "primary", 52, 210))  # the one-tap default
            if view.get("others"):
                body.add_widget(label(theme, view["others"], 34, theme.muted))
            grid = GridLayout(cols=max(1, len(others)), spacing=20, size_hint_y=None)
            grid.bind(minimum_height=grid.setter("height"))
            for p in others:
                grid.add_widget(self._priority_button(theme, flow, p, "green", 40, 170))
            body.add_widget(grid)
            if view.get("scan_code"):
                scan = button(theme, view["scan_code"], lambda: self.act(flow.scan_qr), "priority:scan", size=40)
                body.add_widget(scan)
            body.add_widget(label(theme, view["verify"], 30, theme.muted))
        elif s == "done":
            self._done(theme, body, flow, view)
        elif s == "closed":
            body.add_widget(label(theme, view.get("message", ""), 46, theme.warn, bold=True, pad=60))
            self.ids.message.text = ""
            if view.get("offer_appointment"):  # appointments only now: the check-in instead
                tap = functools.partial(self.act, flow.enter_appointment)
                body.add_widget(button(theme, view["offer_appointment"], tap, "appointment", role="primary", size=46))

    def _priority_button(
        self, theme: Theme, flow: Any, p: dict[str, Any], role: str, size: float, height: float
    ) -> Any:
        tap = functools.partial(self.act, flow.choose_priority, p["id"])
        return button(theme, p["label"], tap, f"priority:{p['id']}", role=role, size=size, height=height)

    def _service_button(self, theme: Theme, flow: Any, sv: dict[str, Any]) -> Any:
        enabled = sv.get("enabled", sv["open"])  # an appointments-only service leads to the check-in
        role = "normal" if enabled else "disabled"
        tap = (lambda i=sv["id"]: self.act(flow.choose_service, i)) if enabled else None
        return button(
            theme, sv["label"], tap, f"service:{sv['id']}", role=role, sub=sv.get("sub", ""), size=46, height=170
        )

    def _done(self, theme: Theme, body: Any, flow: Any, view: dict[str, Any]) -> None:
        t = view["ticket"]
        tr = self.app.tr
        self.ids.title.text = "[b]{}[/b]".format(tr("ticket.done.title"))
        self.ids.message.text = ""
        panel = Panel(orientation="vertical", fill=list(theme.panel), size_hint_y=None, padding=[24, 30], spacing=10)
        panel.bind(minimum_height=panel.setter("height"))
        big = (260 if t["printed"] else 320) if self.portrait() else (150 if t["printed"] else 190)
        panel.add_widget(label(theme, t["code"], big, theme.huge, bold=True, halign="center", pad=20))
        panel.add_widget(label(theme, t["service_name"], 48, theme.fg, halign="center"))
        if t["green"]:
            panel.add_widget(label(theme, t["green_label"], 40, theme.green, bold=True, halign="center"))
        panel.add_widget(label(theme, t["ahead_text"], 50, theme.fg, bold=True, halign="center", pad=30))
        body.add_widget(panel)
        colour = theme.fg if t["printed"] else theme.warn
        body.add_widget(label(theme, view.get("message", ""), 40, colour, halign="center", pad=30))
        body.add_widget(spacer(10))
        text = tr("common.finish") if t["printed"] else tr("ticket.done.noted")
        body.add_widget(button(theme, text, flow.finish, "done", role="primary", size=50, height=170))

    def _search_box(self, theme: Theme, flow: Any, query: str) -> TextInput:
        """One search box kept across redraws (so typing is not interrupted), bound to the current flow."""
        box = getattr(self, "_search", None)
        if box is None:
            box = TextInput(multiline=False, size_hint_y=None, padding=[20, 24])
            box.bind(text=lambda w, value: self._search_later(value))
            box.bind(focus=lambda w, on: self._open_keyboard() if on else None)  # touched: the on-screen keyboard
            self._search = box
        self._flow = flow
        box.hint_text = self.app.tr("ticket.search.hint")
        box.font_size = theme.fs(40)
        box.height = theme.fs(104)
        if box.text.strip() != query:
            self._syncing = True  # the flow's query shown (typed on the on-screen keyboard): not a new search
            try:
                box.text = query
            finally:
                self._syncing = False
        return box

    def _open_keyboard(self) -> None:
        flow = getattr(self, "_flow", None)
        if flow is not None and not flow.keyboard and not flow.finished:
            self.act(flow.open_keyboard)

    def _search_later(self, value: str) -> None:
        from kivy.clock import Clock

        if self._search_ev is not None:
            self._search_ev.cancel()
        if getattr(self, "_syncing", False):
            self._search_ev = None
            return

        def run(dt: float) -> None:
            flow = getattr(self, "_flow", None)
            if flow is not None and flow.query != value.strip() and not flow.finished:
                self._refocus = bool(self._search.focus)
                flow.search(value)

        self._search_ev = Clock.schedule_once(run, 0.5)


SCREEN = TicketScreen
