"""``systemctl stop hallkit-controller`` sends SIGTERM: the controller process (``hallkit controller``,
as the unit runs it, against a broker of its own unit) exits 0, and its store is closed and consistent,
holding every ticket it acknowledged, also while requests were coming in when the signal came."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from hall_bus import config as hallconfig
from hall_bus.bus.client import BusError
from tests.helpers import wait_for


def issue(kiosk) -> dict:
    return kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})["ticket"]


def test_sigterm_stops_the_controller_cleanly(tmp_hall: Path, mosquitto, bus_factory) -> None:
    cfg = hallconfig.load(tmp_hall)
    cmd = [sys.executable, "-c", "import sys; from hall_bus.cli.main import main; sys.exit(main(sys.argv[1:]))"]
    args = ["controller", "--config", str(tmp_hall), "--broker", "external"]
    args += ["--host", mosquitto.host, "--port", str(mosquitto.port)]
    proc = subprocess.Popen([*cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline() if proc.stdout else ""
        assert banner.startswith(f"hall controller for {cfg.hall_id}"), banner + (
            proc.stderr.read() if proc.stderr else ""
        )
        kiosk = bus_factory("kiosk-1")
        acknowledged = [wait_for(lambda: _try(issue, kiosk), timeout=15, what="the controller answering")]
        acknowledged += [issue(kiosk) for _ in range(4)]

        stop = threading.Event()

        def stream() -> None:  # requests still coming in when the signal comes
            while not stop.is_set():
                try:
                    acknowledged.append(issue(kiosk))
                except BusError:
                    return

        feeder = threading.Thread(target=stream, daemon=True)
        feeder.start()
        wait_for(lambda: len(acknowledged) >= 10, what="a stream of tickets")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        stop.set()
        feeder.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read() if proc.stderr else ""
    assert rc == 0, err
    store = Path(cfg.data_dir) / f"{cfg.hall_id}.db"
    assert not Path(f"{store}-wal").exists(), "the store was not closed (its WAL is left)"
    db = sqlite3.connect(store)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r[0] for r in db.execute("SELECT id FROM tickets")}
        running = db.execute("SELECT COUNT(*) FROM served_requests WHERE status='running'").fetchone()[0]
    finally:
        db.close()
    assert {t["id"] for t in acknowledged} <= stored
    assert running == 0  # no request left half-done


def _try(fn, *args):
    try:
        return fn(*args)
    except BusError:
        return None
