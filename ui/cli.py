"""``hallkit kiosk`` (the kiosk UI against a running controller) and ``hallkit screenshots``."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from typing import Any

from hall_bus.cli.common import add_station_option, config_of, fail, station_id
from hall_bus.config import ConfigError
from hall_bus.ops.station import read_station, station_file
from ui.kivy_env import ORIENTATIONS, screen_size, window_size


def register(cli: Any) -> None:
    p = cli.command(
        ("kiosk",),
        help="run the kiosk UI (citizen screens; staff screens with --screens) against a running controller",
        handler=_kiosk,
        description="Run the Kivy kiosk app against a running `hallkit controller`. The citizen kiosk shows "
        "citizen screens only; a staff PC adds the hall display and the window terminal as tabs "
        "(--screens kiosk,display,terminal; keys F1-F3). The window fits the screen it gets. "
        "The hall manager works in the staff web console (hallkit web).",
    )
    p.add_argument("--config", default=None, help="hall.toml (default: ./hall.toml or $HALLKIT_CONFIG)")
    p.add_argument("--host", default=None, help="broker host (default: [bus] host of hall.toml)")
    p.add_argument("--port", type=int, default=None, help="broker port (default: [bus] port of hall.toml)")
    add_station_option(p)
    p.add_argument("--kiosk-id", default=None, help="kiosk id from [[kiosks]] (default: the first; --station: its id)")
    p.add_argument(
        "--screens",
        default="kiosk",
        help="comma-separated tabs: kiosk, display, terminal (default: kiosk, the citizen screens only)",
    )
    add_window_options(p)
    p.add_argument("--fullscreen", action="store_true", help="full screen (a real kiosk)")
    p.add_argument("--no-devices", action="store_true", help="do not open the kiosk's devices from hall.toml")

    s = cli.command(
        ("screenshots",),
        help="render every screen at 1080x1920 in Chinese, English and elder mode",
        handler=_screenshots,
        description="Render every kiosk and staff screen in a real Kivy window "
        "(under Xvfb when there is no display) against an in-process hall, and save PNGs.",
    )
    s.add_argument("--out", default="docs/screenshots", help="output directory (default docs/screenshots)")
    s.add_argument("--config", default=None, help="hall.toml (default: the demo hall's)")
    s.add_argument(
        "--broker",
        choices=("auto", "mosquitto", "embedded"),
        default="auto",
        help="broker for the in-process hall (default: mosquitto when installed)",
    )
    s.add_argument("--only", default="", help="comma-separated screen names (e.g. home,ticket-done,display)")
    s.add_argument("--landscape", action="store_true", help="1920x1080 (files named <screen>-<variant>-landscape.png)")


def add_window_options(p: argparse.ArgumentParser) -> None:
    """--size and --orientation (and --landscape, short for --orientation landscape)."""
    p.add_argument("--size", default=None, help="window size WxH, e.g. 1080x1920 (default: fit the screen)")
    p.add_argument(
        "--orientation",
        choices=ORIENTATIONS,
        default="auto",
        help="portrait (1080x1920 design), landscape (1920x1080) or auto: as the screen is (default)",
    )
    p.add_argument("--landscape", action="store_true", help="short for --orientation landscape")


def window_of(args: argparse.Namespace) -> tuple[int, int]:
    """The window size for --size/--orientation on this screen (SystemExit with a sentence on a bad --size)."""
    orientation = "landscape" if args.landscape else args.orientation
    try:
        return window_size(args.size, orientation, screen_size(), fullscreen=getattr(args, "fullscreen", False))
    except ValueError as exc:
        print(f"hallkit: --size: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _need_display(args_list: list[str]) -> int | None:
    """Re-run this command under xvfb-run when there is no display; None when a display exists."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("HALLKIT_NO_XVFB"):
        return None
    xvfb = shutil.which("xvfb-run")
    if not xvfb:
        print("hallkit: no display and no xvfb-run; install xvfb (bash run.sh setup) or set DISPLAY", file=sys.stderr)
        return 2
    env = dict(os.environ, HALLKIT_NO_XVFB="1")
    cmd = [
        xvfb,
        "-a",
        "-s",
        "-screen 0 1920x1920x24",
        sys.executable,
        "-c",
        "import sys; from hall_bus.cli.main import main; sys.exit(main(sys.argv[1:]))",
        *args_list,
    ]
    return subprocess.call(cmd, env=env)


def _kiosk(args: argparse.Namespace) -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(
            "hallkit: the kiosk UI needs a display: set DISPLAY (or run it under xvfb-run to try it headless)",
            file=sys.stderr,
        )
        return 2
    from ui.services import TABS

    tabs = [t.strip() for t in args.screens.split(",") if t.strip()]
    unknown = [t for t in tabs if t not in TABS]
    if unknown or not tabs:
        print(f"hallkit: unknown screens {unknown or tabs}; use {', '.join(TABS)}", file=sys.stderr)
        if "manager" in unknown:
            print(
                "hallkit: the hall manager works in the staff web console: hallkit web (docs/web.md)", file=sys.stderr
            )
        return 2
    own = _station_screen(args)
    if own is not None and tabs != [own]:
        print(f"hallkit: a station logs in as itself only: use --screens {own} with this --station", file=sys.stderr)
        return 2
    # hall.toml, or the station's file and the layout the controller publishes (waits for it, saying so)
    config = config_of(args)
    from hall_bus.bus import endpoint
    from hall_bus.bus.client import BusClient
    from hall_bus.bus.connect import bus_settings
    from ui.kivy_env import FontMissing, prepare

    clients: list[BusClient] = []
    host, port = args.host, args.port
    local = host is None and port is None and own is None
    demo = endpoint.find(config.data_dir, config.hall_id) if local else None
    if demo is not None:  # a running `hallkit demo` of this hall.toml
        host, port = demo.host, demo.port

    def make_bus(client_id: str) -> BusClient:
        client = BusClient(config.hall_id, client_id, bus_settings(config, client_id, host, port)).start()
        clients.append(client)
        client.wait_connected(3.0)  # the kiosk starts anyway and shows "reconnecting" until the bus is there
        return client

    size = window_of(args)
    try:
        prepare(size=size, fullscreen=args.fullscreen)
    except FontMissing as exc:
        print(f"hallkit: {exc}", file=sys.stderr)
        return 2
    from hall_bus.hosts.kiosk_devices import open_kiosk_devices
    from ui.app import UiServices, build_app

    kiosk_id = station_id(args) or args.kiosk_id or (config.kiosks[0].id if config.kiosks else "kiosk-1")
    devices = {} if args.no_devices or "kiosk" not in tabs else open_kiosk_devices(config, make_bus, kiosk_id)
    try:
        services = UiServices(config, make_bus, devices, tabs, kiosk_id=kiosk_id)
        build_app(services).run()
    finally:
        for dev in devices.values():
            if dev is not None:
                try:
                    dev.close()
                except Exception:
                    pass
        for c in clients:
            c.stop()
    return 0


def _station_screen(args: argparse.Namespace) -> str | None:
    """The one screen a ``--station`` runs (its role's: kiosk or display); None without --station."""
    if not args.station:
        return None
    try:
        role = read_station(station_file(args.station)).station.role
    except ConfigError as exc:
        raise SystemExit(fail(str(exc))) from None
    if role not in ("kiosk", "display"):
        raise SystemExit(fail(f"{args.station}: a {role} station runs no kiosk screen (role kiosk or display)"))
    return role


def _screenshots(args: argparse.Namespace) -> int:
    rerun = _need_display(
        ["screenshots", "--out", args.out, "--broker", args.broker]
        + (["--config", args.config] if args.config else [])
        + (["--only", args.only] if args.only else [])
        + (["--landscape"] if args.landscape else [])
    )
    if rerun is not None:
        return rerun
    from ui.kivy_env import FontMissing

    try:
        from ui.demo import screenshots

        only = {x.strip() for x in args.only.split(",") if x.strip()} or None
        size, suffix = ((1920, 1080), "-landscape") if args.landscape else ((1080, 1920), "")
        paths = screenshots.run(
            args.out, config_path=args.config, broker=args.broker, only=only, size=size, suffix=suffix
        )
    except FontMissing as exc:
        print(f"hallkit: {exc}", file=sys.stderr)
        return 2
    total = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} screenshots in {args.out} ({total / 1e6:.1f} MB)")
    return 0 if paths else 1
