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
Without ``--headless`` the kiosk UI (``ui.demo.app.run_app``) runs on top of this hall: citizen
screens only, the staff screens in a second window (or as tabs with ``--staff tabs``).

The arrivals fit the windows: unless ``--arrivals`` says otherwise, the peak rate is the one at which
each domain's windows are busy :data:`UTILISATION` of the time on average over the demo's cycle
(:func:`fitted_arrivals`), so queues swell at the peaks and drain after them instead of growing
without bound. Demo appointments are booked for today (``simulators.demo_cases``), and the broker's
address is written where ``hallkit`` commands run beside the demo find it (``hall_bus.bus.endpoint``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hall_bus.bus.client import BusClient, BusError, RequestFailed
from hall_bus.config import HallConfig, Kiosk
from hall_bus.contracts.queue import TicketIssue, TicketIssued, WindowCalled, WindowRequest, WindowTicket
from hall_bus.features.evaluation.feature import EvaluationFeature
from hall_bus.hosts.window_host import WindowHost
from hall_bus.vocabulary import Priority
from simulators.demo_cases import seed_appointments, seed_demo_cases
from ui.app import TABS
from ui.demo.app import run_app
from ui.demo.hall_core import HallCore, with_sim_options
from ui.web.server import WebServer

DEMO_READER_ID = "demo-reader"  # the simulated ID card reader, for the demo's F9/F10 card keys


# Relative weight of arrivals per domain: the first two queues swell, the others stay calm.
DEMO_WEIGHTS = {"shebao": 3.0, "budongchan": 2.0, "yibao": 1.0, "gongan": 1.0, "shuiwu": 0.7, "zonghe": 0.8}
GREEN_SHARE = 0.08  # share of citizens using the green channel
GREEN_PRIORITIES: tuple[Priority, ...] = ("elderly", "disabled", "pregnant", "military")
ARRIVALS_KIOSK = Kiosk("kiosk-arrivals", "demo arrivals")
UTILISATION = 0.85  # the windows' mean busy share the fitted arrival rate aims at


def _rate_factor(minute: float) -> float:
    """Intraday shape over a 90-minute demo cycle: a peak, a dip, a second peak (1.35 at the highest)."""
    phase = (minute % 90.0) / 90.0
    return 0.55 + 0.45 * math.sin(2 * math.pi * phase) ** 2 + (0.35 if phase < 0.3 else 0.0)


MEAN_FACTOR = statistics.fmean(_rate_factor(m / 10.0) for m in range(900))


def fitted_arrivals(config: HallConfig, utilisation: float = UTILISATION) -> float:
    """The peak arrival rate (citizens per hall minute) the windows keep up with: each window's time is
    shared evenly among the domains it serves, and no domain's mean load may exceed ``utilisation`` of the
    window time it gets."""
    services = [s for s in config.services if not s.self_service]
    total = sum(DEMO_WEIGHTS.get(s.domain, 1.0) / max(1, sum(x.domain == s.domain for x in services)) for s in services)
    best = math.inf
    for d in config.domains:
        mine = [s for s in services if s.domain == d.id]
        if not mine:
            continue
        work = sum(DEMO_WEIGHTS.get(d.id, 1.0) / len(mine) / total * s.expected_minutes for s in mine)
        capacity = sum(1.0 / len(w.domains) for w in config.windows if d.id in w.domains)
        best = min(best, utilisation * capacity / work if capacity else 0.0)
    return round(best / MEAN_FACTOR, 3) if math.isfinite(best) else 0.0


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
        arrivals_per_min: float | None = None,
        seed: int | None = None,
        print_calls: Callable[[str], None] | None = print,
        with_devices: bool = True,
    ) -> None:
        super().__init__(config_path, broker=broker, port=port, always_open=True, tmp_prefix="hallkit-demo-")
        self.config = with_sim_options(self.config, "idcard", id=DEMO_READER_ID)
        # the generated citizens take their tickets at a kiosk of their own (a client of the hall's roles)
        self.config = dataclasses.replace(self.config, kiosks=(*self.config.kiosks, ARRIVALS_KIOSK))
        self.speed = speed
        self.fitted = fitted_arrivals(self.config)
        self.arrivals_per_min = self.fitted if arrivals_per_min is None else arrivals_per_min  # at the peak
        self.rng = random.Random(seed)
        self.say = print_calls or (lambda line: None)
        self.with_devices = with_devices
        self.stats = DemoStats()
        self.appointments: list[tuple[str, str, float, float]] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.started_at = 0.0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> DemoHall:
        self.start_broker()
        self.publish_endpoint()
        controller = self.start_controller()
        seed_demo_cases(controller)  # demo cases for 办件进度 and pickup
        self.appointments = seed_appointments(controller)  # demo appointments for 预约签到
        if self.with_devices:
            self.start_hosts()
        self.started_at = time.monotonic()
        # Connect one client at a time: amqtt mishandles many sessions starting at the same moment
        # ("dictionary changed size during iteration" in its session handler).
        self._spawn("arrivals", self._arrivals, self.make_bus(ARRIVALS_KIOSK.id))
        hosts = {h.bus.client_id: h.bus for h in self.hosts if isinstance(h, WindowHost)}
        for w in self.config.windows:  # a clerk works at the window's terminal: its client is window-<n>
            bus = hosts.get(f"window-{w.number}") or self.make_bus(f"window-{w.number}")
            self._spawn(f"clerk-{w.number}", self._clerk, w.number, bus)
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

    def _arrivals(self, kiosk: BusClient) -> None:
        services = [s for s in self.config.services if not s.self_service]
        weights = [
            DEMO_WEIGHTS.get(s.domain, 1.0) / max(1, sum(1 for x in services if x.domain == s.domain)) for s in services
        ]
        if self.arrivals_per_min <= 0:  # a hall for commands and the kiosk only: nobody else comes
            return
        while not self._stop.is_set():
            rate = self.arrivals_per_min * _rate_factor(self.hall_minutes())
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
    bus = hall.config.bus
    print(
        f"HallKit demo hall {hall.config.name} on mqtt://{bus.host}:{bus.port} ({hall.broker_kind} broker); "
        f"time runs {hall.speed:g}x; opening hours ignored so the hall is open now.\n"
        f"hallkit commands with this hall.toml reach it (address in {hall.endpoint_file}), e.g. "
        f"`bash run.sh ticket issue shebao-card`.\n"
        f"{hall.arrivals_per_min:g} citizens per hall minute at the peak "
        f"(the windows keep up with {hall.fitted:g}).",
        flush=True,
    )
    if hall.arrivals_per_min > hall.fitted * 1.0001:
        print(f"[demo] --arrivals {hall.arrivals_per_min:g} is more than the windows serve: queues will keep growing")
    web = start_web_console(hall, args.web_port)
    for code, service, start, end in hall.appointments:
        tz = hall.config.tz()  # the hall's clock, not the machine's
        when = f"{dt.datetime.fromtimestamp(start, tz):%H:%M}-{dt.datetime.fromtimestamp(end, tz):%H:%M}"
        print(f"[demo] appointment {code}: {hall.config.service(service).name} {when} (预约签到 at the kiosk)")
    staff = None
    try:
        if args.headless:
            hall._stop.wait(args.duration)
        else:
            hall.open_kiosk_devices()
            screens: tuple[str, ...] = ("kiosk",)
            if args.staff == "tabs":
                screens = TABS
            elif args.staff == "window":
                staff = staff_window(hall, args)
            run_app(hall, screens=screens, reader_sim_id=DEMO_READER_ID, size=args.size)
    except KeyboardInterrupt:
        pass
    finally:
        if staff is not None:
            staff.terminate()
            staff.wait(10)
        hall.halt()
        summary = hall.summary()
        web.stop()
        hall.stop()
    print(summary)
    return 0


DEMO_PASSWORD = "hallkit-demo"  # the demo hall's staff password (a demo's only: a hall sets its own)


def start_web_console(hall: DemoHall, port: int | None) -> WebServer:
    """The staff web console on the demo hall, every [[staff]] with the demo password; prints its address."""
    web = WebServer(hall.config, bus=hall.make_bus("web"), port=_web_port(port), host="127.0.0.1").start()
    staff = list(web.accounts.staff.values())
    for member in staff:
        web.accounts.set_password(member.staff_no, DEMO_PASSWORD)
    logins = ", ".join(
        f"{m.staff_no} ({'/'.join(m.roles)}{' ' + ','.join(map(str, m.windows)) if m.windows else ''})" for m in staff
    )
    print(f"web console: {web.url}", flush=True)
    print(f"[demo] web console logins (demo only), password {DEMO_PASSWORD!r}: {logins}", flush=True)
    return web


def _web_port(wanted: int | None) -> int:
    """The asked port, else 8080 when it is free, else any free port."""
    if wanted is not None:
        return wanted
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 8080))
            return 8080
        except OSError:
            return 0


def staff_window(hall: DemoHall, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """The staff screens (hall display, window terminal, manager console) in a window of their own: a
    ``hallkit kiosk`` process on the demo's broker, so the citizen's window shows citizen screens only."""
    bus = hall.config.bus
    cmd = [sys.executable, "-m", "hall_bus.cli.main", "kiosk", "--config", str(hall.config_path)]
    cmd += ["--host", bus.host, "--port", str(bus.port), "--screens", "display,terminal", "--no-devices"]
    cmd += ["--orientation", "landscape"]  # a hall display and a clerk's PC are landscape screens
    return subprocess.Popen(cmd)
