"""``hallkit device pad|caller|display ...``: exercise the frame-protocol devices by URL."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from devices.caller import CallerKeypad
from devices.config import DeviceConfig
from devices.display import WindowDisplay
from devices.halldev import HallFrameDeviceBase
from devices.pad import EvaluationPad
from drivers.pad import LEVEL_NAMES
from hall_bus.cli.common import fail, opened, reporting
from hall_bus.cli.main import CommandLine


def register(cli: CommandLine) -> None:
    cli.describe(("device",), "talk to one hall device by URL (technician tools)")
    cli.describe(("device", "pad"), "evaluation pad (评价器)")
    cli.describe(("device", "caller"), "caller keypad (呼叫器)")
    cli.describe(("device", "display"), "window LED display (窗口屏)")
    p = cli.command(("device", "pad", "show"), help="show window, staff number and name on the pad", handler=pad_show)
    _url(p)
    p.add_argument("--window", type=int, required=True)
    p.add_argument("--staff-no", required=True)
    p.add_argument("--name", required=True)
    p = cli.command(
        ("device", "pad", "evaluate"), help="ask for a rating of a ticket and print the press", handler=pad_evaluate
    )
    _url(p)
    p.add_argument("--ticket", required=True)
    p.add_argument("--timeout", type=int, default=30)
    p = cli.command(
        ("device", "caller", "listen"), help="print key presses until Ctrl-C (or --seconds)", handler=caller_listen
    )
    _url(p)
    p.add_argument("--seconds", type=float, default=0)
    p = cli.command(("device", "caller", "show"), help="show text on the keypad's screen", handler=caller_show)
    _url(p)
    p.add_argument("text")
    p = cli.command(("device", "display", "show"), help="show lines on the window display", handler=display_show)
    _url(p)
    p.add_argument("lines", nargs="+")
    p.add_argument("--align", choices=("left", "center", "right"), default="center")
    p = cli.command(("device", "display", "clear"), help="clear the window display", handler=display_clear)
    _url(p)
    p = cli.command(
        ("device", "display", "brightness"), help="set the display's brightness (0..15)", handler=display_brightness
    )
    _url(p)
    p.add_argument("level", type=int)


def _url(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True, help="/dev/ttyUSB0, socket://HOST:PORT or sim://pad|caller|display")
    p.add_argument("--address", type=int, default=1, help="RS485 address (default 1)")
    p.add_argument("--baud", type=int, default=9600)


H = TypeVar("H", bound=HallFrameDeviceBase)


@contextmanager
def _opened(cls: type[H], args: argparse.Namespace, what: str) -> Iterator[H]:
    """The device of ``--url`` opened for the command ``what``; a device error or bad text (not in
    GB2312, too long) ends the command with one line on stderr."""
    options = {"address": args.address, "baudrate": args.baud}
    with (
        reporting(f"device {what}", (UnicodeEncodeError, ValueError), rc=2),
        reporting(f"device {what}"),
        opened(cls(DeviceConfig(id=cls.kind, kind=cls.kind, url=args.url, options=options))) as device,
    ):
        yield device


def pad_show(args: argparse.Namespace) -> int:
    with _opened(EvaluationPad, args, "pad show") as pad:
        pad.show_info(args.window, args.staff_no, args.name)
    print(f"pad at address {args.address} shows window {args.window}, staff {args.staff_no} {args.name}")
    return 0


def pad_evaluate(args: argparse.Namespace) -> int:
    with _opened(EvaluationPad, args, "pad evaluate") as pad:
        pad.request_evaluation(args.ticket, args.timeout)
        deadline = time.monotonic() + args.timeout + 5
        while time.monotonic() < deadline:
            for ev in pad.poll(0.2):
                if ev.timed_out or ev.level is None:
                    print(f"{ev.ticket}: not evaluated (timeout)")
                else:
                    reason = f" reason {ev.reason}" if ev.reason else ""
                    print(f"{ev.ticket}: {ev.level} {LEVEL_NAMES[ev.level]}{reason}")
                return 0
    return fail("no answer from the pad", 1, "device pad evaluate")


def caller_listen(args: argparse.Namespace) -> int:
    with _opened(CallerKeypad, args, "caller listen") as caller:
        end = time.monotonic() + args.seconds if args.seconds else float("inf")
        try:
            while time.monotonic() < end:
                for k in caller.poll(0.2):
                    print(f"key {k.key}" + (f" {k.arg}" if k.arg else "") + f" (seq {k.seq})", flush=True)
        except KeyboardInterrupt:
            pass
    return 0


def caller_show(args: argparse.Namespace) -> int:
    with _opened(CallerKeypad, args, "caller show") as caller:
        caller.show_text(args.text)
    print(f"keypad at address {args.address} shows: {args.text}")
    return 0


def display_show(args: argparse.Namespace) -> int:
    with _opened(WindowDisplay, args, "display show") as display:
        display.show(*args.lines, align=args.align)
    print(f"display at address {args.address} shows ({args.align}): " + " | ".join(args.lines))
    return 0


def display_clear(args: argparse.Namespace) -> int:
    with _opened(WindowDisplay, args, "display clear") as display:
        display.clear()
    print(f"display at address {args.address} cleared")
    return 0


def display_brightness(args: argparse.Namespace) -> int:
    with _opened(WindowDisplay, args, "display brightness") as display:
        display.brightness(args.level)
    print(f"display at address {args.address}: brightness {args.level}")
    return 0
