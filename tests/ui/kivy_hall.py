"""The real app in a real window against an in-process hall, for the scripts that drive the Kivy UI in a
process of their own (Kivy allows one window per process): ``staff_screens_run.py``, ``scan_attach_run.py``.

:func:`open_hall` writes hall.toml with a fresh hall id, its own data folder and always-open hours
(TLS with ``ca`` when given), starts the controller on the test broker, opens the kiosk's devices and
builds the app with ``screens``; :meth:`KivyHall.close` stops all of it.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MARKUP = re.compile(r"\[/?(b|i|color[^\]]*)\]")
sys.path.insert(0, str(ROOT))


def labels_text(app: Any) -> list[str]:
    """What the window shows now: every label's text without its markup."""
    from kivy.uix.label import Label

    return [MARKUP.sub("", w.text).strip() for w in app.root.walk(restrict=True) if isinstance(w, Label) and w.text]


@dataclass
class KivyHall:
    config: Any
    make_bus: Callable[[str], Any]
    controller: Any
    devices: dict[str, Any]
    app: Any
    ui: Any
    window: Any
    clients: list[Any] = field(default_factory=list)

    def close(self) -> None:
        self.ui.stop()
        for d in self.devices.values():
            if d is not None:
                d.close()
        self.controller.stop()
        for c in self.clients:
            c.stop()


def open_hall(
    host: str,
    port: int,
    ca: str,
    out: Path,
    name: str,
    screens: tuple[str, ...],
    seed: Callable[[Callable[[str], Any]], None] | None = None,
) -> KivyHall:
    """The hall and the app (``seed(make_bus)`` runs after the controller starts, before the app)."""
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

    hall_id = f"t-ui-{name}-{uuid.uuid4().hex[:8]}"
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
    if seed is not None:
        seed(make_bus)
    devices = open_kiosk_devices(config, make_bus)
    app = build_app(UiServices(config, make_bus, devices, screens))
    return KivyHall(config, make_bus, controller, devices, app, Driver(app), Window, clients)
