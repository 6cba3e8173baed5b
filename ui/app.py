"""The HallKit Kivy app: the kiosk plus the hall display and the window terminal.

``build_app(UiServices(config, make_bus, devices, tabs))`` makes the app: ``make_bus(client_id)`` gives a
started bus client, ``devices`` maps a kiosk device kind (``idcard``, ``printer``, ``scanner``) to an
opened device or ``None`` (the kiosk then offers another way). A citizen kiosk runs ``("kiosk",)``
alone, so no staff screen is there to open; a staff PC or the demo's second window adds the hall
display and the window terminal as tabs (F1-F3). The UI is designed at 1080x1920 (or 1920x1080) and
scaled to the window it gets (``ui.theme.ui_scale``): header and footer stay on screen. The hall
manager works in the staff web console (``ui/web``, docs/web.md), which has a login: this app never
acts as the hall-wide ``manager`` bus client.

The app keeps logic out of widgets: the kiosk's journeys are the state machines of ``kiosk/``;
screens draw their ``view()`` dicts. Flow actions that may block (a card read, a bus request, a
print) run on a worker thread; every change is redrawn on the Kivy thread, so the screen never
freezes. Kivy is imported only when the app is built (``ui.kivy_env.prepare`` first).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.clock import clock_text
from kiosk.flow import KioskContext
from kiosk.hall_board import HallBoard
from kiosk.i18n import tr as translate
from kiosk.resident_code import verifier_for
from kiosk.session import KioskSession
from kiosk.staff import WindowTerminal
from ui.kivy_env import register_font
from ui.services import TAB_SCREEN, TABS, UiServices
from ui.theme import HALL, THEME_COLOURS, theme_for, ui_scale
from ui.tts import Speaker, spoken_text

log = logging.getLogger(__name__)

KIOSK_SCREENS = ("home", "closed", "ticket", "scan", "progress", "pickup", "rate", "error")
__all__ = ["TABS", "TAB_SCREEN", "UiServices", "build_app"]


def build_app(
    services: UiServices,
    start_tab: str | None = None,
    speaker: Any = None,
    show_tabs: bool = True,
    extra_keys: dict[int, Callable[[], None]] | None = None,
) -> Any:
    """Create (not run) the Kivy app; ``ui.kivy_env.prepare()`` must have run."""
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.lang import Builder
    from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.screenmanager import NoTransition, ScreenManager

    from ui import registry, widgets

    register_font()
    frame_kv = str(Path(__file__).resolve().parent / "frame.kv")
    if frame_kv not in Builder.files:
        Builder.load_file(frame_kv)

    class HallKitApp(App):  # type: ignore[misc]  # Kivy has no type information
        title = "HallKit"
        fs = NumericProperty(1.0)
        c_bg = ListProperty([1, 1, 1, 1])
        c_panel = ListProperty([1, 1, 1, 1])
        c_fg = ListProperty([0, 0, 0, 1])
        c_muted = ListProperty([0, 0, 0, 1])
        c_accent = ListProperty([0, 0, 1, 1])
        c_accent_fg = ListProperty([1, 1, 1, 1])
        c_button = ListProperty([1, 1, 1, 1])
        c_button_fg = ListProperty([0, 0, 0, 1])
        c_disabled = ListProperty([0.8, 0.8, 0.8, 1])
        c_warn = ListProperty([1, 0, 0, 1])
        c_warn_soft = ListProperty([1, 0.9, 0.85, 1])
        c_footer = ListProperty([0.8, 0.85, 0.9, 1])
        hall_name = StringProperty("")
        lang_label = StringProperty("English")
        elder_label = StringProperty("")
        t_home = StringProperty("")
        t_back = StringProperty("")
        countdown_text = StringProperty("")
        can_back = BooleanProperty(False)
        tab = StringProperty("kiosk")

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.services = services
            self.speaker = speaker if speaker is not None else Speaker()
            self.kiosk_worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kiosk-action")
            self.staff_worker = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="staff-action")
            # a flow's tick may ask the bus (the pickup flow polls its doors): never on the Kivy thread
            self.tick_worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kiosk-tick")
            self._tick_future: concurrent.futures.Future[Any] | None = None
            self.first_frame_at: float | None = None
            self.rendered = 0  # frames drawn after a model change (tests and the benchmark wait on it)
            self._redraw_ev: Any = None  # a Kivy clock trigger, made on the first redraw
            self._last_spoken = ""
            cfg = services.config
            self.session: KioskSession | None = None
            if services.kiosk_bus is not None:
                ctx = KioskContext(
                    kiosk_id=services.kiosk_id,
                    bus=services.kiosk_bus,
                    devices=services.devices,
                    request_timeout_s=cfg.bus.request_timeout_s,
                    resident_codes=verifier_for(cfg.identity),
                )
                self.session = KioskSession(ctx).follow_hall(services.kiosk_bus, cfg.hall_id)
                self.session.listeners.append(lambda s: self.redraw())
            self.board = None
            if services.display_bus is not None:
                self.board = HallBoard(cfg.hall_id).attach(services.display_bus)
                self.board.listeners.append(lambda b: self.redraw() if self.tab == "display" else None)
                self.board.call_listeners.append(self._announce)
            self.terminal = None
            if services.terminal_bus is not None:
                first = cfg.windows[0].number if cfg.windows else 1
                self.terminal = WindowTerminal(
                    services.terminal_bus, cfg.hall_id, first, staff="ui", bus_for=services.window_bus
                ).attach()
                self.terminal.listeners.append(lambda m: self.redraw() if self.tab == "terminal" else None)
            self.tab = start_tab or services.tabs[0]

        # -------------------------------------------------------------- building
        def build(self) -> Any:
            self.apply_theme()
            root = BoxLayout(orientation="vertical")
            self.sm = ScreenManager(transition=NoTransition())
            names = (list(KIOSK_SCREENS) if self.session else []) + [
                TAB_SCREEN[t] for t in services.tabs if t in TAB_SCREEN
            ]
            for name in names:
                self.sm.add_widget(registry.load(name)(name=name))
            root.add_widget(self.sm)
            if len(services.tabs) > 1 and show_tabs:
                self.tabbar = BoxLayout(size_hint_y=None, height=96, spacing=4, padding=[4, 4])
                root.add_widget(self.tabbar)
                self._build_tabs()
            else:
                self.tabbar = None
            Window.bind(on_key_down=self._on_key)
            Window.bind(size=lambda *_: self._resized())
            Clock.schedule_interval(self._tick, 0.5)
            return root

        def _resized(self) -> None:
            """A new window size: scale the UI to it (the header and footer stay on screen)."""
            if round(ui_scale(*Window.size), 3) != round(self.theme.scale / theme_for(self._elder()).scale, 3):
                self.apply_theme()
                self.redraw()

        def on_start(self) -> None:
            self._refresh_models()
            self._render()
            Clock.schedule_once(self._first_frame, 0)

        def _first_frame(self, dt: float) -> None:
            self.first_frame_at = time.perf_counter()

        def on_stop(self) -> None:
            self.stopped = True
            Clock.unschedule(self._tick)
            if self.session and self.session.flow:
                self.session.home()
            self.kiosk_worker.shutdown(wait=False, cancel_futures=True)
            self.staff_worker.shutdown(wait=False, cancel_futures=True)
            self.tick_worker.shutdown(wait=False, cancel_futures=True)
            self.speaker.close()

        def _build_tabs(self) -> None:
            if not self.tabbar:
                return
            self.tabbar.clear_widgets()
            th = theme_for(False)
            for i, t in enumerate(services.tabs):
                role = "primary" if t == self.tab else "normal"
                self.tabbar.add_widget(
                    widgets.button(
                        th,
                        f"F{i + 1} {self.tr('tab.' + t)}",
                        functools.partial(self.show_tab, t),
                        f"tab:{t}",
                        role=role,
                        size=30,
                        height=88,
                    )
                )

        # -------------------------------------------------------------- theme and language
        def _elder(self) -> bool:
            return bool(self.session and self.session.ctx.elder)

        def apply_theme(self) -> None:
            elder = self._elder()
            base = theme_for(elder)
            th = dataclasses.replace(base, scale=base.scale * ui_scale(*Window.size))
            self.theme = th
            self._applied = (self.lang, elder)
            self.fs = th.scale
            for name in THEME_COLOURS:
                setattr(self, f"c_{name}", list(getattr(th, name)))
            self.c_warn_soft = [0.99, 0.91, 0.86, 1] if not elder else [0.25, 0.12, 0.05, 1]
            self.c_footer = [0.84, 0.87, 0.92, 1] if not elder else [0.1, 0.1, 0.1, 1]
            self.t_home = self.tr("common.home")
            self.t_back = self.tr("common.back")
            self.lang_label = self.tr("common.lang")
            self.elder_label = self.tr("common.elder_off" if elder else "common.elder_on")

        @property
        def lang(self) -> str:
            return self.session.ctx.lang if self.session else "zh"

        def tr(self, key: str, **values: Any) -> str:
            return translate(key, self.lang, **values)

        def toggle_lang(self) -> None:
            if self.session:
                self.session.toggle_lang()
            lang = self.lang
            for model in (self.board, self.terminal):
                if model is not None:
                    model.lang = lang
            self.apply_theme()
            self._build_tabs()
            self.redraw()

        def toggle_elder(self) -> None:
            if self.session:
                self.session.set_elder(not self.session.ctx.elder)
            self.apply_theme()
            self.redraw()
            if self.session and self.session.ctx.elder:
                self.speaker.say(self.tr("common.elder_on"), self.lang)

        # -------------------------------------------------------------- actions
        def act(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
            """Run a kiosk flow action on the worker thread (it may wait for a card, the bus, the printer)."""

            def run() -> None:
                try:
                    fn(*args)
                except Exception:
                    log.exception("kiosk action %s failed", getattr(fn, "__name__", fn))
                    flow = self.session.flow if self.session else None
                    if flow is not None:  # the detail is in the log; the citizen reads a sentence
                        flow.go("error", self.tr("error.failed"))
                finally:
                    self.redraw()

            return self.kiosk_worker.submit(run)

        def staff_act(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
            def run() -> None:
                try:
                    fn(*args)
                except Exception:
                    log.exception("staff action failed")
                finally:
                    self.redraw()

            return self.staff_worker.submit(run)

        def start_flow(self, tile: str) -> None:
            if self.session is None:
                return
            flow = self.session.start(tile)
            if hasattr(flow, "load_queues") and flow.state == "domain":
                self.act(flow.load_queues)
            self.redraw()

        def go_home(self) -> None:
            if self.session:
                self.session.home()
            self.redraw()

        def go_back(self) -> None:
            flow = self.session.flow if self.session else None
            if flow is not None and hasattr(flow, "back"):
                self.act(flow.back)
            else:
                self.go_home()

        def cancel_wait(self) -> None:
            flow = self.session.flow if self.session else None
            if flow is not None:
                flow._cancel.set()

        def show_tab(self, tab: str) -> None:
            if tab not in services.tabs:
                return
            self.tab = tab
            self._build_tabs()
            self._refresh_models()
            self._render()

        def _on_key(self, window: Any, key: int, scancode: int, codepoint: str, modifiers: list[str]) -> bool:
            fkeys = {282: 0, 283: 1, 284: 2}  # F1..F3
            if key in fkeys and fkeys[key] < len(services.tabs):
                self.show_tab(services.tabs[fkeys[key]])
                return True
            if extra_keys and key in extra_keys:
                extra_keys[key]()
                return True
            return False

        def _refresh_models(self) -> None:
            """Load hall layouts over the bus off the Kivy thread."""
            if getattr(self, "stopped", False):
                return
            if self.session and self.session.refresh_due():
                self.session.last_refresh = self.session.ctx.clock()
                self.staff_worker.submit(self.session.refresh_hall)
            if self.terminal is not None and not self.terminal.hall:
                self.staff_worker.submit(self._load_terminal, self.terminal)

        def _load_terminal(self, terminal: WindowTerminal) -> None:
            if terminal.load_hall():
                terminal.refresh()

        def _announce(self, call: dict[str, Any]) -> None:
            self.speaker.say(call.get("spoken_zh") or call.get("announcement", ""), "zh")

        # -------------------------------------------------------------- drawing
        def redraw(self) -> None:
            """Ask for a redraw from any thread (coalesced into one frame)."""
            if self._redraw_ev is None:
                self._redraw_ev = Clock.create_trigger(self._render, 0)
            self._redraw_ev()

        def _tick(self, dt: float) -> None:
            if self.session:
                if self._tick_future is None or self._tick_future.done():
                    self._tick_future = self.tick_worker.submit(self._session_tick)
                flow = self.session.flow
                self.countdown_text = (
                    self.tr("common.seconds_left", s=int(flow.seconds_left()))
                    if flow and flow.state not in flow.busy_states
                    else ""
                )
                if self.session.refresh_due():
                    self._refresh_models()
            if self.tab == "display" and self.board is not None:
                scr = self.sm.get_screen("display")
                scr.ids.clock.text = clock_text(self.board.hall)  # the hall's time zone, not the machine's

        def _session_tick(self) -> None:
            try:
                if self.session is not None and self.session.tick():
                    self.redraw()
            except Exception:
                log.exception("kiosk tick failed")

        def kiosk_screen_name(self, view: dict[str, Any]) -> str:
            if view.get("state") in ("bus_error", "error"):
                return "error"
            name = view.get("screen", "home")
            return name if name in KIOSK_SCREENS else "pickup"

        def _render(self, *_: Any) -> None:
            if getattr(self, "stopped", False):
                return
            th = self.theme
            if self.session is not None and self._applied != (self.lang, self._elder()):
                self.apply_theme()  # the session ended: back to Chinese and the standard look
                self._build_tabs()
                th = self.theme
            Window.clearcolor = th.bg if self.tab == "kiosk" else HALL.bg  # one glClear instead of a full-screen quad
            if self.tab == "kiosk" and self.session is not None:
                view = self.session.view()
                self.hall_name = view.get("hall_name") or self._hall_name()
                name = self.kiosk_screen_name(view)
                self.can_back = bool(
                    self.session.flow is not None
                    and hasattr(self.session.flow, "back")
                    and not view.get("busy")
                    and view.get("state") not in ("done", "thanks")
                )
                self.sm.get_screen(name).update(view, th)
                self.sm.current = name
                self._speak_prompt(view)
            elif self.tab == "display" and self.board is not None:
                self.board.lang = self.lang
                self.sm.get_screen("display").update(self.board.view(), th)
                self.sm.current = "display"
            elif self.tab == "terminal" and self.terminal is not None:
                self.sm.get_screen("terminal").update(self.terminal.view(), th)
                self.sm.current = "terminal"
            self.rendered += 1

        def root_screen(self) -> Any:
            return self.sm.current_screen

        def _hall_name(self) -> str:
            cfg = services.config
            return (cfg.name_en or cfg.name) if self.lang == "en" else cfg.name

        def _speak_prompt(self, view: dict[str, Any]) -> None:
            """Elder mode: read the screen's prompt aloud once when it changes."""
            if not (self.session and self.session.ctx.elder):
                return
            text = spoken_text(view)
            if text and text != self._last_spoken:
                self._last_spoken = text
                self.speaker.say(text, self.lang)

    return HallKitApp()
