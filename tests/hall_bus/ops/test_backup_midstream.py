"""A backup taken while the hall serves: a thread issues tickets, rates them (bad ratings open
follow-ups, which it then marks visited) and deposits pickup items, over mosquitto, while backups
are taken. Restored into a new data_dir, the last backup holds everything that was acknowledged
before it began, reads as one consistent moment, and runs a working hall: tickets go on from where
they were, a pickup code sent before the backup still opens its item (the pickup key came back)."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest

from hall_bus.ops.backup import backups, take_backup
from hall_bus.ops.restore import RestoreError, restore
from tests.hall_bus.features.pickup.pickup_harness import PickupHall
from tests.helpers import wait_for


@dataclasses.dataclass
class Done:
    kind: str  # ticket | evaluation | followup | pickup
    key: int  # ticket id, ticket id, ticket id, pickup item id
    at: float  # monotonic time of the acknowledgement
    code: str = ""


class Feeder(threading.Thread):
    def __init__(self, hall: PickupHall, manager) -> None:
        super().__init__(name="feeder", daemon=True)
        self.hall, self.manager = hall, manager
        self.done: list[Done] = []
        self.codes: dict[int, str] = {}  # pickup item -> its code (as the citizen's text message said)
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def note(self, kind: str, key: int, code: str = "") -> None:
        self.done.append(Done(kind, key, time.monotonic(), code))

    def count(self, kind: str) -> int:
        return sum(1 for d in self.done if d.kind == kind)

    def run(self) -> None:
        m = self.manager
        try:
            n = 0
            while not self.stopping.is_set() and n < 60:
                n += 1
                t = m.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
                ticket = t["ticket"]
                self.note("ticket", ticket["id"], ticket["code"])
                for op in ("window.call", "window.start", "window.finish"):
                    m.request(op, {"window": 1})
                bad = n % 2 == 1
                rating = {"ticket": ticket["code"], "level": 5 if bad else 1, "channel": "kiosk"}
                m.request("evaluation.submit", {**rating, **({"reason": "result"} if bad else {})})
                self.note("evaluation", ticket["id"], ticket["code"])
                if bad:
                    [f] = [f for f in m.request("followup.list", {})["followups"] if f["ticket"] == ticket["code"]]
                    m.request("followup.update", {"id": f["id"], "state": "visited", "note": "回访", "actor": "zhang"})
                    self.note("followup", ticket["id"], ticket["code"])
                d = self.hall.deposit(f"SB2026{n:06d}")
                self.codes[d["item"]["item_id"]] = d["code"]
                self.note("pickup", d["item"]["item_id"])
        except BaseException as exc:  # reported by the test
            self.error = exc


@pytest.fixture
def hall(tmp_hall: Path, bus_factory):
    h = PickupHall(tmp_hall, bus_factory)
    h.config = dataclasses.replace(h.config, devices=tuple(d for d in h.config.devices if d.kind != "pad"))
    h.start()
    yield h
    h.stop()


def rows(db: sqlite3.Connection, sql: str) -> set:
    return {tuple(r) if len(r) > 1 else r[0] for r in db.execute(sql)}


def test_restore_a_backup_taken_mid_stream(hall: PickupHall, bus_factory, tmp_path: Path) -> None:
    dest = tmp_path / "backups"
    feeder = Feeder(hall, bus_factory("manager"))
    feeder.start()
    taken: list[tuple[float, Path]] = []
    for _ in range(3):  # three backups while the stream runs; keep 2
        wait_for(lambda: feeder.count("pickup") >= 2 * (len(taken) + 1) or feeder.error, timeout=60, what="stream")
        began = time.monotonic()
        taken.append((began, take_backup(hall.config, dest, keep=2)))
    after = feeder.count("pickup")
    wait_for(lambda: feeder.count("pickup") >= after + 1 or feeder.error, timeout=60, what="stream after the backups")
    feeder.stopping.set()
    feeder.join(60)
    assert feeder.error is None, repr(feeder.error)
    assert [p for p, _ in backups(dest, hall.config.hall_id)] == [p for _, p in taken[1:]]  # retention
    began, path = taken[-1]
    before = [d for d in feeder.done if d.at < began]
    assert {d.kind for d in before} == {"ticket", "evaluation", "followup", "pickup"}
    assert any(d.at > began for d in feeder.done)  # the stream went on past the backup

    with pytest.raises(RestoreError, match="running process"):
        restore(path, hall.config)  # the controller has the store open

    hall.stop()
    hall.controller = hall.host = None
    config = dataclasses.replace(hall.config, data_dir=str(tmp_path / "restored"))
    out = restore(path, config)
    assert {"pickup.secret", f"{config.hall_id}.db", "locker-host-lockers-a.db"} <= set(out.files)
    db = sqlite3.connect(Path(config.data_dir) / f"{config.hall_id}.db")
    tickets = rows(db, "SELECT id FROM tickets")
    rated = rows(db, "SELECT ticket_id FROM evaluations WHERE status='rated'")
    visited = rows(db, "SELECT ticket_id FROM followups WHERE state='visited'")
    items = rows(db, "SELECT id FROM pickup_items WHERE state='deposited'")
    wanted = {"ticket": tickets, "evaluation": rated, "followup": visited, "pickup": items}
    missing = [d for d in before if d.key not in wanted[d.kind]]
    assert missing == [], f"acknowledged before the backup began, not in it: {missing}"
    # one consistent moment: nothing half-written
    assert rows(db, "SELECT ticket_id FROM evaluations") <= tickets
    assert rows(db, "SELECT ticket_id FROM followups") <= rated
    assert rows(db, "SELECT case_no FROM pickup_items") <= rows(db, "SELECT case_no FROM cases")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    last = max(tickets)
    db.close()

    # the restored hall works
    hall.config = config
    ctl = hall.start_controller()
    first = next(d for d in before if d.kind == "ticket")
    assert hall.staff.request("ticket.get", {"code": first.code})["ticket"]["id"] == first.key
    new = hall.kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
    assert new["ticket"]["id"] > last and new["created"]
    item = next(d for d in before if d.kind == "pickup")
    found = hall.kiosk.request(
        "pickup.identify", {"kiosk": "kiosk-1", "method": "code", "code": feeder.codes[item.key]}
    )
    assert [i["item_id"] for i in found["items"]] == [item.key]
    assert ctl is hall.controller
