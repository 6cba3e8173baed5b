"""The queue figures of the metrics, read from a real store written by the real queue engine on an
injected clock: each ticket counted once, each finished call's wait once, whatever the number of
scrapes, and the same figures after a restart (they come from the store, not from memory)."""

from __future__ import annotations

from pathlib import Path

from hall_bus import config as hallconfig
from hall_bus.controller.store import Store
from hall_bus.ops.metrics import StoreWatch
from hall_bus.queue.engine import QueueEngine


def test_counts_once_and_survives_a_restart(tmp_hall: Path) -> None:
    cfg = hallconfig.load(tmp_hall)
    store = Store(Path(cfg.data_dir) / "watch.db")
    clock = [1_800_000_000.0]
    engine = QueueEngine(cfg, store, clock=lambda: clock[0])
    watch = StoreWatch(Path(store.path), cfg.hall_id)
    for i in range(3):
        engine.issue("shebao-card", idempotency_key=f"k{i}")
    engine.issue("yibao-reimburse", idempotency_key="y")
    first = watch.refresh()
    assert first.issued == {"shebao-card": 3, "yibao-reimburse": 1}
    assert first.waiting["shebao"] == (3, clock[0]) and first.waits == {}

    clock[0] += 290  # the first shebao ticket is called after 290 s and served
    engine.call_next(1)
    engine.start(1)
    engine.finish(1)
    clock[0] += 10  # the second is called after 300 s and does not come
    engine.call_next(1)
    engine.no_show(1)
    clock[0] += 700  # the third after 1000 s, still being served at the scrape
    engine.call_next(1)
    engine.start(1)
    mid = watch.refresh()
    buckets, total = mid.waits["shebao"]
    assert dict(buckets)["300.0"] == 1 and dict(buckets)["+Inf"] == 1 and total == 290.0
    assert mid.waiting.get("shebao") is None  # nobody waits in shebao now

    engine.finish(1)
    engine.issue("shebao-card", idempotency_key="late")
    for _ in range(2):  # two scrapes: nothing counted twice
        last = watch.refresh()
    buckets, total = last.waits["shebao"]
    cumulative = dict(buckets)
    assert (cumulative["300.0"], cumulative["900.0"], cumulative["1200.0"], cumulative["+Inf"]) == (1, 1, 2, 2)
    assert total == 1290.0
    assert last.issued == {"shebao-card": 4, "yibao-reimburse": 1}

    restarted = StoreWatch(Path(store.path), cfg.hall_id).refresh()  # a controller restart
    assert restarted == last
    watch.close()
    store.close()
