"""The controller's Prometheus metrics (prometheus-client), each from the place that knows it:

==============================================  =========  ==============================================
metric                                          type       from
==============================================  =========  ==============================================
``hallkit_tickets_issued_total{service}``       counter    the store's tickets (since the store began)
``hallkit_waiting_tickets{domain}``             gauge      the store: tickets waiting now
``hallkit_longest_wait_seconds{domain}``        gauge      the store: age of the oldest waiting ticket
``hallkit_estimated_wait_seconds{domain}``      gauge      the retained ``state/queue/<domain>`` (what screens show)
``hallkit_wait_target_seconds{domain}``         gauge      ``[monitoring] wait_target_min`` / ``wait_targets``
``hallkit_wait_seconds{domain}``                histogram  issue to call of every finished ticket (the store)
``hallkit_request_duration_seconds{op}``        histogram  the controller's dispatch of each request, timed
``hallkit_requests_total{op,outcome}``          counter    the same: ``ok`` or the refusal's error code
``hallkit_device_state{device,state}``          gauge      the retained ``device/+/state`` (1 for the current
                                                           state; ``unknown`` for a configured device never seen)
``hallkit_device_available{device}``            gauge      the retained ``device/+/availability``
``hallkit_client_online{client}``               gauge      the retained ``client/+/availability`` (last will)
``hallkit_bus_connected``                       gauge      the controller's bus client
``hallkit_bus_connects_total``                  counter    ``bus.stats`` (also ``_disconnects_total``)
``hallkit_bus_rejected_messages_total{code}``   counter    ``bus.rejects.by_code``
``hallkit_backup_last_success_timestamp_seconds``  gauge   the newest backup's manifest (0: none)
``hallkit_backup_age_seconds``                  gauge      now minus that (+Inf: no backup)
``hallkit_clock_skew_seconds{client}``          gauge      a station's ``sent_at`` minus the controller's clock
                                                           (:mod:`hall_bus.ops.clock`, also the threshold
                                                           ``hallkit_clock_skew_warning_seconds``)
==============================================  =========  ==============================================

The store is read through a read-only connection of the metrics' own (WAL: never in the controller's
way) in one read transaction per scrape. Counters derived from the store survive restarts: a ticket
is counted once, when a scrape first sees it (by id), and its wait once, when a scrape first sees it
finished (tickets open at the previous scrape are followed by id, so nothing is missed or repeated).

Request latency: the handler the controller's bus client runs for the request filter (the
controller's ``_dispatch``) is wrapped in a timer (:class:`RequestTimer`) from outside, after the
controller started, by swapping the handler of that filter in the bus client, on its network thread,
without touching its subscriptions or request lanes (:func:`time_requests`). So the time is what the
controller spent on a request: authorisation, the handler, the store commit; not the broker's.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from hall_bus.bus import topics
from hall_bus.bus.client import BusClient, ServiceError
from hall_bus.bus.envelope import Envelope
from hall_bus.config import HallConfig
from hall_bus.ops import backup
from hall_bus.ops.settings import MonitoringSettings

log = logging.getLogger(__name__)

WAIT_BUCKETS = (60.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 5400.0, 7200.0, math.inf)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, math.inf)
DEVICE_STATES = ("connecting", "ready", "degraded", "offline", "error", "unknown")
OPEN_STATES = ("waiting", "called", "serving")
METRICS = (  # every name the endpoint serves (alert rules are checked against it)
    "hallkit_tickets_issued_total",
    "hallkit_waiting_tickets",
    "hallkit_longest_wait_seconds",
    "hallkit_estimated_wait_seconds",
    "hallkit_wait_target_seconds",
    "hallkit_wait_seconds",
    "hallkit_request_duration_seconds",
    "hallkit_requests_total",
    "hallkit_device_state",
    "hallkit_device_available",
    "hallkit_client_online",
    "hallkit_bus_connected",
    "hallkit_bus_connects_total",
    "hallkit_bus_disconnects_total",
    "hallkit_bus_rejected_messages_total",
    "hallkit_backup_last_success_timestamp_seconds",
    "hallkit_backup_age_seconds",
    "hallkit_clock_skew_seconds",  # hall_bus.ops.clock
    "hallkit_clock_skew_warning_seconds",
)


class WaitHistogram:
    def __init__(self) -> None:
        self.counts = [0] * len(WAIT_BUCKETS)
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sum += seconds
        for i, le in enumerate(WAIT_BUCKETS):
            if seconds <= le:
                self.counts[i] += 1
                return

    def buckets(self) -> list[tuple[str, float]]:
        total, out = 0, []
        for le, n in zip(WAIT_BUCKETS, self.counts, strict=True):
            total += n
            out.append(("+Inf" if math.isinf(le) else repr(le), float(total)))  # as prometheus-client writes le
        return out


@dataclasses.dataclass(frozen=True)
class StoreFigures:
    issued: dict[str, int]  # service -> tickets
    waits: dict[str, tuple[list[tuple[str, float]], float]]  # domain -> (cumulative buckets, sum)
    waiting: dict[str, tuple[int, float | None]]  # domain -> (count, oldest issued_at)


class StoreWatch:
    """The queue figures, read from the controller's store file on each scrape (see module docstring)."""

    def __init__(self, path: Path, hall: str) -> None:
        self.path, self.hall = path, hall
        self.max_id = 0
        self.open: set[int] = set()
        self.issued: collections.Counter[str] = collections.Counter()
        self.waits: dict[str, WaitHistogram] = collections.defaultdict(WaitHistogram)
        self.waiting: dict[str, tuple[int, float | None]] = {}  # domain -> (count, oldest issued_at)
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def refresh(self) -> StoreFigures:
        """Read what is new in the store; the figures as they stand now (a copy, for one scrape)."""
        with self._lock:
            if self._db is None:
                self._db = backup.read_only(self.path, timeout=5.0, shared=True)
                self._db.row_factory = sqlite3.Row
            db = self._db
            db.execute("BEGIN")  # one snapshot for the whole scrape
            try:
                self._read(db)
            finally:
                db.execute("COMMIT")
            return StoreFigures(
                dict(self.issued), {d: (h.buckets(), h.sum) for d, h in self.waits.items()}, dict(self.waiting)
            )

    def _read(self, db: sqlite3.Connection) -> None:
        rows = db.execute(
            "SELECT id, service, domain, state, issued_at, called_at FROM tickets WHERE hall=? AND id>? ORDER BY id",
            (self.hall, self.max_id),
        ).fetchall()
        for r in rows:
            self.issued[r["service"]] += 1
            self.max_id = max(self.max_id, int(r["id"]))
        before = sorted(self.open)
        for i in range(0, len(before), 500):
            chunk = before[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows += db.execute(
                f"SELECT id, service, domain, state, issued_at, called_at FROM tickets WHERE id IN ({marks})", chunk
            ).fetchall()
        for r in rows:
            self.open.discard(int(r["id"]))
            if r["state"] in OPEN_STATES:
                self.open.add(int(r["id"]))
            elif r["state"] == "finished" and r["called_at"] is not None:
                self.waits[r["domain"]].observe(float(r["called_at"]) - float(r["issued_at"]))
        self.waiting = {
            r[0]: (int(r[1]), r[2])
            for r in db.execute(
                "SELECT domain, COUNT(*), MIN(issued_at) FROM tickets WHERE hall=? AND state='waiting' GROUP BY domain",
                (self.hall,),
            )
        }

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class BusWatch:
    """The retained states the controller's bus client sees: devices, clients and the queue estimates."""

    def __init__(self, bus: BusClient, hall: str) -> None:
        self.device_state: dict[str, str] = {}
        self.device_available: dict[str, bool] = {}
        self.client_online: dict[str, bool] = {}
        self.estimated_min: dict[str, float | None] = {}
        self._lock = threading.Lock()
        root = topics.hall(hall)
        bus.subscribe(f"{root}/device/+/state", self._device_state)
        bus.subscribe(f"{root}/device/+/availability", self._available(self.device_available))
        bus.subscribe(f"{root}/client/+/availability", self._available(self.client_online))
        bus.subscribe(f"{root}/state/queue/+", self._queue)

    @staticmethod
    def _owner(topic: str) -> str:
        return topic.split("/")[-2]

    def _device_state(self, topic: str, env: Envelope) -> None:
        state = env.data.get("state") if isinstance(env.data, dict) else None
        with self._lock:
            self.device_state[self._owner(topic)] = state if state in DEVICE_STATES else "unknown"

    def _available(self, into: dict[str, bool]) -> Callable[[str, Envelope], None]:
        def note(topic: str, env: Envelope) -> None:
            with self._lock:
                into[self._owner(topic)] = env.state == "online"

        return note

    def _queue(self, topic: str, env: Envelope) -> None:
        wait = env.data.get("estimated_wait_min") if isinstance(env.data, dict) else None
        with self._lock:
            self.estimated_min[topics.last_segment(topic)] = float(wait) if isinstance(wait, int | float) else None

    def view(self) -> tuple[dict[str, str], dict[str, bool], dict[str, bool], dict[str, float | None]]:
        with self._lock:
            return (
                dict(self.device_state),
                dict(self.device_available),
                dict(self.client_online),
                dict(self.estimated_min),
            )


class RequestTimer:
    """The controller's dispatch, timed: ``hallkit_request_duration_seconds`` and ``hallkit_requests_total``."""

    def __init__(self, dispatch: Callable[[Envelope], Any] | None, registry: CollectorRegistry) -> None:
        self.dispatch = dispatch
        self.duration = Histogram(
            "hallkit_request_duration_seconds",
            "Time the controller spent on a request (authorisation, handler, store commit), by op",
            ["op"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.requests = Counter(
            "hallkit_requests",
            "Requests the controller answered, by op and outcome",
            ["op", "outcome"],
            registry=registry,
        )

    def __call__(self, env: Envelope) -> Any:
        start, outcome = time.perf_counter(), "internal"
        if self.dispatch is None:
            raise ServiceError("internal", "request timer without a handler")
        try:
            result = self.dispatch(env)
            outcome = "ok"
            return result
        except ServiceError as exc:
            outcome = exc.code
            raise
        finally:
            self.duration.labels(env.op).observe(time.perf_counter() - start)
            self.requests.labels(env.op, outcome).inc()


def time_requests(bus: BusClient, topic_filter: str, registry: CollectorRegistry) -> RequestTimer:
    """Time the handler ``bus`` serves ``topic_filter`` with (``BusClient.wrap_service``: swapped on the
    network thread, after the ``serve`` calls made before it)."""
    timer = RequestTimer(None, registry)

    def wrap(handler: Any) -> Any:
        timer.dispatch = handler
        return timer

    bus.wrap_service(topic_filter, wrap)
    return timer


def untime_requests(bus: BusClient, topic_filter: str, timer: RequestTimer) -> None:
    """Give the filter its own handler back (when the timer is still the one serving it)."""
    bus.wrap_service(topic_filter, lambda handler: timer.dispatch if handler is timer else None)


class HallCollector(Collector):
    """Builds the store, bus and backup metrics at each scrape."""

    def __init__(
        self,
        config: HallConfig,
        settings: MonitoringSettings,
        bus: BusClient,
        store: StoreWatch,
        watch: BusWatch,
        backup_dir: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config, self.settings, self.bus, self.store, self.watch = config, settings, bus, store, watch
        self.backup_dir, self.clock = backup_dir, clock

    def collect(self) -> Iterable[Metric]:
        yield from self._queue()
        yield from self._devices()
        yield from self._bus()
        yield from self._backup()

    def _queue(self) -> Iterable[Metric]:
        figures = self.store.refresh()
        now = self.clock()
        issued = CounterMetricFamily("hallkit_tickets_issued", "Tickets issued, by service", labels=["service"])
        for s in self.config.services:
            issued.add_metric([s.id], float(figures.issued.get(s.id, 0)))
        waiting = GaugeMetricFamily("hallkit_waiting_tickets", "Tickets waiting now, by domain", labels=["domain"])
        longest = GaugeMetricFamily(
            "hallkit_longest_wait_seconds",
            "How long the oldest waiting ticket has waited, by domain",
            labels=["domain"],
        )
        estimated = GaugeMetricFamily(
            "hallkit_estimated_wait_seconds", "The wait the hall screens show for a new ticket", labels=["domain"]
        )
        target = GaugeMetricFamily(
            "hallkit_wait_target_seconds", "The wait the hall promises ([monitoring])", labels=["domain"]
        )
        waits = HistogramMetricFamily(
            "hallkit_wait_seconds", "Issue to call of finished tickets, by domain", labels=["domain"]
        )
        estimates = self.watch.view()[3]
        for d in self.config.domains:
            count, oldest = figures.waiting.get(d.id, (0, None))
            waiting.add_metric([d.id], float(count))
            longest.add_metric([d.id], max(0.0, now - oldest) if oldest is not None else 0.0)
            est = estimates.get(d.id)
            if est is not None:
                estimated.add_metric([d.id], 60.0 * est)
            target.add_metric([d.id], self.settings.target_s(d.id))
            buckets, total = figures.waits.get(d.id) or (WaitHistogram().buckets(), 0.0)
            waits.add_metric([d.id], buckets, total)
        yield from (issued, waiting, longest, estimated, target, waits)

    def _devices(self) -> Iterable[Metric]:
        states, available, online, _ = self.watch.view()
        state = GaugeMetricFamily(
            "hallkit_device_state", "1 for a device's current state (retained device state)", labels=["device", "state"]
        )
        for device in sorted({d.id for d in self.config.devices} | set(states)):
            now = states.get(device, "unknown")
            for s in DEVICE_STATES:
                state.add_metric([device, s], 1.0 if s == now else 0.0)
        avail = GaugeMetricFamily(
            "hallkit_device_available", "1 while a device is attached to the bus", labels=["device"]
        )
        for device, up in sorted(available.items()):
            avail.add_metric([device], 1.0 if up else 0.0)
        clients = GaugeMetricFamily(
            "hallkit_client_online", "1 while a bus client is connected (its last will says 0)", labels=["client"]
        )
        for client, up in sorted(online.items()):
            clients.add_metric([client], 1.0 if up else 0.0)
        yield from (state, avail, clients)

    def _bus(self) -> Iterable[Metric]:
        stats = dict(self.bus.stats)
        yield GaugeMetricFamily(
            "hallkit_bus_connected",
            "1 while the controller is connected to the broker",
            value=float(self.bus.connected),
        )
        yield CounterMetricFamily(
            "hallkit_bus_connects", "Connections made to the broker", value=stats.get("connects", 0)
        )
        yield CounterMetricFamily(
            "hallkit_bus_disconnects", "Connections to the broker lost", value=stats.get("disconnects", 0)
        )
        rejected = CounterMetricFamily(
            "hallkit_bus_rejected_messages", "Messages the controller rejected, by error code", labels=["code"]
        )
        for code, n in sorted(dict(self.bus.rejects.by_code).items()):
            rejected.add_metric([code], float(n))
        yield rejected

    def _backup(self) -> Iterable[Metric]:
        found = backup.latest(self.backup_dir, self.config.hall_id)
        at = found[1].created_at if found else 0.0
        yield GaugeMetricFamily(
            "hallkit_backup_last_success_timestamp_seconds", "When the newest complete backup began (0: none)", value=at
        )
        yield GaugeMetricFamily(
            "hallkit_backup_age_seconds",
            "Seconds since the newest complete backup began (+Inf: none)",
            value=max(0.0, self.clock() - at) if found else math.inf,
        )
