"""UI benchmark: cold start to first frame, and tap-to-next-screen latency of the kiosk.

Runs the real app in a real window (re-runs itself under xvfb-run when there is no display)
against an in-process hall (mosquitto when installed, the real controller).

* cold start: a fresh Python process per run; from before ``import kivy`` to the end of the first
  frame that shows the home screen (window created, font registered, every screen built, drawn).
  The median of ``--cold-runs`` runs is reported.
* tap latency: a touch event posted at a button's position (home tile, domain, back, home ...)
  until the end of the frame that shows the next screen, including the kiosk worker thread and the
  bus round trip where the step needs one. p50 and p95 over ``--taps`` taps.

Last line: ``ui_cold_start_s=<x> ui_tap_ms_p95=<y>`` (targets: < 2.5 s and < 100 ms).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

T0 = time.perf_counter()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def child_cold() -> None:
    """One cold start: print the seconds to the first drawn home frame."""
    os.environ["HALLKIT_TTS"] = "off"
    from ui.demo.local_hall import LocalHall

    hall = LocalHall(with_devices=False).start()
    t0 = time.perf_counter()  # the UI's cold start begins here: nothing of Kivy is imported yet
    from ui.kivy_env import prepare

    prepare(size=(1080, 1920))
    from kivy.base import EventLoop

    from ui.app import UiServices, build_app
    from ui.harness import Driver

    app = build_app(UiServices(hall.config, hall.make_bus, {}, ("kiosk", "display", "terminal")))
    app._run_prepare()
    from kivy.base import runTouchApp

    runTouchApp(embedded=True)
    EventLoop.idle()
    first = time.perf_counter() - t0
    driver = Driver.__new__(Driver)
    driver.app = app
    driver.wait(lambda: app.session.ctx.hall.get("services") and app.rendered > 1, what="hall loaded")
    loaded = time.perf_counter() - t0
    print(f"cold_first_frame_s={first:.3f} cold_hall_loaded_s={loaded:.3f}", flush=True)
    driver.stop()
    hall.stop()


def child_taps(n: int) -> None:
    os.environ["HALLKIT_TTS"] = "off"
    from ui.demo.local_hall import LocalHall

    hall = LocalHall(with_devices=False).start()
    for s in ("shebao-card", "yibao-reimburse", "budongchan-register"):
        hall.controller.engine.issue(s, channel="cli")
    from ui.kivy_env import prepare

    prepare(size=(1080, 1920))
    from ui.app import UiServices, build_app
    from ui.harness import Driver
    from ui.widgets import find_action

    app = build_app(UiServices(hall.config, hall.make_bus, {}, ("kiosk",)))
    d = Driver(app)
    d.wait(lambda: app.session.ctx.hall.get("services"), what="hall loaded")

    # (button, what the next screen shows)
    cycle = [
        ("tile:ticket", lambda: app.sm.current == "ticket" and find_action(app.root, "domain:shebao")),
        ("domain:shebao", lambda: find_action(app.root, "service:shebao-card")),
        ("back", lambda: find_action(app.root, "domain:yibao")),
        ("domain:yibao", lambda: find_action(app.root, "service:yibao-reimburse")),
        ("home", lambda: app.sm.current == "home" and find_action(app.root, "tile:rate")),
        ("tile:rate", lambda: app.sm.current == "rate" and find_action(app.root, "key:A")),
        ("home", lambda: app.sm.current == "home" and find_action(app.root, "tile:ticket")),
    ]
    times: list[float] = []
    i = 0
    while len(times) < n:
        action, shown = cycle[i % len(cycle)]
        i += 1
        w = d.find(action)
        d.pump(2)
        t = time.perf_counter()
        d.tap_widget(w)
        while not shown():
            d.pump()
            if time.perf_counter() - t > 10:
                raise SystemExit(f"tap {action}: next screen not shown in 10 s")
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p50 = statistics.median(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"taps={len(times)} tap_ms_p50={p50:.1f} tap_ms_p95={p95:.1f} tap_ms_max={times[-1]:.1f}", flush=True)
    d.stop()
    hall.stop()


def run_child(args: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), *args], capture_output=True, text=True, timeout=180
    )
    line = next((ln for ln in reversed(out.stdout.splitlines()) if "=" in ln and not ln.startswith("[")), "")
    if out.returncode != 0 or not line:
        raise SystemExit(
            f"benchmark child {args} failed (rc {out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
        )
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--taps", type=int, default=60)
    ap.add_argument("--child", choices=("cold", "taps"))
    a = ap.parse_args()
    if a.child == "cold":
        child_cold()
        return 0
    if a.child == "taps":
        child_taps(a.taps)
        return 0
    if not os.environ.get("DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if not xvfb:
            print("benchmarks/ui.py: no display and no xvfb-run", file=sys.stderr)
            return 2
        return subprocess.call([xvfb, "-a", "-s", "-screen 0 1920x1920x24", sys.executable, *sys.argv])
    colds = []
    for r in range(a.cold_runs):
        c = run_child(["--child", "cold"])
        colds.append(c)
        print(
            f"cold start {r + 1}: first frame {c['cold_first_frame_s']:.3f} s, home with hall data {c['cold_hall_loaded_s']:.3f} s"
        )
    taps = run_child(["--child", "taps", "--taps", str(a.taps)])
    print(
        f"taps: {int(taps['taps'])}, p50 {taps['tap_ms_p50']:.1f} ms, p95 {taps['tap_ms_p95']:.1f} ms, max {taps['tap_ms_max']:.1f} ms"
    )
    cold = statistics.median(c["cold_first_frame_s"] for c in colds)
    print(f"ui_cold_start_s={cold:.3f} ui_tap_ms_p95={taps['tap_ms_p95']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
