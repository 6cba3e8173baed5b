"""Drive the real app frame by frame with real touch events (UI tests, screenshots, the benchmark).

``Driver(app)`` prepares the app in the current process (one Kivy window per process), then
``pump()`` runs Kivy's event loop one frame at a time; ``tap(action_id)`` finds the button with that
action id on the visible screen and presses it with a touch event posted to the event loop (down,
up), exactly as the window's input provider would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kivy.base import EventLoop, runTouchApp, stopTouchApp
from kivy.input.motionevent import MotionEvent
from kivy.uix.scrollview import ScrollView

from ui.widgets import actions_under, find_action


class Touch(MotionEvent):  # type: ignore[misc]  # Kivy has no type information
    """A single touch at window pixel coordinates (like kivy.tests.common.UnitTestTouch)."""

    def __init__(self, x: float, y: float) -> None:
        win = EventLoop.window
        super().__init__(
            "hallkit-touch",
            id(self),
            {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)},
            is_touch=True,
            type_id="touch",
        )
        self.profile = ["pos"]

    def depack(self, args: dict[str, Any]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)


class Driver:
    def __init__(self, app: Any) -> None:
        self.app = app
        app._run_prepare()
        runTouchApp(embedded=True)
        self.pump(2)

    def pump(self, frames: int = 1) -> None:
        for _ in range(frames):
            EventLoop.idle()

    def wait(self, cond: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
        end = time.monotonic() + timeout
        while True:
            self.pump()
            value = cond()
            if value:
                return value
            if time.monotonic() > end:
                raise TimeoutError(
                    f"UI: {what} not reached in {timeout:g} s (screen {self.screen}, buttons {self.actions()})"
                )
            time.sleep(0.005)

    @property
    def screen(self) -> str:
        return str(self.app.root_screen().name)

    def actions(self) -> list[str]:
        return actions_under(self.app.root)

    def find(self, action_id: str, timeout: float = 10.0) -> Any:
        return self.wait(lambda: find_action(self.app.root, action_id), timeout, f"button {action_id!r}")

    def tap(self, action_id: str, timeout: float = 10.0) -> None:
        w = self.find(action_id, timeout)
        self.tap_widget(w)

    def tap_widget(self, w: Any) -> None:
        scroll, seen = w.parent, 0
        while scroll is not None and not isinstance(scroll, ScrollView) and seen < 50:
            scroll, seen = (scroll.parent if scroll.parent is not scroll else None), seen + 1
        if scroll is not None and not isinstance(scroll, ScrollView):
            scroll = None
        if scroll is not None and scroll.do_scroll_y:
            scroll.scroll_to(w, padding=20, animate=False)
            self.pump(2)
        x, y = w.to_window(*w.center)
        touch = Touch(x, y)
        EventLoop.post_dispatch_input("begin", touch)
        EventLoop.post_dispatch_input("end", touch)
        self.pump()

    def stop(self) -> None:
        self.app.stop()
        self.pump()
        stopTouchApp()
