"""Drive the real app in a real window through the screens of issue 13's staff, display, rating and scan
items, and report what each screen drew (its labels) and where its screenshot is.

Run by ``tests/ui/test_ui_staff_screens.py`` in its own process (Kivy allows one window per process):
``python tests/ui/staff_screens_run.py HOST PORT CA_FILE OUT_DIR [DOCS_DIR]`` (CA_FILE "" for a plain broker);
prints one JSON object, screen stem -> {labels, png}. With DOCS_DIR the screens are also written there as
``<screen>-<zh|en|elder>.png``, palette-quantised as ``hallkit screenshots`` writes them. The hall is hall.toml with a fresh hall id, its own data folder and always-open hours.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ui.kivy_hall import labels_text, open_hall  # noqa: E402


def main(host: str, port: int, ca: str, out: Path) -> dict[str, Any]:
    hall = open_hall(host, port, ca, out, "staff", ("kiosk", "display", "terminal"))
    controller, app, ui, Window = hall.controller, hall.app, hall.ui, hall.window
    shots: dict[str, Any] = {}

    def shoot(stem: str, variants: tuple[str, ...] = ()) -> None:
        """Shoot the screen as ``stem`` (in Chinese), then as ``stem-en`` / ``stem-elder`` for ``variants``."""
        ui.pump(3)
        png = Path(Window.screenshot(name=str(out / f"{stem}.png")))
        shots[stem] = {"labels": labels_text(app), "png": str(png), "at": time.time()}
        for variant in variants:
            switch = app.toggle_lang if variant == "en" else app.toggle_elder
            switch()
            ui.pump(4)
            png = Path(Window.screenshot(name=str(out / f"{stem}-{variant}.png")))
            shots[f"{stem}-{variant}"] = {"labels": labels_text(app), "png": str(png), "at": time.time()}
            switch()
            ui.pump(4)

    try:
        ui.wait(lambda: app.session.ctx.hall.get("services"), what="hall.info loaded")
        engine = controller.engine
        # window terminal: an elderly green-channel ticket, then an appointment, then paused mid-service
        engine.issue("shebao-card", channel="cli", priority="elderly", age_years=72)
        app.show_tab("terminal")
        ui.wait(
            lambda: app.terminal.hall and app.terminal.state is not None,
            what=f"terminal loaded ({app.terminal.error_code})",
        )
        ui.tap("terminal:call")
        ui.wait(lambda: "绿色通道：60岁以上老年人" in labels_text(app), what="green channel on the terminal")
        ui.tap("terminal:transfer")
        ui.wait(lambda: ui.actions().count("transfer:window:2") == 1, what="transfer choices")
        shoot("terminal-green", ("en",))
        ui.tap("transfer:window:3")
        ui.wait(lambda: engine.ticket("A001").target_window == 3, what="transferred to window 3")
        due = time.time() + 120
        engine.add_appointment("YY2026UI", "shebao-card", due, due + 3600)
        engine.issue("shebao-card", channel="cli", appointment="YY2026UI")
        ui.tap("terminal:call")
        ui.wait(lambda: any(t.startswith("预约 YY2026UI") for t in labels_text(app)), what="appointment")
        ui.tap("terminal:start")
        ui.tap("terminal:pause")
        ui.wait(lambda: any(t.startswith("本窗口暂停服务") for t in labels_text(app)), what="paused on the terminal")
        shoot("terminal-paused")
        ui.tap("terminal:resume")
        ui.tap("terminal:finish")
        ui.tap("terminal:finish")  # nothing left to finish: a sentence, not the controller's English
        ui.wait(lambda: "本窗口当前没有可操作的号码" in labels_text(app), what="error sentence")
        shoot("terminal-error")
        # a busier hall for the display: calls at windows 2 and 3, window 5 paused mid-service
        for service in ("shebao-transfer", "yibao-reimburse", "yibao-reimburse", "gongan-hukou", "gongan-hukou"):
            engine.issue(service, channel="cli")
        for window in (2, 3, 5):
            engine.call_next(window, actor="test")
        engine.start(5, actor="test")
        engine.pause(5, "lunch", actor="test")
        # hall display
        app.show_tab("display")
        ui.wait(lambda: app.board is not None and "暂停服务" in labels_text(app), what="display with a paused window")
        shoot("display", ("en",))
        # rating: an already rated ticket is refused before any level is offered
        app.show_tab("kiosk")
        flow = app.session.start("rate")
        for ch in "A002":
            flow.type_char(ch)
        flow.submit()
        flow.choose_level(1)
        flow = app.session.start("rate")
        app.redraw()
        ui.pump(5)
        for n, ch in enumerate("A002", 1):
            ui.tap(f"key:{ch}")
            ui.wait(lambda n=n: len(flow.typed) == n, what=f"key {ch} typed")
        ui.tap("key:ok")
        ui.wait(lambda: "A002 已经评价过，感谢您的参与" in labels_text(app), what="already rated")
        shoot("rate-already", ("en", "elder"))
        # scanning: a real page from the desk-scene camera, saved, then the slip
        flow = app.session.start("scan")
        app.redraw()
        ui.pump(5)
        for attempt in (1, 2):  # a busy machine may find no steady page in the scanner's 15 s: the citizen taps again
            ui.tap("scan:start")
            ui.wait(lambda: flow.state in ("capturing", "preview"), what="capture started")
            ui.wait(lambda: flow.state != "capturing", timeout=100, what="capture over")
            if flow.state == "preview":
                break
            print(f"scan attempt {attempt}: {flow.state}: {flow.message}", file=sys.stderr)
        ui.wait(lambda: flow.state == "preview", timeout=1, what=f"page captured ({flow.state}: {flow.message})")
        ui.tap("scan:finish")
        ui.wait(lambda: app.session.flow.state == "done", timeout=30, what="scan saved")
        ui.wait(lambda: "材料编号" in labels_text(app), what="slip")
        shoot("scan-done", ("en", "elder"))
        shots["scan-done"]["code"] = app.session.flow.reference
    finally:
        hall.close()
    return shots


DOCS = {"terminal-green": "terminal", "display": "display"}
DOCS |= {"rate-already": "rate-already", "scan-done": "scan-done"}


def to_docs(shots: dict[str, Any], docs: Path) -> None:
    from PIL import Image

    for stem, name in DOCS.items():
        for variant in ("", "-en", "-elder"):
            shot = shots.get(stem + variant)
            if shot is not None:
                with Image.open(shot["png"]) as im:
                    quantised = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
                    quantised.save(docs / f"{name}-{variant.lstrip('-') or 'zh'}.png", optimize=True)


if __name__ == "__main__":
    drawn = main(sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]))
    if len(sys.argv) > 5:
        to_docs(drawn, Path(sys.argv[5]))
    print(json.dumps(drawn, ensure_ascii=False))
