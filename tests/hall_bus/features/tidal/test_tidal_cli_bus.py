"""`hallkit tidal load/proposals/accept/reject/mode` against a controller on the real mosquitto."""

from __future__ import annotations

import uuid

from hall_bus import config as hallconfig
from hall_bus.cli import main as cli
from hall_bus.controller.service import HallController


def test_cli_shows_load_and_decides_proposals(tmp_hall, bus_factory, mosquitto, capsys):
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    kiosk = bus_factory("kiosk-1")
    bus = ["--config", str(tmp_hall), "--host", mosquitto.host, "--port", str(mosquitto.port), "--timeout", "10"]
    try:
        for _ in range(20):
            kiosk.request(
                "ticket.issue",
                {
                    "service": "shebao-card",
                    "idempotency_key": uuid.uuid4().hex[:16],
                    "priority": "normal",
                    "channel": "kiosk",
                },
            )
        mgr = ctl.features["tidal"].manager
        mgr.evaluate()  # what the background thread does within seconds; done here so the test need not wait
        assert cli.main(["tidal", "load", *bus]) == 0
        out = capsys.readouterr().out
        assert "社保 shebao" in out and "3号窗口" in out
        assert cli.main(["tidal", "proposals", *bus]) == 0
        out = capsys.readouterr().out
        pid = next(word for word in out.split() if word.startswith("tp-"))
        assert "expected wait" in out
        assert cli.main(["tidal", "accept", pid, "--actor", "zhang", *bus]) == 0
        assert f"{pid} accepted" in capsys.readouterr().out
        assert cli.main(["tidal", "reject", pid, *bus]) == 1  # already decided: refused with the reason
        assert "already accepted" in capsys.readouterr().err
        assert cli.main(["tidal", "mode", "off", *bus]) == 0
        assert "propose -> off" in capsys.readouterr().out
        assert ctl.engine.window(3).domains == ["yibao", "shebao"]
    finally:
        ctl.stop()
