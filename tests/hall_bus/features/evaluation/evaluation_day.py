"""A simulated hall day for the report tests: the real queue engine on an injected clock, a seeded
stream of arrivals and service times, and ratings recorded the way the controller records them
(a pending row when the pad is asked, then a press or a timeout). Returns the test's own log of what
happened, from which the tests compute the expected figures with plain Python."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from zoneinfo import ZoneInfo

from hall_bus.controller.store import Store
from hall_bus.features.evaluation.settings import load as load_settings
from hall_bus.features.evaluation.store import EvaluationStore
from hall_bus.features.evaluation.workdays import WorkCalendar
from hall_bus.queue.engine import QueueEngine

TZ = ZoneInfo("Asia/Shanghai")
DAY = "2026-11-24"
RELIEF = "S0199"  # a relief clerk takes window 2 in the afternoon (the evaluations record who served)


def simulate_day(cfg, store: Store, seed: int = 4, tickets: int = 300) -> list[dict]:
    cfg = dataclasses.replace(cfg, hours=dataclasses.replace(cfg.hours, always_open=True))  # no lunch break in this day
    start = dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ)
    afternoon = dt.datetime(2026, 11, 24, 13, 0, tzinfo=TZ).timestamp()
    clock = [start.timestamp()]
    engine = QueueEngine(cfg, store, clock=lambda: clock[0])
    staff = load_settings(cfg)
    ev = EvaluationStore(store, cfg.hall_id, WorkCalendar(cfg.hours), TZ)
    rng = random.Random(seed)
    services = [s.id for s in cfg.services if not s.self_service]
    log: list[dict] = []
    by_id: dict[int, dict] = {}
    arrivals = sorted(rng.uniform(0, 7.5 * 3600) for _ in range(tickets))
    nxt = 0
    while nxt < len(arrivals) or any(w.current for w in engine.windows()) or engine.waiting():
        elapsed = clock[0] - start.timestamp()
        while nxt < len(arrivals) and arrivals[nxt] <= elapsed:
            tk, _ = engine.issue(rng.choice(services), idempotency_key=f"k{nxt}")
            rec = {"id": tk.id, "code": tk.code, "issued": clock[0], "domain": tk.domain, "service": tk.service}
            log.append(rec)
            by_id[tk.id] = rec
            nxt += 1
        for w in engine.windows():
            if w.paused:
                continue
            if w.current is None:
                t, _ = engine.call_next(w.number)
                if t:
                    by_id[t.id].update(
                        called=clock[0],
                        window=w.number,
                        end=clock[0] + rng.uniform(30, 180),
                        no_show=rng.random() < 0.06,
                    )
                continue
            rec = by_id[w.current.id]
            if clock[0] < rec["end"]:
                continue
            if rec["no_show"]:
                engine.no_show(w.number)
                continue
            if w.current.state == "called":
                engine.start(w.number)
                rec["started"] = clock[0]
                rec["end"] = clock[0] + rng.uniform(120, 720)
                continue
            engine.finish(w.number)
            rec["finished"] = clock[0]
            rec["clerk"] = RELIEF if w.number == 2 and clock[0] >= afternoon else staff.clerk_of(w.number).staff_no
            ticket = {
                "id": rec["id"],
                "code": rec["code"],
                "day": DAY,
                "service": rec["service"],
                "domain": rec["domain"],
            }
            ev.request(ticket, w.number, rec["clerk"], clock[0])
            if rng.random() < 0.8:
                level = rng.choices([1, 2, 3, 4, 5], [60, 25, 8, 5, 2])[0]
                ev.rate(
                    ticket,
                    w.number,
                    rec["clerk"],
                    level,
                    rng.choice(["efficiency", "attitude"]) if level >= 4 else None,
                    "pad",
                    clock[0],
                )
                rec["level"] = level
            else:
                ev.timed_out(rec["id"], clock[0])
        clock[0] += 30
    # the manager visits back some of the bad reviews the same day
    for f in ev.followups():
        if f["ticket_id"] % 2 == 0:
            ev.update_followup(f["id"], "visited", "已电话回访", "manager", clock[0])
            by_id[f["ticket_id"]]["followup"] = "visited"
        else:
            by_id[f["ticket_id"]]["followup"] = "open"
    return log
