"""Drive the real kiosk app in a real window through the scan screen's ticket-or-case entry: the prompt on
the intro, the keypad, a case number the controller does not know (refused with a sentence), one it
knows (attached), and report what each step drew (its labels) and where its screenshot is.

Run by ``tests/ui/test_ui_scan_attach.py`` in its own process (Kivy allows one window per process):
``python tests/ui/scan_attach_run.py HOST PORT CA_FILE OUT_DIR`` (CA_FILE "" for a plain broker); prints
one JSON object, step -> {labels, png, state}. The hall is hall.toml with a fresh hall id, its own data
folder and always-open hours.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ui.kivy_hall import labels_text, open_hall  # noqa: E402

KNOWN = "SB2026150009"


def seed_case(make_bus: Any) -> None:
    case = {"case_no": KNOWN, "status": "received", "actor": "S0104", "service": "shebao-card"}
    make_bus("window-4").request("case.update", case, timeout=5)


def main(host: str, port: int, ca: str, out: Path) -> dict[str, Any]:
    hall = open_hall(host, port, ca, out, "scan", ("kiosk",), seed=seed_case)
    app, ui, Window = hall.app, hall.ui, hall.window
    shots: dict[str, Any] = {}

    def shoot(stem: str) -> None:
        ui.pump(3)
        png = Path(Window.screenshot(name=str(out / f"{stem}.png")))
        shots[stem] = {"labels": labels_text(app), "png": str(png), "state": str(app.session.flow.state)}

    def type_number(number: str) -> None:
        ui.tap("scan:number")
        ui.wait(lambda: flow.state == "attach", what="the keypad")
        for n, ch in enumerate(number, 1):
            ui.tap(f"key:{ch}")
            ui.wait(lambda n=n: len(flow.typed) == n, what=f"key {ch} typed")
        ui.tap("key:ok")

    try:
        ui.wait(lambda: app.session.ctx.hall.get("services"), what="hall.info loaded")
        flow = app.session.start("scan")
        app.redraw()
        ui.wait(lambda: "scan:number" in ui.actions(), what="the scan intro")
        shoot("scan-intro")
        type_number("SB2026-99")
        ui.wait(lambda: flow.message.startswith("没有查到办件编号"), what="an unknown case refused")
        shoot("scan-unknown-case")
        ui.tap("scan:back")
        ui.wait(lambda: flow.state == "intro", what="back to the intro")
        type_number(KNOWN)
        ui.wait(lambda: flow.state == "intro" and flow.case == KNOWN, what="the case attached")
        shoot("scan-case-attached")
    finally:
        hall.close()
    return shots


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])), ensure_ascii=False))
