"""The 差评 follow-up workflow over the bus, as the web console's server calls it (client ``web``):
assign, note, return visit with its result, rectification, close; out-of-order steps refused with
their own codes; history, audit, overdue flags and the summary with the real-name closed rate."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus.client import RequestFailed
from hall_bus.cli import main as cli
from hall_bus.controller.service import HallController
from hall_bus.features.evaluation import followup
from tests.hall_bus.features.evaluation.evaluation_day import TZ

IDENTITY = "ab" * 32  # a salted identity hash: the ticket was taken with an ID card (实名)


@pytest.fixture
def hall(tmp_hall: Path, bus_factory):
    cfg = hallconfig.load(tmp_hall)
    cfg = dataclasses.replace(cfg, devices=tuple(d for d in cfg.devices if d.kind != "pad"))  # rated at the kiosk
    clock = [dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ).timestamp()]  # a Monday
    ctl = HallController(cfg, bus_factory("controller"), clock=lambda: clock[0]).start()
    web = bus_factory("web")
    time.sleep(0.2)
    yield ctl, web, clock
    ctl.stop()


def bad_review(web, identity: str | None = None, level: int = 5) -> int:
    """A served ticket rated badly; returns its follow-up id."""
    issue = {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]}
    code = web.request("ticket.issue", issue | ({"identity_token": identity} if identity else {}))["ticket"]["code"]
    for op in ("window.call", "window.start", "window.finish"):
        web.request(op, {"window": 1})
    web.request("evaluation.submit", {"ticket": code, "level": level, "reason": "attitude"})
    return next(f["id"] for f in web.request("followup.list", {})["followups"] if f["ticket"] == code)


def refused(web, op: str, data: dict) -> str:
    with pytest.raises(RequestFailed) as err:
        web.request(op, data)
    return err.value.code


def test_the_whole_workflow_with_history_and_audit(hall) -> None:
    ctl, web, clock = hall
    fid = bad_review(web, IDENTITY)
    who = {"id": fid, "actor": "M001"}
    f = web.request("followup.assign", who | {"assignee": "S0102", "note": "请李强跟进"})["followup"]
    assert (f["state"], f["assignee"], f["assignee_name"], f["real_name"]) == ("open", "S0102", "李强", True)
    assert refused(web, "followup.assign", who | {"assignee": "S9999"}) == "unknown_staff"
    assert refused(web, "followup.rectify", who | {"note": "改进流程"}) == "visit_required"
    assert refused(web, "followup.close", who) == "visit_required"
    f = web.request("followup.visit", who | {"result": "unreachable", "note": "电话无人接听"})["followup"]
    assert f["state"] == "open" and f["visit_result"] == "unreachable"  # the visit is still owed
    web.request("followup.note", who | {"note": "已发短信约回访时间"})
    f = web.request("followup.visit", who | {"result": "dissatisfied", "note": "群众仍不满意"})["followup"]
    assert f["state"] == "visited" and f["visited_at"] == clock[0]
    assert refused(web, "followup.visit", who | {"result": "satisfied"}) == "already_visited"
    assert refused(web, "followup.close", who) == "rectification_required"
    f = web.request("followup.rectify", who | {"note": "窗口人员服务规范培训"})["followup"]
    assert f["state"] == "rectified" and refused(web, "followup.rectify", who | {"note": "x"}) == "already_rectified"
    f = web.request("followup.close", who | {"note": "整改完成"})["followup"]
    assert f["state"] == "closed" and f["closed_at"] == clock[0]
    for op, extra in (("followup.visit", {"result": "satisfied"}), ("followup.assign", {"assignee": "S0101"})):
        assert refused(web, op, who | extra) == "followup_closed"
    f = web.request("followup.note", who | {"note": "结案后群众来电致谢"})["followup"]  # a closed case takes notes
    steps = [(h["action"], h["state"], h["actor"]) for h in f["history"]]
    assert steps == [
        ("assign", "open", "web/M001"),
        ("visit", "open", "web/M001"),
        ("note", "open", "web/M001"),
        ("visit", "visited", "web/M001"),
        ("rectify", "rectified", "web/M001"),
        ("close", "closed", "web/M001"),
        ("note", "closed", "web/M001"),
    ]
    assert f["history"][0]["assignee"] == "S0102" and f["history"][3]["result"] == "dissatisfied"
    audit = [a for a in web.request("audit.list", {"limit": 50})["entries"] if a["action"].startswith("followup.")]
    assert len(audit) == 7 and {a["actor"] for a in audit} == {"web/M001"}
    assert {a["target"] for a in audit} == {f"followup {fid}"}


def test_refused_steps_change_nothing_and_are_not_audited(hall) -> None:
    ctl, web, clock = hall
    fid = bad_review(web)
    refused(web, "followup.close", {"id": fid, "actor": "M001"})
    assert refused(web, "followup.note", {"id": 999, "note": "x", "actor": "M001"}) == "not_found"
    [f] = web.request("followup.list", {})["followups"]
    assert f["state"] == "open" and f["history"] == []
    assert not any(a["action"].startswith("followup.") for a in web.request("audit.list", {})["entries"])


def test_appealed_case_is_closed_without_visit_but_not_visited(hall) -> None:
    ctl, web, clock = hall
    fid = bad_review(web)
    web.request("followup.update", {"id": fid, "state": "appealed", "note": "窗口申诉", "actor": "M001"})
    assert refused(web, "followup.visit", {"id": fid, "result": "satisfied", "actor": "M001"}) == "followup_appealed"
    assert (
        web.request("followup.close", {"id": fid, "note": "申诉成立", "actor": "M001"})["followup"]["state"] == "closed"
    )


def test_list_summary_overdue_flags_and_filters(hall) -> None:
    ctl, web, clock = hall
    named = [bad_review(web, IDENTITY) for _ in range(3)]
    anonymous = bad_review(web, level=4)
    clock[0] = dt.datetime(2026, 11, 25, 10, 0, tzinfo=TZ).timestamp()  # Wednesday: visits due Tuesday are late
    for fid in named[:2]:
        for op, extra in (("visit", {"result": "satisfied"}), ("rectify", {"note": "已整改"})):
            web.request(f"followup.{op}", {"id": fid, "actor": "M001"} | extra)
    web.request("followup.close", {"id": named[0], "actor": "M001"})
    web.request("followup.assign", {"id": anonymous, "assignee": "S0101", "actor": "M001"})
    out = web.request("followup.list", {})
    assert out["summary"] == {
        "total": 4,
        "open": 3,
        "overdue": 2,  # named[2] and anonymous still owe their return visit
        "closed": 1,
        "real_name": 3,
        "real_name_closed": 1,
        "real_name_closed_rate": 0.3333,
    }
    late = web.request("followup.list", {"overdue": True})["followups"]
    assert {f["id"] for f in late} == {named[2], anonymous} and all(f["overdue"] == ["return_visit"] for f in late)
    assert [f["id"] for f in web.request("followup.list", {"assignee": "S0101"})["followups"]] == [anonymous]
    assert [f["id"] for f in web.request("followup.list", {"state": "closed"})["followups"]] == [named[0]]
    assert [f["id"] for f in out["followups"]] == sorted(named + [anonymous], reverse=True)  # newest first
    page = web.request("followup.list", {"limit": 2})["followups"]
    rest = web.request("followup.list", {"limit": 2, "before_id": page[-1]["id"]})["followups"]
    assert [f["id"] for f in page + rest] == [f["id"] for f in out["followups"]]
    other_days = web.request("followup.list", {"from_day": "2026-11-24", "to_day": "2026-12-31"})
    assert other_days["followups"] == [] and other_days["summary"]["total"] == 0
    assert other_days["summary"]["real_name_closed_rate"] is None


def test_the_sql_overdue_rule_is_the_python_one() -> None:
    today = dt.date(2026, 11, 25)
    db = sqlite3.connect(":memory:")
    sql = followup.OVERDUE_SQL.replace("f.", "").replace(":today", f"'{today}'")
    for state in followup.STATES:
        for visit in ("2026-11-24", "2026-11-25"):
            for rectify in ("2026-11-24", "2026-11-25"):
                case = {"state": state, "visit_due": visit, "rectify_due": rectify}
                late = db.execute(
                    f"SELECT {sql} FROM (SELECT ? AS state, ? AS visit_due, ? AS rectify_due)", (state, visit, rectify)
                ).fetchone()[0]
                assert bool(late) == bool(followup.overdue(case, today)), case


@pytest.mark.parametrize(
    ("state", "step", "code"),
    [
        ("open", "rectify", "visit_required"),
        ("open", "close", "visit_required"),
        ("visited", "close", "rectification_required"),
        ("visited", "visit", "already_visited"),
        ("rectified", "rectify", "already_rectified"),
        ("closed", "assign", "followup_closed"),
        ("appealed", "rectify", "followup_appealed"),
    ],
)
def test_out_of_order_steps_have_their_own_codes(state: str, step: str, code: str) -> None:
    refusal = followup.refusal(state, step)
    assert refusal is not None and refusal.code == code


def test_allowed_steps_and_where_they_lead() -> None:
    assert followup.refusal("closed", "note") is None and followup.refusal("appealed", "close") is None
    assert followup.next_state("open", "visit", "unreachable") == "open"
    assert followup.next_state("open", "visit", "satisfied") == "visited"
    assert (
        followup.next_state("rectified", "close") == "closed" and followup.next_state("visited", "assign") == "visited"
    )


def test_cli_steps(hall, tmp_hall: Path, mosquitto, capsys) -> None:
    ctl, web, clock = hall
    fid = str(bad_review(web, IDENTITY))
    bus = ["--config", str(tmp_hall), "--host", mosquitto.host, "--port", str(mosquitto.port), "--timeout", "10"]
    assert cli.main(["followup", "close", fid, *bus]) == 1
    assert "visit_required" in capsys.readouterr().err
    for step in (["assign", fid, "S0101"], ["visit", fid, "satisfied"], ["rectify", fid, "--note", "已整改"]):
        assert cli.main(["followup", *step, "--actor", "zhang", *bus]) == 0
    assert cli.main(["followup", "close", fid, "--note", "结案", *bus]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"#{fid} is now closed"
    assert cli.main(["followup", "list", *bus]) == 0
    assert "real-name closed 1/1 (100%)" in capsys.readouterr().out
    [f] = web.request("followup.list", {})["followups"]
    assert [h["actor"] for h in f["history"]] == ["manager/zhang"] * 3 + ["manager/manager"]
