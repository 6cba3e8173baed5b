"""The demo hall: embedded broker, hall controller, device hosts and a generated stream of citizens.

``hallkit demo`` starts everything in one process so a newcomer sees a living hall with one command:

* the embedded MQTT broker (amqtt; zero install) on a free loopback port, or a given one;
* the hall controller with every feature module, on a fresh store in a temporary directory;
* device hosts with their simulators where those modules exist (window terminals with evaluation
  pad, caller keypad and LED display; the locker bank);
* arrivals: citizens taking tickets at a simulated kiosk, a non-stationary stream weighted towards
  社保 and 不动产 so queues grow unevenly (which gives the tidal-window policy something to do);
* clerks: one agent per window that calls, serves for a log-normal time around the service's
  expected minutes, finishes, and now and then records a no-show or pauses for a break.

Time runs ``--speed`` times faster than real time (default 60: a minute of the hall per second).
The hall's opening hours are ignored so the demo is alive at any hour; it says so when it starts.
Without ``--headless`` the kiosk UI (``ui.demo.app.run_app``) runs on top of this hall.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hall_bus.bus.client import BusClient, BusError, RequestFailed
from hall_bus.contracts.queue import TicketIssue, TicketIssued, WindowCalled, WindowRequest, WindowTicket
from hall_bus.features.evaluation.feature import EvaluationFeature
from hall_bus.vocabulary import Priority
from simulators.demo_cases import seed_demo_cases
from ui.demo.app import run_app
from ui.demo.hall_core import HallCore, with_sim_options

DEMO_READER_ID = "demo-reader"  # the simulated ID card reader, for the demo's F9/F10 card keys


# Relative weight of arrivals per domain: the first two queues swell, the others stay calm.
DEMO_WEIGHTS = {"shebao": 3.0, "budongchan": 2.0, "yibao": 1.0, "gongan": 1.0, "shuiwu": 0.7, "zonghe": 0.8}
GREEN_SHARE = 0.08  # share of citizens using the green channel
GREEN_PRIORITIES: tuple[Priority, ...] = ("elderly", "disabled", "pregnant", "military")


@dataclasses.dataclass
class DemoStats:
    issued: int = 0
    refused: int = 0
    calls: int = 0
    finished: int = 0
    no_shows: int = 0


class DemoHall(HallCore):
    """The hall of :class:`HallCore` with simulated citizens taking tickets and clerks serving them."""

    def __init__(
        self,
        config_path: str | Path | None = None,
        port: int | None = None,
        broker: str = "embedded",
        speed: float = 60.0,
        arrivals_per_min: float = 40.0,
        seed: int | None = None,
        print_calls: Callable[[str], None] | None = print,
        with_devices: bool = True,
    ) -> None:
        super().__init__(config_path, broker=broker, port=port, always_open=True, tmp_prefix="hallkit-demo-")
        self.config = with_sim_options(self.config, "idcard", id=DEMO_READER_ID)
        self.speed = speed
        self.arrivals_per_min = arrivals_per_min  # hall minutes
        self.rng = random.Random(seed)
        self.say = print_calls or (lambda line: None)
        self.with_devices = with_devices
        self.stats = DemoStats()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.started_at = 0.0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> DemoHall:
        self.start_broker()
        seed_demo_cases(self.start_controller())  # demo cases for 办件进度 and pickup
        if self.with_devices:
            self.start_hosts()
        self.started_at = time.monotonic()
        # Connect one client at a time: amqtt mishandles many sessions starting at the same moment
        # ("dictionary changed size during iteration" in its session handler).
        self._spawn("arrivals", self._arrivals, self.make_bus("kiosk-sim"))
        for w in self.config.windows:
            self._spawn(f"clerk-{w.number}", self._clerk, w.number, self.make_bus(f"clerk-{w.number}"))
        return self

    def halt(self) -> None:
        """Stop the simulated citizens and clerks (the hall itself keeps running until stop())."""
        self._stop.set()
        for t in self._threads:
            t.join(10)

    def stop(self) -> None:
        self.halt()
        super().stop()

    def warn(self, message: str) -> None:
        self.say(f"[demo] {message}")

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name=f"demo-{name}", daemon=True)
        self._threads.append(t)
        t.start()

    # ------------------------------------------------------------------ simulated people
    def hall_minutes(self) -> float:
        return (time.monotonic() - self.started_at) * self.speed / 60.0

    def _sleep_hall_minutes(self, minutes: float) -> bool:
        """Sleep for hall minutes; False when the demo stops meanwhile."""
        return not self._stop.wait(max(0.0, minutes) * 60.0 / self.speed)

    def _rate_factor(self, minute: float) -> float:
        """Intraday shape over a 90-minute demo cycle: a peak, a dip, a second peak."""
        phase = (minute % 90.0) / 90.0
        return 0.55 + 0.45 * math.sin(2 * math.pi * phase) ** 2 + (0.35 if phase < 0.3 else 0.0)

    def _arrivals(self, kiosk: BusClient) -> None:
        services = [s for s in self.config.services if not s.self_service]
        weights = [
            DEMO_WEIGHTS.get(s.domain, 1.0) / max(1, sum(1 for x in services if x.domain == s.domain)) for s in services
        ]
        while not self._stop.is_set():
            rate = self.arrivals_per_min * self._rate_factor(self.hall_minutes())
            if not self._sleep_hall_minutes(self.rng.expovariate(rate)):
                return
            service = self.rng.choices(services, weights)[0]
            request = TicketIssue(
                service=service.id, idempotency_key=f"demo-{uuid.uuid4().hex[:16]}", channel="simulator"
            )
            if self.rng.random() < GREEN_SHARE:
                kind = self.rng.choice(GREEN_PRIORITIES)
                request.priority = kind
                if kind == "elderly":
                    request.age_years = self.rng.randint(60, 90)
            try:
                out = kiosk.call("ticket.issue", request, TicketIssued, timeout=5)
            except (RequestFailed, BusError) as exc:
                self.stats.refused += 1
                self.say(f"[kiosk] ticket refused: {exc}")
                continue
            self.stats.issued += 1
            t = out.ticket
            green = " 绿色通道" if t.priority != "normal" else ""
            self.say(f"[kiosk]  {t.code} {out.service_name}{green}  前面 {out.waiting_ahead} 人")

    def _clerk(self, number: int, clerk: BusClient) -> None:
        rng = random.Random(self.rng.random())
        expected = {s.id: s.expected_minutes for s in self.config.services}
        while not self._stop.is_set():
            try:
                out = clerk.call(
                    "window.call", WindowRequest(window=number, staff=f"demo-{number}"), WindowCalled, timeout=5
                )
            except (RequestFailed, BusError) as exc:
                self.say(f"[window {number}] call failed: {exc}")
                if not self._sleep_hall_minutes(1):
                    return
                continue
            if out.ticket is None or out.call is None:
                if not self._sleep_hall_minutes(0.5):
                    return
                continue
            self.stats.calls += 1
            call = out.call.model_dump()  # free-form in the contract (Anything)
            ticket = out.ticket.model_dump()
            self.say(f"[window {number}] {call.get('announcement', '')}")
            if not self._sleep_hall_minutes(rng.uniform(0.2, 0.8)):  # the citizen walks over
                return
            try:
                if rng.random() < 0.05:
                    clerk.call("window.no_show", WindowRequest(window=number), WindowTicket, timeout=5)
                    self.stats.no_shows += 1
                    continue
                clerk.call("window.start", WindowRequest(window=number), WindowTicket, timeout=5)
                minutes = expected.get(str(ticket.get("service", "")), 10.0) * rng.lognormvariate(-0.08, 0.4)
                if not self._sleep_hall_minutes(minutes):
                    return
                clerk.call("window.finish", WindowRequest(window=number), WindowTicket, timeout=5)
                self.stats.finished += 1
            except (RequestFailed, BusError) as exc:
                self.say(f"[window {number}] {exc}")

    # ------------------------------------------------------------------ reporting
    def summary(self) -> str:
        db = self.hall.store.db
        rows = db.execute(
            "SELECT domain, issued_at, called_at, state FROM tickets WHERE hall=?", (self.config.hall_id,)
        ).fetchall()
        lines = [
            f"demo hall {self.config.hall_id}: {self.hall_minutes():.0f} hall minutes at {self.speed:g}x; "
            f"{self.stats.issued} tickets issued, {self.stats.calls} calls, {self.stats.finished} finished, "
            f"{self.stats.no_shows} no-shows, {self.stats.refused} refused"
        ]
        for d in self.config.domains:
            mine = [r for r in rows if r["domain"] == d.id]
            waits = [(r["called_at"] - r["issued_at"]) * self.speed / 60.0 for r in mine if r["called_at"]]
            waiting = sum(1 for r in mine if r["state"] == "waiting")
            mean = f"{statistics.fmean(waits):5.1f}" if waits else "    -"
            lines.append(f"  {d.name}({d.id}): {len(mine):4d} tickets, {waiting:3d} waiting, mean wait {mean} hall min")
        evaluation = self.hall.features.get("evaluation")
        if isinstance(evaluation, EvaluationFeature):
            o = evaluation.report(self.hall.engine.today())["overall"]
            levels = ", ".join(f"{n}x{lvl}" for lvl, n in o["evaluations"].items() if n)
            lines.append(
                f"  好差评: {o['evaluated']} of {o['served']} served tickets rated on the window pads ({levels or 'none yet'})"
            )
        return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """``hallkit demo``: the hall, then the kiosk UI on top (or a fixed headless run)."""
    hall = DemoHall(
        args.config,
        port=args.port,
        broker=args.broker,
        speed=args.speed,
        arrivals_per_min=args.arrivals,
        seed=args.seed,
        print_calls=print if (args.headless or args.verbose_calls) else None,
    )
    hall.start()
    print(
        f"HallKit demo hall {hall.config.name} on mqtt://{hall.config.bus.host}:{hall.config.bus.port} "
        f"({hall.broker_kind} broker); time runs {hall.speed:g}x; opening hours ignored so the hall is open now.",
        flush=True,
    )
    try:
        if args.headless:
            hall._stop.wait(args.duration)
        else:
            hall.open_kiosk_devices()
            run_app(hall, reader_sim_id=DEMO_READER_ID)
    except KeyboardInterrupt:
        pass
    finally:
        hall.halt()
        summary = hall.summary()
        hall.stop()
    print(summary)
    return 0
