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
import os
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ui.staff_screens_run import labels_text  # noqa: E402

KNOWN = "SB2026150009"


def main(host: str, port: int, ca: str, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    os.environ["KIVY_HOME"] = str(out / "kivy")
    os.environ["HALLKIT_TTS"] = "off"
    from ui.kivy_env import prepare

    prepare(size=(1080, 1920), resizable=False)
    from kivy.core.window import Window

    from hall_bus import config as hallconfig
    from hall_bus.bus.client import BusClient, BusSettings
    from hall_bus.controller.service import HallController
    from hall_bus.hosts.kiosk_devices import open_kiosk_devices
    from ui.app import UiServices, build_app
    from ui.harness import Driver

    hall_id = f"t-ui-scan-{uuid.uuid4().hex[:8]}"
    text = (ROOT / "hall.toml").read_text(encoding="utf-8")
    text = text.replace('id = "demo-hall"', f'id = "{hall_id}"', 1)
    text = text.replace('data_dir = "var"', f'data_dir = "{out / "var"}"', 1)
    text = text.replace("[hall.hours]", "[hall.hours]\nalways_open = true", 1)
    if ca:
        text = text.replace("[bus]\n", f"[bus]\ntls = true\nca_file = {ca!r}\n", 1)
    tls = {"tls_ca": ca} if ca else {}
    (out / "hall.toml").write_text(text, encoding="utf-8")
    config = hallconfig.load(out / "hall.toml")
    clients: list[BusClient] = []

    def make_bus(client_id: str) -> BusClient:
        c = BusClient(hall_id, client_id, BusSettings(host=host, port=port, **tls)).start()
        clients.append(c)
        if not c.wait_connected(10):
            raise RuntimeError(f"{client_id}: {c.last_error}")
        return c

    controller = HallController(config, make_bus("controller")).start()
    case = {"case_no": KNOWN, "status": "received", "actor": "S0104", "service": "shebao-card"}
    make_bus("window-4").request("case.update", case, timeout=5)
    devices = open_kiosk_devices(config, make_bus)
    app = build_app(UiServices(config, make_bus, devices, ("kiosk",)))
    ui = Driver(app)
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
        ui.stop()
        for d in devices.values():
            if d is not None:
                d.close()
        controller.stop()
        for c in clients:
            c.stop()
    return shots


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])), ensure_ascii=False))
