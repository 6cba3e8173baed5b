"""An upgrade in place (issue 17, item 5): the store HallKit 0.1.0 left (tests/fixtures/release-0.1.0/,
core schema 3, made by its make_store.py) opened by today's controller. The migrations bring it
forward, every ticket, evaluation, follow-up, case and pickup item is found through today's
operations, and the hall goes on: a new ticket is issued and called."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest

from hall_bus.controller.store import MIGRATIONS
from hall_bus.features.catalogue import FEATURES
from tests.hall_bus.features.pickup.pickup_harness import PickupHall
from tests.helpers import ROOT

RELEASE = ROOT / "tests" / "fixtures" / "release-0.1.0"
EXPECTED = json.loads((RELEASE / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def hall_id() -> str:
    return str(EXPECTED["hall_id"])


@pytest.fixture
def upgraded(tmp_hall: Path, bus_factory):
    hall = PickupHall(tmp_hall, bus_factory)
    hall.config = dataclasses.replace(hall.config, devices=tuple(d for d in hall.config.devices if d.kind != "pad"))
    data = Path(hall.config.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(RELEASE / "store.db", data / f"{hall.config.hall_id}.db")
    hall.start()
    yield hall
    hall.stop()


def test_the_fixture_is_the_previous_release() -> None:
    db = sqlite3.connect(f"file:{RELEASE / 'store.db'}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == EXPECTED["core_version"] == 3 < len(MIGRATIONS)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "waiting_changes" not in tables and {"tickets", "evaluations", "followups", "pickup_items"} <= tables
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    assert (RELEASE / "store.db").stat().st_size < 200_000


def test_today_opens_the_previous_release(upgraded: PickupHall) -> None:
    hall, staff = upgraded, upgraded.bus_factory("manager")
    store = hall.controller.store
    assert store.version == len(MIGRATIONS)  # core migration 4 ran on start
    versions = dict(store.db.execute("SELECT feature, version FROM feature_versions").fetchall())
    for spec in FEATURES:
        assert versions.get(spec.name) == len(spec.migrations), spec.name

    for t in EXPECTED["tickets"]:  # every ticket, through today's ticket.get
        got = staff.request("ticket.get", {"code": t["code"], "day": t["day"]})["ticket"]
        assert (got["id"], got["service"], got["state"]) == (t["id"], t["service"], t["state"])
    rows = {r["ticket_id"]: dict(r) for r in store.db.execute("SELECT ticket_id, status, level FROM evaluations")}
    assert rows == {e["ticket_id"]: e for e in EXPECTED["evaluations"]}
    followups = staff.request("followup.list", {})["followups"]
    assert sorted((f["id"], f["state"]) for f in followups) == [(f["id"], f["state"]) for f in EXPECTED["followups"]]
    for case_no in EXPECTED["cases"]:
        assert staff.request("case.lookup", {"case_no": case_no})
    for item in EXPECTED["pickup_items"]:
        [got] = staff.request("pickup.status", {"item_id": item["id"]})["items"]
        assert (got["item_id"], got["state"]) == (item["id"], item["state"])

    # the hall goes on: numbering after the old tickets, issued and called
    last = max(t["id"] for t in EXPECTED["tickets"])
    new = hall.kiosk.request("ticket.issue", {"service": "gongan-hukou", "idempotency_key": uuid.uuid4().hex[:16]})
    assert new["created"] and new["ticket"]["id"] > last
    called = staff.request("window.call", {"window": 5})
    assert called["ticket"]["id"] == new["ticket"]["id"]
    assert staff.request("queue.snapshot", {})["domains"]  # the estimates read the new waiting_changes table
