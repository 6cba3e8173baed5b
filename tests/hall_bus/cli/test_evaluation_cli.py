"""`hallkit report daily` (offline from the store file, and over the bus) and `hallkit followup list|update`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image

from hall_bus import config as hallconfig
from hall_bus.cli import main as cli
from hall_bus.controller.service import HallController
from hall_bus.controller.store import Store
from hall_bus.features.evaluation import reports
from hall_bus.features.evaluation.settings import load as load_settings
from tests.hall_bus.features.evaluation.evaluation_day import DAY, TZ, simulate_day
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def day_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("evaluation-cli") / "controller.db"
    store = Store(path, durable=False)
    simulate_day(hallconfig.load(ROOT / "hall.toml"), store, seed=11, tickets=120)
    store.close()
    return path


def test_offline_report_formats_and_chart(day_db: Path, hall_toml: Path, tmp_path: Path, capsys) -> None:
    before = day_db.read_bytes()
    base = ["report", "daily", "--db", str(day_db), "--config", str(hall_toml), "--date", DAY]
    assert cli.main([*base, "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    cfg = hallconfig.load(hall_toml)
    staff = load_settings(cfg)
    want = reports.daily(
        reports.ReadOnlyStore(day_db), cfg.hall_id, DAY, tz=TZ, clerk_of=lambda w: staff.clerk_of(w).staff_no
    )
    assert got == json.loads(json.dumps(want))
    assert got["overall"]["tickets"] == 120 and set(got["by"]["window"]) == {"1", "2", "3", "4", "5", "6"}

    assert cli.main([*base, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    overall = rows[0]
    assert (overall["group"], overall["name"]) == ("overall", "hall")
    assert int(overall["served"]) == got["overall"]["served"]
    assert float(overall["good_rate"]) == got["overall"]["good_rate"]
    assert sum(int(overall[f"level_{i}"]) for i in range(1, 6)) == got["overall"]["evaluated"]
    assert {r["name"] for r in rows if r["group"] == "clerk"} == set(got["by"]["clerk"])
    assert overall["followups"] == ";".join(f"{k}={v}" for k, v in sorted(got["overall"]["followups"].items()))
    assert got["overall"]["bad_reviews"] > 0 and overall["followups"]

    chart = tmp_path / "out" / "day.png"
    assert cli.main([*base, "--chart", str(chart)]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0] == f"{cfg.hall_id} {DAY}" and "good" in table.splitlines()[1]
    assert any(line.startswith("window  3 ") for line in table.splitlines())
    assert table.splitlines()[-1].startswith(f"差评 bad reviews: {got['overall']['bad_reviews']}; 整改 follow-ups: ")
    with Image.open(chart) as img:
        assert img.size == (1200, 700)
        colours = {c for _, c in img.convert("RGB").getcolors(1 << 20)}
    assert (66, 133, 244) in colours and (46, 139, 87) in colours  # wait bars and the 非常满意 bar were drawn
    assert day_db.read_bytes() == before  # read-only: the store file is not touched


def test_offline_report_errors_are_one_clear_line(hall_toml: Path, tmp_path: Path, capsys) -> None:
    base = ["report", "daily", "--config", str(hall_toml)]
    assert cli.main([*base, "--db", str(tmp_path / "missing.db")]) == 2
    err = capsys.readouterr().err
    assert "no such store file" in err and len(err.strip().splitlines()) == 1
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.close()
    assert cli.main([*base, "--db", str(other)]) == 2
    assert "not a HallKit controller store" in capsys.readouterr().err
    assert cli.main([*base, "--db", str(other), "--date", "24.11.2026"]) == 2
    assert "expected YYYY-MM-DD" in capsys.readouterr().err


def test_followup_and_report_commands_over_the_bus(tmp_hall: Path, bus_factory, mosquitto, capsys) -> None:
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    kiosk = bus_factory("kiosk-1")
    bus = ["--config", str(tmp_hall), "--host", mosquitto.host, "--port", str(mosquitto.port), "--timeout", "10"]
    time.sleep(0.2)
    try:
        code = kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})[
            "ticket"
        ]["code"]
        clerk = bus_factory("window-1")
        for op in ("window.call", "window.start", "window.finish"):
            clerk.request(op, {"window": 1})
        assert kiosk.request(
            "evaluation.submit", {"ticket": code, "level": 4, "reason": "attitude", "channel": "kiosk"}
        )["recorded"]
        assert cli.main(["followup", "list", *bus]) == 0
        out = capsys.readouterr().out
        assert code in out and "level 4 (attitude) open" in out
        fid = int(out.split()[0].lstrip("#"))
        assert cli.main(["followup", "list", "--overdue", *bus]) == 0
        assert capsys.readouterr().out.strip() == "no follow-ups"
        assert cli.main(["followup", "update", str(fid), "visited", "--note", "已电话回访", *bus]) == 0
        assert capsys.readouterr().out.strip() == f"#{fid} is now visited"
        assert cli.main(["followup", "update", str(fid), "closed", *bus]) == 1
        assert "invalid_transition" in capsys.readouterr().err
        assert cli.main(["report", "daily", "--format", "json", *bus]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["overall"]["bad_reviews"] == 1 and report["overall"]["followups"] == {"visited": 1}
        assert report["by"]["clerk"]["S0101"]["evaluations"]["4"] == 1
    finally:
        ctl.stop()
