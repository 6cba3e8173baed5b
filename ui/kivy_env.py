"""Prepare Kivy before its first import: environment, window size and the CJK default font.

Kivy reads its environment and configuration when it is first imported, so every entry point
(``hallkit kiosk``, ``hallkit screenshots``, ``hallkit demo``, the UI tests and the benchmark)
calls :func:`prepare` first. Nothing here imports Kivy at module level, so ``hallkit --help`` stays
fast.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import tempfile
from pathlib import Path

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_CANDIDATES = (
    CJK_FONT,
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
PORTRAIT = (1080, 1920)  # the kiosk's design size; other sizes scale the UI (ui.app) to fit
LANDSCAPE = (1920, 1080)
ORIENTATIONS = ("auto", "portrait", "landscape")
DECORATION_PX = 80  # what a desktop's title bar and panel take from a window that is not full screen


class FontMissing(RuntimeError):
    """No CJK font: Chinese would render as boxes, so the UI refuses to start."""


def find_cjk_font() -> Path:
    env = os.environ.get("HALLKIT_CJK_FONT")
    for p in ([Path(env)] if env else []) + list(FONT_CANDIDATES):
        if p.is_file():
            return p
    raise FontMissing(
        f"the CJK font {CJK_FONT} is missing, so Chinese would show as boxes; install it with "
        "`apt-get install fonts-wqy-microhei` (bash run.sh setup does) or set HALLKIT_CJK_FONT to a .ttc/.ttf"
    )


def prepare(
    size: tuple[int, int] = PORTRAIT,
    kivy_home: str | None = None,
    fullscreen: bool = False,
    resizable: bool = True,
    log: bool = False,
) -> None:
    """Set Kivy's environment and window configuration; then register the CJK font as the default."""
    if "kivy" in sys.modules and "kivy.core.window" in sys.modules:
        register_font()
        return
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    if not log:
        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # leave the logging set-up to hallkit (no DEBUG flood)
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    os.environ.setdefault("KIVY_HOME", kivy_home or os.path.join(tempfile.gettempdir(), f"hallkit-kivy-{os.getuid()}"))
    Path(os.environ["KIVY_HOME"]).mkdir(parents=True, exist_ok=True)
    font = find_cjk_font()  # fail before a window opens
    if not log:
        import logging

        # Kivy resets its logger's level from its config on import; a filter stays in place
        logging.getLogger("kivy").addFilter(lambda record: record.levelno >= logging.WARNING)
    from kivy.config import Config

    if not log:
        import logging

        Config.set("kivy", "log_level", "warning")
        logging.getLogger("kivy").setLevel(logging.WARNING)
    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "1" if resizable else "0")
    Config.set(
        "graphics", "multisamples", os.environ.get("HALLKIT_MSAA", "0")
    )  # flat UI: no MSAA (costly on software GL)
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")
    register_font(font)


def parse_size(text: str) -> tuple[int, int]:
    """``1080x1920`` as (width, height); ValueError with a sentence otherwise."""
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or not (200 <= int(w) <= 10000 and 200 <= int(h) <= 10000):
        raise ValueError(f"{text!r} is not a window size like 1080x1920")
    return int(w), int(h)


def screen_size() -> tuple[int, int] | None:
    """The X screen's size in pixels (None without an X display, e.g. on Wayland or the console)."""
    name = ctypes.util.find_library("X11")
    if not os.environ.get("DISPLAY") or not name:
        return None
    try:
        x11 = ctypes.CDLL(name)
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        for fn in (x11.XDefaultScreen, x11.XCloseDisplay):
            fn.argtypes = [ctypes.c_void_p]
        x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        display = x11.XOpenDisplay(None)
        if not display:
            return None
        try:
            screen = x11.XDefaultScreen(display)
            return int(x11.XDisplayWidth(display, screen)), int(x11.XDisplayHeight(display, screen))
        finally:
            x11.XCloseDisplay(display)
    except (OSError, AttributeError):
        return None


def window_size(
    size: str | None = None,
    orientation: str = "auto",
    screen: tuple[int, int] | None = None,
    fullscreen: bool = False,
) -> tuple[int, int]:
    """The window to open: ``size`` (``WxH``) or the design size of the ``orientation`` (``auto``: the
    screen's own, portrait without a screen), made to fit ``screen`` with the aspect kept (room left for
    the desktop's decorations unless ``fullscreen``). On a 1920x1200 screen ``auto`` gives 1920x1080."""
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {', '.join(ORIENTATIONS)}, not {orientation!r}")
    if size:
        w, h = parse_size(size)
        if orientation != "auto" and (w > h) != (orientation == "landscape"):
            w, h = h, w
    else:
        landscape = orientation == "landscape" or (
            orientation == "auto" and screen is not None and screen[0] > screen[1]
        )
        w, h = LANDSCAPE if landscape else PORTRAIT
    if screen is None:
        return w, h
    room_w, room_h = screen[0], screen[1] - (0 if fullscreen else DECORATION_PX)
    scale = min(1.0, room_w / w, room_h / h)
    return max(200, int(w * scale)), max(200, int(h * scale))


def register_font(font: Path | None = None) -> None:
    """Make the CJK font Kivy's default (the name 'Roboto' is what every Label uses unless told otherwise)."""
    from kivy.core.text import LabelBase

    path = str(font or find_cjk_font())
    LabelBase.register(name="Roboto", fn_regular=path, fn_bold=path, fn_italic=path, fn_bolditalic=path)
    LabelBase.register(name="HallKitCJK", fn_regular=path, fn_bold=path)
