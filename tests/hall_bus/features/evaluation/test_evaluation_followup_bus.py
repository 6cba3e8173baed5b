"""Follow-ups over the bus with configured deadlines and a configured holiday, on the controller's
injected clock: deadlines, the overdue list, allowed and refused state changes, notes and audit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus.client import RequestFailed
from hall_bus.controller.service import HallController

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def hall(tmp_hall: Path, bus_factory):
    text = tmp_hall.read_text(encoding="utf-8")
    text = text.replace("holidays = [", "holidays = [2026-12-01, ", 1)  # a Tuesday off, configured
    text = text.replace("return_visit_days = 1", "return_visit_days = 2", 1).replace(
        "rectify_days = 15", "rectify_days = 3", 1
    )
    tmp_hall.write_text(text, encoding="utf-8")
    cfg = hallconfig.load(tmp_hall)
    cfg = dataclasses.replace(cfg, devices=tuple(d for d in cfg.devices if d.kind != "pad"))  # rated at the kiosk here
    clock = [dt.datetime(2026, 11, 27, 10, 0, tzinfo=TZ).timestamp()]  # a Friday
    ctl = HallController(cfg, bus_factory("controller"), clock=lambda: clock[0]).start()
    manager = bus_factory("manager")
    time.sleep(0.2)
    yield ctl, manager, clock
    ctl.stop()


def bad_review(manager, level: int = 4) -> str:
    code = manager.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})[
        "ticket"
    ]["code"]
    manager.request("window.call", {"window": 1})
    manager.request("window.start", {"window": 1})
    manager.request("window.finish", {"window": 1})
    assert manager.request(
        "evaluation.submit", {"ticket": code, "level": level, "reason": "result", "channel": "kiosk"}
    )["recorded"]
    return code


def days_later(clock: list[float], day: dt.date) -> None:
    clock[0] = dt.datetime.combine(day, dt.time(10, 0), TZ).timestamp()


def test_configured_deadlines_overdue_list_and_transitions(hall) -> None:
    ctl, manager, clock = hall
    code = bad_review(manager)
    [f] = manager.request("followup.list", {})["followups"]
    # Friday + 2 working days: Monday, (Tuesday 1 Dec is a holiday), Wednesday; + 3: Thursday
    assert (f["ticket"], f["state"], f["visit_due"], f["rectify_due"]) == (code, "open", "2026-12-02", "2026-12-03")
    assert f["staff_no"] == "S0101" and f["level"] == 4 and f["reason"] == "result"
    days_later(clock, dt.date(2026, 12, 2))
    assert manager.request("followup.list", {"overdue": True})["followups"] == []
    days_later(clock, dt.date(2026, 12, 3))
    [late] = manager.request("followup.list", {"overdue": True})["followups"]
    assert late["overdue"] == ["return_visit"]
    days_later(clock, dt.date(2026, 12, 4))
    assert manager.request("followup.list", {"overdue": True})["followups"][0]["overdue"] == [
        "return_visit",
        "rectification",
    ]
    out = manager.request(
        "followup.update", {"id": f["id"], "state": "visited", "note": "已上门回访", "actor": "zhang"}
    )
    assert out["followup"]["overdue"] == ["rectification"]
    for bad in ("closed", "open"):
        with pytest.raises(RequestFailed) as err:
            manager.request("followup.update", {"id": f["id"], "state": bad, "note": "", "actor": "zhang"})
        assert err.value.code == "invalid_transition"
    manager.request("followup.update", {"id": f["id"], "state": "rectified", "note": "流程已优化", "actor": "zhang"})
    done = manager.request("followup.update", {"id": f["id"], "state": "closed", "note": "结案", "actor": "zhang"})[
        "followup"
    ]
    assert done["overdue"] == [] and [n["state"] for n in done["history"]] == ["visited", "rectified", "closed"]
    assert done["history"][0]["note"] == "已上门回访" and done["history"][0]["actor"].endswith("/zhang")
    assert manager.request("followup.list", {"state": "closed"})["followups"][0]["id"] == f["id"]
    assert manager.request("followup.list", {"state": "open"})["followups"] == []
    with pytest.raises(RequestFailed) as err:
        manager.request("followup.update", {"id": f["id"], "state": "appealed", "note": "", "actor": "zhang"})
    assert err.value.code == "invalid_transition"
    with pytest.raises(RequestFailed) as err:
        manager.request("followup.update", {"id": 999, "state": "visited", "note": "", "actor": "zhang"})
    assert err.value.code == "not_found"
    audit = manager.request("audit.list", {"limit": 20})
    assert sum(1 for a in audit["entries"] if a["action"] == "followup.update") == 3


def test_appeal_and_reopen(hall) -> None:
    ctl, manager, clock = hall
    bad_review(manager, level=5)
    [f] = manager.request("followup.list", {})["followups"]
    manager.request(
        "followup.update", {"id": f["id"], "state": "appealed", "note": "窗口申诉：系统故障", "actor": "li"}
    )
    back = manager.request("followup.update", {"id": f["id"], "state": "open", "note": "申诉不成立", "actor": "li"})[
        "followup"
    ]
    assert back["state"] == "open" and len(back["history"]) == 2
    report = manager.request("report.daily", {"date": "2026-11-27"})
    assert report["overall"]["bad_reviews"] == 1 and report["overall"]["followups"] == {"open": 1}
