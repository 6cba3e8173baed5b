"""Station clocks compared with the controller's (issue 17, item 6): the reading from a request's or a
device event's sent_at, the warning logged once per station per interval, the gauges; and over a
real mosquitto, a kiosk whose clock runs ahead of the controller's seen through the endpoint."""

from __future__ import annotations

import logging
import re
import time
import uuid
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.bus.envelope import Envelope
from hall_bus.controller.service import HallController
from hall_bus.ops.clock import ClockHook, ClockWatch, publishers
from hall_bus.ops.server import Monitoring
from hall_bus.ops.settings import backup_settings, monitoring_settings
from tests.hall_bus.ops.test_monitoring import scrape, value, with_monitoring


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_clock_ahead_is_warned_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    watch = ClockWatch(warn_s=30, log_every_s=600, refuse_s=60, clock=clock)
    with caplog.at_level(logging.WARNING, logger="hall_bus.ops.clock"):
        assert watch.observe("kiosk-1", clock.now + 0.05, "request").skew_s == pytest.approx(0.05)
        assert watch.warnings == 0  # milliseconds of network: no warning
        watch.observe("kiosk-1", clock.now + 42, "request")
        clock.now += 300
        watch.observe("kiosk-1", clock.now + 43, "request")  # within the interval: not again
        watch.observe("window-2", clock.now - 31, "event")  # another station: its own warning
        clock.now += 301
        watch.observe("kiosk-1", clock.now + 44, "request")  # the interval has passed
    lines = [r.getMessage() for r in caplog.records]
    assert watch.warnings == 3 and len(lines) == 3
    assert "kiosk-1 is +42.0 s off" in lines[0] and "refused above 60 s" in lines[0]
    assert "window-2 is -31.0 s off" in lines[1]
    assert {c: round(r.skew_s) for c, r in watch.view().items()} == {"kiosk-1": 44, "window-2": -31}


def test_the_gauges() -> None:
    clock = FakeClock()
    watch = ClockWatch(warn_s=30, clock=clock)
    watch.observe("kiosk-1", clock.now - 2.5, "request")
    families = {f.name: f for f in watch.collect()}
    [sample] = families["hallkit_clock_skew_seconds"].samples
    assert sample.labels == {"client": "kiosk-1"} and sample.value == -2.5
    assert families["hallkit_clock_skew_warning_seconds"].samples[0].value == 30


def test_the_default_threshold_is_half_the_refusal(tmp_hall: Path) -> None:
    cfg = hallconfig.load(tmp_hall)
    assert monitoring_settings(cfg).clock_skew_warn_s == cfg.bus.max_clock_skew_s / 2
    tmp_hall.write_text(tmp_hall.read_text(encoding="utf-8") + "\n[monitoring]\nclock_skew_warn_s = 5\n")
    assert monitoring_settings(hallconfig.load(tmp_hall)).clock_skew_warn_s == 5


class NoBus:
    def wrap_service(self, *_: object) -> None: ...
    def subscribe(self, *_: object) -> None: ...


def test_device_events_count_only_from_their_publishers(tmp_hall: Path) -> None:
    cfg = hallconfig.load(tmp_hall)
    assert publishers(cfg)["lockers-a"] == {"kiosk-1", "lockers-a"}
    clock = FakeClock()
    watch = ClockWatch(warn_s=30, clock=clock)
    hook = ClockHook(NoBus(), cfg, "unused", watch)  # type: ignore[arg-type]
    topic = topics.device_event(cfg.hall_id, "window-1-pad", "evaluation")
    hook._event(topic, Envelope("event", "window-1", clock.now + 7, type="pad.evaluation"))
    hook._event(topic, Envelope("event", "window-2", clock.now + 99, type="pad.evaluation"))  # not its host
    assert {c: r.skew_s for c, r in watch.view().items()} == {"window-1": 7}


def test_a_kiosk_whose_clock_runs_ahead(tmp_hall: Path, bus_factory, caplog: pytest.LogCaptureFixture) -> None:
    """The controller's clock is held 40 s behind the kiosk's (the monitoring's clock; the bus still
    takes the real one, so the requests are served): the kiosk reads +40 s, a warning."""
    cfg = with_monitoring(tmp_hall)
    ctl = HallController(cfg, bus_factory("controller")).start()
    mon = Monitoring(ctl, monitoring_settings(cfg), backup_settings(cfg).dir, clock=lambda: time.time() - 40).start()
    try:
        kiosk = bus_factory("kiosk-1")
        with caplog.at_level(logging.WARNING, logger="hall_bus.ops.clock"):
            for _ in range(2):
                kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
        samples = scrape(mon)
        assert value(samples, "hallkit_clock_skew_seconds", client="kiosk-1") == pytest.approx(40, abs=2)
        assert value(samples, "hallkit_clock_skew_warning_seconds") == 30.0
        [line] = [r.getMessage() for r in caplog.records]  # once, though two requests came
        assert re.match(r"the clock of kiosk-1 is \+(39|40)\.\d s off", line), line
        assert value(samples, "hallkit_request_duration_seconds_count", op="ticket.issue") == 2.0  # still timed
    finally:
        mon.stop()
    assert kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
    ctl.stop()
