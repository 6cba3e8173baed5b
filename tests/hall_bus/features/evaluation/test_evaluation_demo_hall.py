"""The pad flow end to end in the demo hall: controller, window hosts with the pad simulators
(sim://pad, pressing 3 s after each request) and simulated clerks, over a real mosquitto."""

from __future__ import annotations

import queue
import time

from hall_bus.bus import topics
from ui.demo.hall import DemoHall


def test_demo_hall_pads_rate_finished_tickets_once(hall_toml) -> None:
    hall = DemoHall(hall_toml, broker="mosquitto", speed=120, arrivals_per_min=2, seed=5, print_calls=None).start()
    events: queue.Queue = queue.Queue()
    try:
        watcher = hall.make_bus("manager")
        watcher.subscribe(topics.event(hall.config.hall_id, "evaluation"), lambda t, e: events.put(e.data))
        rated: list[dict] = []
        deadline = time.monotonic() + 40
        while len(rated) < 3 and time.monotonic() < deadline:
            try:
                ev = events.get(timeout=1)
            except queue.Empty:
                continue
            if ev["level"] is not None:
                rated.append(ev)
        hall.halt()
        feature = hall.controller.features["evaluation"]
        assert len(rated) >= 3, f"only {len(rated)} pad ratings in 40 s"
        staff = {s.windows[0]: s.staff_no for s in feature.settings.staff if s.windows}
        for ev in rated:
            assert ev["channel"] == "pad" and 1 <= ev["level"] <= 5
            assert ev["staff_no"] == staff[ev["window"]]
            if ev["level"] >= 4:
                assert ev["reason"] in ("attitude", "efficiency", "process", "result", "other")
            ticket = hall.controller.engine.ticket(ev["ticket"])
            assert ticket.state == "finished" and ticket.window == ev["window"]
            row = feature.store.get(ticket.id)
            assert (row["status"], row["level"], row["channel"]) == ("rated", ev["level"], "pad")
        assert len({ev["ticket"] for ev in rated}) == len(rated)  # one rating per ticket
        report = feature.report(hall.controller.engine.today())
        assert report["overall"]["evaluated"] >= len(rated)
    finally:
        hall.stop()
