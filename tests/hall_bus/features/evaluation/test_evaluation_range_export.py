"""``report.range`` over the bus against the daily report of the same simulated day, its exports (CSV
that Excel reads, XLSX opened with openpyxl holding the same figures) and ``hallkit report range``."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from hall_bus import config as hallconfig
from hall_bus.bus.client import RequestFailed
from hall_bus.cli import main as cli
from hall_bus.controller.service import HallController
from hall_bus.controller.store import Store
from hall_bus.features.evaluation import export, ranges, reports
from hall_bus.features.evaluation.settings import load as load_settings
from tests.hall_bus.features.evaluation.evaluation_day import DAY, RELIEF, TZ, simulate_day
from tests.helpers import ROOT

WEEK = ("2026-11-23", "2026-11-29")


@pytest.fixture(scope="module")
def day_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("evaluation-range") / "controller.db"
    store = Store(path, durable=False)
    simulate_day(hallconfig.load(ROOT / "hall.toml"), store, seed=5, tickets=150)
    store.close()
    return path


def _answer(db: Path, group: str, cfg=None) -> dict:
    cfg = cfg or hallconfig.load(ROOT / "hall.toml")
    staff = load_settings(cfg)
    store = reports.ReadOnlyStore(db)
    try:
        return ranges.report_range(
            store,
            cfg.hall_id,
            *WEEK,
            group,
            clerk_of=lambda w: s.staff_no if (s := staff.clerk_of(w)) else None,
            tz=TZ,
            label=ranges.labeller(cfg, staff),
        )
    finally:
        store.close()


def test_the_range_agrees_with_the_daily_report(day_db: Path) -> None:
    cfg = hallconfig.load(ROOT / "hall.toml")
    staff = load_settings(cfg)
    store = reports.ReadOnlyStore(day_db)
    daily = reports.daily(store, cfg.hall_id, DAY, tz=TZ, clerk_of=lambda w: staff.clerk_of(w).staff_no)
    store.close()
    for group in ("window", "clerk", "domain", "service"):
        got = {r["key"]: r for r in _answer(day_db, group)["rows"]}
        for key, fig in daily["by"][group].items():
            if not fig["served"]:
                continue
            row = got[key]
            assert (row["finished"], row["evaluated"], row["levels"]) == (
                fig["served"],
                fig["evaluated"],
                fig["evaluations"],
            )
            assert row["very_satisfied_rate"] == fig["very_satisfied_rate"]
            assert row["not_evaluated_rate"] == fig["not_evaluated_rate"]
    week = _answer(day_db, "week")
    assert [r["key"] for r in week["rows"]] == ["2026-W48"] and week["rows"][0]["label"]["zh"] == "2026年第48周"
    assert week["totals"]["finished"] == daily["overall"]["served"]
    assert RELIEF in {r["key"] for r in _answer(day_db, "clerk")["rows"]}  # who served, from the evaluations


def test_csv_has_a_bom_chinese_headers_and_the_same_figures(day_db: Path) -> None:
    answer = _answer(day_db, "window")
    data = export.report_csv(answer)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["窗口", "名称", "非常满意"] and rows[0][-3:] == ["非常满意率", "好评率", "未评价率"]
    col = {h: i for i, h in enumerate(rows[0])}
    body = {r[0]: r for r in rows[1:]}
    for row in answer["rows"]:
        line = body[row["key"]]
        assert line[1] == row["label"]["zh"] and int(line[2]) == row["levels"]["1"]
        assert int(line[col["办结"]]) == row["finished"]
        assert line[col["非常满意率"]] == f"{row['very_satisfied_rate']:.2%}"
        by_channel = [int(line[col[h]]) for h in ("评价器评价", "自助机评价", "扫码评价")]
        assert by_channel == [row["channels"][c] for c in ("pad", "kiosk", "qr")]
        assert sum(by_channel) == row["evaluated"]  # every rating came by one channel
    assert rows[-1][0] == "合计" and int(rows[-1][col["已评价"]]) == answer["totals"]["evaluated"]


def test_xlsx_opened_with_openpyxl_holds_the_same_figures(day_db: Path, tmp_path: Path) -> None:
    answer = _answer(day_db, "service")
    path = tmp_path / "report.xlsx"
    path.write_bytes(export.report_xlsx(answer))
    ws = load_workbook(path).worksheets[0]
    assert ws.title == "好差评" and "2026-11-23 至 2026-11-29" in ws["A1"].value
    head = [c.value for c in ws[2]]
    assert head == export.headers(answer)
    col = {h: i for i, h in enumerate(head)}
    lines = [[c.value for c in r] for r in ws.iter_rows(min_row=3, max_row=2 + len(answer["rows"]) + 1)]
    for line, row in zip(lines, [*answer["rows"], {"key": "合计", **answer["totals"]}], strict=True):
        assert line[0] == row["key"]
        assert [line[col[n]] for n in ("非常满意", "满意", "基本满意", "不满意", "非常不满意")] == [
            row["levels"][str(k)] for k in range(1, 6)
        ]
        assert (line[col["已评价"]], line[col["未评价"]], line[col["办结"]], line[col["差评"]]) == (
            row["evaluated"],
            row["not_evaluated"],
            row["finished"],
            row["bad_reviews"],
        )
        assert line[col["非常满意率"]] == row["very_satisfied_rate"]
        assert line[col["未评价率"]] == row["not_evaluated_rate"]
    rate_cell = ws.cell(3, col["非常满意率"] + 1)
    assert rate_cell.number_format == "0.00%"
    target = [r for r in ws.iter_rows(values_only=True) if r and r[0] == "非常满意率目标"]
    assert target[0][2] == 0.99


def test_cli_range_offline_writes_csv_and_xlsx(day_db: Path, hall_toml: Path, tmp_path: Path, capsys) -> None:
    base = ["report", "range", "--db", str(day_db), "--config", str(hall_toml), "--from", WEEK[0], "--to", WEEK[1]]
    out_csv, out_xlsx = tmp_path / "r.csv", tmp_path / "r.xlsx"
    assert cli.main([*base, "--group", "domain", "--csv", str(out_csv), "--xlsx", str(out_xlsx)]) == 0
    printed = capsys.readouterr().out
    assert "好差评报表" in printed and "合计" in printed and "非常满意率目标 target 99%" in printed
    answer = _answer(day_db, "domain")
    assert out_csv.read_bytes() == export.report_csv(answer)
    ws = load_workbook(out_xlsx).worksheets[0]
    assert ws.cell(3, 1).value == answer["rows"][0]["key"]
    assert cli.main([*base, "--group", "hour", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(_answer(day_db, "hour")))
    assert cli.main([*base[:-4], "--from", "2026-12-01", "--to", "2026-11-01"]) == 2
    assert "invalid_range" in capsys.readouterr().err


def test_report_range_over_the_bus_and_the_cli(tmp_hall: Path, bus_factory, mosquitto, tmp_path: Path, capsys) -> None:
    cfg = hallconfig.load(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    web = bus_factory("web")
    time.sleep(0.2)
    try:
        web.request("ticket.issue", {"service": "shebao-card", "idempotency_key": "range-0001"})
        for op in ("window.call", "window.start", "window.finish"):
            web.request(op, {"window": 1})
        today = ctl.engine.local().date().isoformat()
        got = web.request("report.range", {"from_day": today, "to_day": today, "group": "window"})
        [row] = got["rows"]
        assert (row["key"], row["label"], row["finished"], row["evaluated"]) == (
            "1",
            {"zh": "1号窗口", "en": "Window 1"},
            1,
            0,
        )
        assert row["not_evaluated_rate"] == 1.0 and got["target"] == 0.99
        with pytest.raises(RequestFailed) as err:
            web.request("report.range", {"from_day": "2025-01-01", "to_day": today})
        assert err.value.code == "range_too_long"
        bus = ["--config", str(tmp_hall), "--host", mosquitto.host, "--port", str(mosquitto.port), "--timeout", "10"]
        out = tmp_path / "bus.xlsx"
        assert (
            cli.main(["report", "range", "--from", today, "--to", today, "--group", "clerk", "--xlsx", str(out), *bus])
            == 0
        )
        assert "S0101" in capsys.readouterr().out
        assert load_workbook(out).worksheets[0].cell(3, 1).value == "S0101"
    finally:
        ctl.stop()
