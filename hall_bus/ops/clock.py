"""The clocks of the hall's stations, compared with the controller's (a device-health check).

Tickets, appointments (check-in windows), evaluations and locker expiries are all stamped with
times, and the bus refuses a request whose ``sent_at`` lies more than ``[bus] max_clock_skew_s``
from the controller's clock (error ``clock_skew``). A station whose clock drifts should be seen
before it gets there: every request the controller serves and every device event a station
publishes carries the station's ``sent_at``, so

    skew = sent_at - the controller's clock when the message is handled

(positive: the station's clock is ahead). It includes the message's time on the network and, for a
request, in the controller's queue: milliseconds in a healthy hall, far below any threshold. Above
``[monitoring] clock_skew_warn_s`` (default half of ``max_clock_skew_s``) it is a warning, logged at
most once per ``clock_skew_log_every_s`` per station, and served as the gauge
``hallkit_clock_skew_seconds{client}`` (the latest reading per station) beside the threshold
``hallkit_clock_skew_warning_seconds``. A station already past ``max_clock_skew_s`` has its requests
refused before they reach the controller's handler; that shows as
``hallkit_bus_rejected_messages_total{code="clock_skew"}`` (and its device events still give a reading).

Who sent it: a request's sender is the authenticated client (the bus refuses a request whose
``sender`` is not the client of its topic before it is handled); a device event counts only when its
``sender`` is a client allowed to publish for that device (its ``host`` in hall.toml, or the device
itself: a locker host's client id). Retained messages (state, availability) are not used: a retained
message is as old as it is.

Hooked in from outside, like the request timer of :mod:`hall_bus.ops.metrics`: the handler of the
controller's request filter is wrapped (``BusClient.wrap_service``) and device events are subscribed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hall_bus.bus import topics
from hall_bus.bus.client import BusClient
from hall_bus.bus.envelope import Envelope
from hall_bus.config import HallConfig

log = logging.getLogger(__name__)

RequestHandler = Callable[[Envelope], Any]


@dataclass(frozen=True)
class Reading:
    skew_s: float  # the station's clock minus the controller's
    at: float  # the controller's time of the reading
    source: str  # "request" or "event"


class ClockWatch(Collector):
    """The latest clock reading of every station, the warnings, and their Prometheus gauges."""

    def __init__(
        self, warn_s: float, log_every_s: float = 600.0, refuse_s: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.warn_s, self.log_every_s, self.refuse_s, self.clock = warn_s, log_every_s, refuse_s, clock
        self.readings: dict[str, Reading] = {}
        self.warnings = 0  # warnings logged
        self._warned_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def observe(self, client: str, sent_at: float, source: str) -> Reading:
        """Note a message ``client`` stamped ``sent_at``; log a warning when its clock is too far off."""
        now = self.clock()
        reading = Reading(sent_at - now, now, source)
        with self._lock:
            self.readings[client] = reading
            due = abs(reading.skew_s) > self.warn_s and now - self._warned_at.get(client, -1e18) >= self.log_every_s
            if due:
                self._warned_at[client] = now
                self.warnings += 1
        if due:
            log.warning(
                "the clock of %s is %+.1f s off the controller's (seen in a %s; warning above %g s, requests refused "
                "above %g s): check its time synchronisation (timedatectl timesync-status)",
                client,
                reading.skew_s,
                source,
                self.warn_s,
                self.refuse_s,
            )
        return reading

    def view(self) -> dict[str, Reading]:
        with self._lock:
            return dict(self.readings)

    def collect(self) -> Iterable[Metric]:
        skew = GaugeMetricFamily(
            "hallkit_clock_skew_seconds",
            "A station's clock minus the controller's, from the sent_at of its latest request or device event",
            labels=["client"],
        )
        for client, reading in sorted(self.view().items()):
            skew.add_metric([client], reading.skew_s)
        yield skew
        yield GaugeMetricFamily(
            "hallkit_clock_skew_warning_seconds",
            "A clock skew above this is a device-health warning ([monitoring] clock_skew_warn_s)",
            value=self.warn_s,
        )


class _Observed:
    """The controller's request handler with each request's ``sent_at`` noted first."""

    def __init__(self, watch: ClockWatch) -> None:
        self.watch = watch
        self.inner: RequestHandler | None = None

    def __call__(self, env: Envelope) -> Any:
        try:
            self.watch.observe(env.sender, env.sent_at, "request")
        except Exception:  # a clock reading must never cost a request its answer
            log.exception("clock reading of a request from %s failed", env.sender)
        if self.inner is None:
            raise RuntimeError("clock watch without a request handler")
        return self.inner(env)


def publishers(config: HallConfig) -> dict[str, frozenset[str]]:
    """Per device, the clients whose events count for it: its host and the device's own client."""
    return {d.id: frozenset(c for c in (d.host, d.id) if c) for d in config.devices}


class ClockHook:
    """A :class:`ClockWatch` fed from a started controller's bus client (see the module docstring)."""

    def __init__(self, bus: BusClient, config: HallConfig, request_filter: str, watch: ClockWatch) -> None:
        self.bus, self.watch, self.request_filter = bus, watch, request_filter
        self._allowed = publishers(config)
        self._observed = _Observed(watch)
        self._devices = f"{topics.hall(config.hall_id)}/device/+/event/#"

    def start(self) -> ClockHook:
        def wrap(handler: RequestHandler) -> RequestHandler:
            self._observed.inner = handler
            return self._observed

        self.bus.wrap_service(self.request_filter, wrap)
        self.bus.subscribe(self._devices, self._event)
        return self

    def _event(self, topic: str, env: Envelope) -> None:
        device = topic.split("/")[3]  # hallkit/<hall>/device/<id>/event/<name>
        if env.kind == "event" and env.sender in self._allowed.get(device, frozenset()):
            self.watch.observe(env.sender, env.sent_at, "event")

    def stop(self) -> None:
        """Give the request filter its handler back (when ours is still the one serving it); the event
        subscription stays until the bus client stops (readings after this are harmless)."""
        observed = self._observed
        self.bus.wrap_service(self.request_filter, lambda handler: observed.inner if handler is observed else None)
