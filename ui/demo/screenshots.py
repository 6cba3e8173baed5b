"""``hallkit screenshots``: every screen at 1080x1920 in Chinese, English and elder mode.

Runs the real app in a real window (under Xvfb when there is no display) against an in-process
hall (mosquitto or the embedded broker, the real controller), drives the kiosk flows into each
state, and saves what the window shows as PNG (palette-quantised to stay small) in ``--out``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hall_bus import config as hallconfig
from hall_bus.contracts.pickup import DepositStart, ItemOne, Size, Status, StatusView
from hall_bus.contracts.queue import Ticket, WindowCalled, WindowRequest, WindowTicket
from hall_bus.controller.hall_info import hall_info
from hall_bus.features.pickup.feature import PickupFeature
from hall_bus.queue.engine import QueueEngine
from kiosk.session import pickup_flow_factory
from simulators import registry
from simulators.demo_cases import seed_appointments, seed_demo_cases
from simulators.idcard import IdCardSimulator
from simulators.locker import LockerSimulator
from ui.demo.local_hall import LocalHall

Step = Callable[[], None]

VARIANTS = (("zh", False), ("en", False), ("zh", True))


def _prepare_hall(hall: LocalHall) -> None:
    eng = hall.hall.engine
    seed_appointments(hall.hall)  # the demo's appointments: YY2026A001 (不动产登记) ...
    for service in (
        "shebao-card",
        "shebao-card",
        "shebao-transfer",
        "yibao-reimburse",
        "budongchan-register",
        "budongchan-query",
        "gongan-hukou",
        "shuiwu-invoice",
        "shebao-card",
        "zonghe-consult",
    ):
        eng.issue(service, channel="cli")
    eng.issue("yibao-reimburse", priority="elderly", age_years=72, channel="cli")


# Each language variant collects the items of another simulated citizen (deck card number), since a
# photographed pickup really opens the compartments: (card, [(case, size), ...]) from the demo cases.
PICKUP_CITIZENS: list[tuple[int, list[tuple[str, Size]]]] = [
    (0, [("SB20261101001", "S"), ("SB20261105003", "S")]),
    (3, [("BDC20261102001", "M"), ("SW20261104001", "S")]),
    (1, [("GA20261103001", "L")]),
]


def _prepare_pickup(hall: LocalHall) -> list[int]:
    """Seed the demo cases and deposit the citizens' items (staff at window 6, doors closed by the
    simulated clerk). Returns the cards whose items wait in the lockers."""
    if "pickup.deposit.start" not in hall.hall.ops or not hall.hosts:
        return []
    seed_demo_cases(hall.hall, actor="S0106")
    staff = hall.make_bus("window-6")
    pickup = hall.hall.features["pickup"]
    assert isinstance(pickup, PickupFeature)
    settings = pickup.settings
    sim = registry.instance(hall.LOCKER_SIM_ID)
    assert isinstance(sim, LockerSimulator)
    cards = []
    for card, cases in PICKUP_CITIZENS:
        for case_no, size in cases:
            item = staff.call(
                "pickup.deposit.start",
                DepositStart(case_no=case_no, size=size, actor="S0106", window=6),
                ItemOne,
            ).item
            comp = settings.compartment(item.compartment.no)
            deadline = time.time() + 10
            while not sim.door_open(comp.board, comp.lock) and time.time() < deadline:
                time.sleep(0.05)
            sim.close_door(comp.board, comp.lock)  # the clerk put the item in and shut the door
            while staff.call("pickup.status", Status(item_id=item.item_id), StatusView).items[0].state != "deposited":
                if time.time() > deadline:
                    raise RuntimeError(f"deposit of {case_no} did not complete")
                time.sleep(0.1)
        cards.append(card)
    return cards


EVENING = dt.datetime(2026, 11, 26, 18, 0)  # a Thursday: hall.toml's window 4 serves 不动产's appointments only


def evening_hall_info(hall: LocalHall) -> dict[str, Any]:
    """hall.info as the controller says it on a Thursday at 18:00 by hall.toml's own hours (the pictures'
    hall is open around the clock): 不动产 checks in appointments only, the other domains are closed."""
    config = hallconfig.load(hall.config_path)
    when = EVENING.replace(tzinfo=config.tz()).timestamp()
    engine = QueueEngine(config, hall.hall.store, clock=lambda: when)  # reads the hall's windows at that hour
    return hall_info(config, engine, list(hall.hall.features)).model_dump(mode="json")


def _call_windows(hall: LocalHall) -> None:
    """Calls made while the app runs, so the hall display has recent calls to show."""
    clerks = {w: hall.make_bus(f"window-{w}") for w in (4, 1, 3, 5, 2)}  # each window's own terminal
    for w, bus in clerks.items():
        bus.call("window.call", WindowRequest(window=w), WindowCalled)
    clerks[4].call("window.start", WindowRequest(window=4), WindowTicket)


def steps(app: Any, hall: LocalHall) -> list[tuple[str, Step]]:
    """(file stem, set-up) for every kiosk and staff screen; set-ups run on the Kivy thread."""
    s = app.session
    devices = dict(s.ctx.devices)

    def troubled(fn: Step) -> Step:
        """``fn`` on a kiosk whose ID card reader and printer are unplugged (put back by the next step)."""

        def run() -> None:
            s.ctx.devices.update(idcard=None, printer=None)
            fn()

        return run

    def plugged(step: tuple[str, Step]) -> tuple[str, Step]:
        stem, fn = step

        def run() -> None:
            s.ctx.devices.update(devices)
            fn()

        return stem, fn if stem.endswith("-no-reader") or stem == "home-device-trouble" else run

    def home() -> None:
        s.home()
        s.refresh_hall()

    def ticket(*actions: tuple[Any, ...]) -> Step:
        def run() -> None:
            s.home()
            f = s.start(actions[0][0])
            if hasattr(f, "load_queues"):
                f.load_queues()
            for name, *args in actions[1:]:
                getattr(f, name)(*args)

        return run

    def closed() -> None:
        s.home()
        s.ctx.hall = dict(s.ctx.hall, open_now=False, hours_today="09:00-12:00, 13:30-17:30")

    def appointments_only() -> None:  # a Thursday evening (延时服务): the domain tiles say who serves
        s.home()
        s.ctx.hall = evening_hall_info(hall)
        s.start("ticket").load_queues()

    def reopen_then(fn: Step) -> Step:
        def run() -> None:
            s.refresh_hall()
            fn()

        return run

    def bus_error() -> None:
        s.home()
        f = s.start("ticket")
        f.service_id = "shebao-card"
        f.key = "screenshot-key-0001"
        f._retry = f.issue
        f.go("bus_error", f.ctx.tr("error.bus"))

    def scan_intro() -> None:
        s.home()
        s.start("scan")

    def scan_preview() -> None:
        s.home()
        f = s.start("scan")
        if f.state == "intro":
            f.start()

    def progress_entry() -> None:
        s.home()
        f = s.start("progress")
        f.by_number()
        for ch in "2026SB0001":
            f.type_char(ch)

    def rate_level() -> None:
        s.home()
        f = s.start("rate")
        f.ticket = Ticket(
            id=1,
            code="A001",
            day=time.strftime("%Y-%m-%d"),
            service="",
            domain="",
            priority="normal",
            state="done",
            issued_at=time.time(),
            channel="kiosk",
        )
        f.level = None
        f.go("level", f.ctx.tr("rate.prompt", ticket="A001"))

    def rate_reason() -> None:
        rate_level()
        s.flow.level = 5
        s.flow.go("reason", s.flow.ctx.tr("rate.reason.prompt"))

    def pickup() -> None:
        s.home()
        try:
            s.start("pickup")
        except LookupError:
            pass

    def search() -> None:  # the citizen types in the language the kiosk speaks
        ticket(("ticket",), ("search", "不动产" if s.ctx.lang == "zh" else "real estate"))()

    def keyboard() -> None:  # pinyin initials on the on-screen keyboard: sb finds 社保
        ticket(("ticket",), ("open_keyboard",), ("type_search", "S"), ("type_search", "B"))()

    card = hall.pickup_cards.pop(0) if hall.pickup_cards else None

    def pickup_items() -> None:
        assert card_sim is not None and card is not None
        card_sim.insert(card)
        try:
            s.home()
            s.start("pickup").by_card()
        finally:
            card_sim.remove()

    def pickup_open() -> None:
        s.flow.choose("all")

    out = [
        ("home", home),
        ("ticket-domain", ticket(("ticket",))),
        ("ticket-search", search),
        ("ticket-keyboard", keyboard),
        ("ticket-service", ticket(("ticket",), ("choose_domain", "shebao"))),
        ("ticket-identify", ticket(("identify",))),
        ("ticket-priority", ticket(("ticket",), ("choose_service", "shebao-card"))),
        ("ticket-appointment", ticket(("appointment",), *[("type_char", c) for c in "YY2026A001"])),
        (
            "ticket-appointment-found",
            ticket(("appointment",), *[("type_char", c) for c in "YY2026A001"], ("lookup_appointment",)),
        ),
        ("home-device-trouble", troubled(home)),
        ("ticket-identify-no-reader", troubled(ticket(("identify",)))),
        ("ticket-priority-no-reader", troubled(ticket(("ticket",), ("choose_service", "yibao-reimburse")))),
        ("ticket-done", ticket(("ticket",), ("choose_service", "shebao-card"), ("choose_priority", "normal"))),
        ("scan", scan_intro),
        ("scan-preview", scan_preview),
        ("progress", progress_entry),
        ("rate-level", rate_level),
        ("rate-reason", rate_reason),
        ("closed", closed),
        ("error", reopen_then(bus_error)),
        ("kiosk-appointments-only", appointments_only),
    ]
    if pickup_flow_factory() is not None:
        out.insert([stem for stem, _ in out].index("closed"), ("pickup", pickup))
    reader = app.session.ctx.device("idcard") if app.session else None
    card_sim = getattr(getattr(getattr(reader, "driver", None), "port", None), "simulator", None)
    if isinstance(
        card_sim, IdCardSimulator
    ):  # a simulated reader: put deck card 0 (born 1948) on it, as a citizen would

        def with_card() -> None:
            card_sim.insert(0)
            try:
                ticket(("identify",), ("read_card",), ("choose_service", "yibao-reimburse"))()
            finally:
                card_sim.remove()

        out.insert(6, ("ticket-card-identified", with_card))
        if card is not None and pickup_flow_factory() is not None:
            at = [stem for stem, _ in out].index("pickup") + 1
            out[at:at] = [("pickup-items", pickup_items), ("pickup-open", pickup_open)]
    return [plugged(step) for step in out]


def run(
    out_dir: str | Path,
    config_path: str | None = None,
    broker: str = "auto",
    variants: Iterable[tuple[str, bool]] = VARIANTS,
    staff: bool = True,
    only: set[str] | None = None,
    size: tuple[int, int] = (1080, 1920),
    suffix: str = "",
) -> list[Path]:
    from ui.kivy_env import prepare

    os.environ.setdefault("HALLKIT_TTS", "off")
    prepare(size=size, resizable=False)
    from kivy.clock import Clock
    from kivy.core.window import Window

    from ui.app import UiServices, build_app

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hall = LocalHall(config_path, broker=broker).start()
    _prepare_hall(hall)
    hall.pickup_cards = _prepare_pickup(hall)
    services = UiServices(hall.config, hall.make_bus, hall.devices, ("kiosk", "display", "terminal"))
    app = build_app(services, show_tabs=False)
    written: list[Path] = []
    plan: list[tuple[str, Step]] = []

    def build_plan() -> None:
        for lang, elder in variants:
            tag = ("elder" if elder else lang) + suffix

            def setv(lang: str = lang, elder: bool = elder) -> None:
                app.show_tab("kiosk")
                app.session.home()
                if app.session.ctx.lang != lang:
                    app.toggle_lang()
                if app.session.ctx.elder != elder:
                    app.toggle_elder()

            plan.append(("", setv))
            for stem, fn in steps(app, hall):
                if only and stem not in only:
                    continue
                plan.append((f"{stem}-{tag}", fn))
            if staff and not elder:
                for tab in ("display", "terminal"):
                    if only and tab not in only:
                        continue
                    plan.append((f"{tab}-{tag}", functools.partial(app.show_tab, tab)))
        plan.append(("", lambda: app.show_tab("kiosk")))

    state = {"i": 0}

    def shoot(stem: str) -> None:
        tmp = Window.screenshot(name=str(out / f".{stem}.png"))
        path = out / f"{stem}.png"
        _shrink(Path(tmp), path)
        written.append(path)

    def step(dt: float) -> None:
        i = state["i"]
        if i >= len(plan):
            app.stop()
            return
        stem, fn = plan[i]
        try:
            fn()
        except Exception as exc:
            print(f"screenshots: {stem or 'setup'}: {exc}")
        app._render()
        state["i"] = i + 1
        if stem:
            settle = {"frames": 0}

            def when_settled(dt: float) -> bool:
                # wait until the screen switch has finished and two more frames were drawn
                if app.sm.transition.is_active:
                    settle["frames"] = 0
                    return True
                settle["frames"] += 1
                if settle["frames"] < 3:
                    return True
                shoot(stem)
                Clock.schedule_once(step, 0.05)
                return False

            Clock.schedule_interval(when_settled, 0.1)
        else:
            Clock.schedule_once(step, 0.2)

    def begin(dt: float) -> None:
        app.session.refresh_hall()
        if app.terminal:
            app.terminal.load_hall()
            app.terminal.refresh()
        _call_windows(hall)
        build_plan()
        Clock.schedule_once(step, 0.5)

    Clock.schedule_once(begin, 1.0)
    try:
        app.run()
    finally:
        hall.stop()
    return written


def _shrink(src: Path, dst: Path) -> None:
    """Quantise to a 256-colour palette: flat UI pictures keep their look at a fraction of the size."""
    from PIL import Image

    with Image.open(src) as im:
        im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)
    src.unlink(missing_ok=True)
