"""``hallkit device pad|caller|display ...``: exercise the frame-protocol devices by URL."""

from __future__ import annotations

import argparse
import sys
import time


def register(cli) -> None:
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


_opened: list = []


def _open(cls, kind: str, args: argparse.Namespace):
    from devices.config import DeviceConfig

    device = cls(
        DeviceConfig(id=kind, kind=kind, url=args.url, options={"address": args.address, "baudrate": args.baud})
    )
    _opened.append(device)
    return device.open()


def _run(fn, what: str) -> int:
    """Run a command; a device error or bad text (not in GB2312, too long) is one line on stderr."""
    from devices.base import DeviceError

    try:
        return fn() or 0
    except DeviceError as exc:
        print(f"hallkit device {what}: {exc}", file=sys.stderr)
        return 1
    except (UnicodeEncodeError, ValueError) as exc:
        print(f"hallkit device {what}: {exc}", file=sys.stderr)
        return 2
    finally:
        while _opened:
            _opened.pop().close()


def pad_show(args) -> int:
    from devices.pad import EvaluationPad

    return _run(lambda: _open(EvaluationPad, "pad", args).show_info(args.window, args.staff_no, args.name), "pad show")


def pad_evaluate(args) -> int:
    from devices.pad import EvaluationPad
    from drivers.pad import LEVEL_NAMES

    def go() -> int:
        pad = _open(EvaluationPad, "pad", args)
        pad.request_evaluation(args.ticket, args.timeout)
        deadline = time.monotonic() + args.timeout + 5
        while time.monotonic() < deadline:
            for ev in pad.poll(0.2):
                if ev.timed_out:
                    print(f"{ev.ticket}: not evaluated (timeout)")
                else:
                    print(
                        f"{ev.ticket}: {ev.level} {LEVEL_NAMES[ev.level]}"
                        + (f" reason {ev.reason}" if ev.reason else "")
                    )
                return 0
        print("hallkit device pad evaluate: no answer from the pad", file=sys.stderr)
        return 1

    return _run(go, "pad evaluate")


def caller_listen(args) -> int:
    from devices.caller import CallerKeypad

    def go() -> int:
        caller = _open(CallerKeypad, "caller", args)
        end = time.monotonic() + args.seconds if args.seconds else float("inf")
        try:
            while time.monotonic() < end:
                for k in caller.poll(0.2):
                    print(f"key {k.key}" + (f" {k.arg}" if k.arg else "") + f" (seq {k.seq})", flush=True)
        except KeyboardInterrupt:
            pass
        return 0

    return _run(go, "caller listen")


def caller_show(args) -> int:
    from devices.caller import CallerKeypad

    return _run(lambda: _open(CallerKeypad, "caller", args).show_text(args.text), "caller show")


def display_show(args) -> int:
    from devices.display import WindowDisplay

    return _run(lambda: _open(WindowDisplay, "display", args).show(*args.lines, align=args.align), "display show")


def display_clear(args) -> int:
    from devices.display import WindowDisplay

    return _run(lambda: _open(WindowDisplay, "display", args).clear(), "display clear")


def display_brightness(args) -> int:
    from devices.display import WindowDisplay

    return _run(lambda: _open(WindowDisplay, "display", args).brightness(args.level), "display brightness")
