"""Tidal windows benchmark: static allocation vs each tidal policy vs the pooled lower bound.

For every shipped scenario (simulators/scenarios/*.toml) and several seeds it simulates a hall
day with the real queue engine (simulators.hall_traffic) under:

* ``static``: windows keep their hall.toml domains all day;
* each tidal policy (``threshold``, ``flexible``) in automatic mode with the scenario's [tidal]
  settings;
* ``pooled``: every window serves every domain (fully flexible, skills ignored): the simulated
  lower bound;

and computes the analytical pooled bound: Erlang C (M/M/N) for the same total windows at the
stationary peak hour (the busiest clock hour's arrival rate and mean handling time).

Seeds are paired (common random numbers): every strategy sees the same citizens. Prints a table
per scenario; the last line is, for the city scenario:

    static_mean_min=<a> tidal_mean_min=<b> pooled_mean_min=<c> moves_per_window_hour=<m>

where tidal is the scenario's configured policy and pooled the fully flexible simulation.

    .venv/bin/python benchmarks/tidal.py [--seeds 5] [--scenario city]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulators.hall_traffic import arrival_rate_per_h, open_spans, simulate  # noqa: E402  (after the sys.path line)
from simulators.traffic_scenario import Scenario, load_scenario  # noqa: E402

SCENARIOS = ("city", "district", "street")


def erlang_c_wait_min(servers: int, arrivals_per_h: float, mean_service_min: float) -> float:
    """Mean wait in queue of an M/M/N queue (minutes); inf when the load reaches the servers."""
    a = arrivals_per_h * mean_service_min / 60.0  # offered load in erlangs
    if a <= 0:
        return 0.0
    if a >= servers:
        return math.inf
    b = 1.0  # Erlang B by the stable recursion
    for k in range(1, servers + 1):
        b = a * b / (k + a * b)
    c = servers * b / (servers - a * (1 - b))
    return c * mean_service_min / (servers - a)


def peak_hour(sc: Scenario) -> tuple[str, float, float]:
    """(label, arrivals per hour, mean handling minutes) of the busiest clock hour."""
    tz = sc.config.tz()
    best = ("", 0.0, 0.0)
    for a, b in open_spans(sc):
        t = a
        while t + 3600 <= b + 1:
            lam_total, work = 0.0, 0.0
            for d in sc.domains:
                lam = statistics.fmean(arrival_rate_per_h(sc, d, t + m * 60 + 30) for m in range(60))
                mean_min = sum(s.share * s.mean_min for s in d.services) / sum(s.share for s in d.services)
                lam_total += lam
                work += lam * mean_min
            if lam_total > best[1]:
                label = dt.datetime.fromtimestamp(t, tz).strftime("%H:%M")
                best = (label, lam_total, work / lam_total)
            t += 1800  # clock hours and half hours
    return best


def day_average(sc: Scenario) -> tuple[float, float]:
    """(arrivals per hour, mean handling minutes) averaged over the open hours."""
    hours = sum(b - a for a, b in open_spans(sc)) / 3600.0
    lam = sum(d.daily for d in sc.domains) / hours
    work = sum(
        d.daily * sum(s.share * s.mean_min for s in d.services) / sum(s.share for s in d.services) for d in sc.domains
    )
    return lam, work / hours / lam


def _run(args: tuple[str, str, int]) -> tuple[str, str, int, float, float, float, float]:
    path, strategy, seed = args
    r = simulate(path, strategy, seed)
    o = r.overall()
    return path, strategy, seed, o["mean"], o["p90"], o["max"], r.moves_per_window_hour


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds per scenario and strategy (default 5)")
    ap.add_argument("--scenario", action="append", choices=SCENARIOS, help="only these scenarios (default all)")
    args = ap.parse_args(argv)
    names = args.scenario or list(SCENARIOS)
    if "city" not in names:
        names.append("city")
    from hall_bus.features.tidal.policies import policy_names

    strategies = ["static", *policy_names(), "pooled"]
    paths = {n: str(ROOT / "simulators" / "scenarios" / f"{n}.toml") for n in names}
    jobs = [(paths[n], s, seed) for n in names for s in strategies for seed in range(1, args.seeds + 1)]
    started = time.time()
    results: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        for path, strategy, _seed, mean, p90, mx, mv in pool.map(_run, jobs):
            results.setdefault((path, strategy), []).append((mean, p90, mx, mv))
    summary: dict[str, dict[str, float]] = {}
    for n in names:
        sc = load_scenario(paths[n])
        configured = sc.tidal.get("policy", "threshold")
        label, lam, es = peak_hour(sc)
        servers = len(sc.config.windows)
        ec = erlang_c_wait_min(servers, lam, es)
        print(
            f"== {sc.name} ({n}.toml): {servers} windows, {args.seeds} seeds; peak hour {label}: "
            f"{lam:.0f} arrivals/h x {es:.1f} min = {lam * es / 60:.1f} erlangs"
        )
        print(
            f"   {'strategy':<22}{'mean':>8}{'p90':>8}{'max':>8}{'moves/window-h':>16}   (wait in minutes, mean over seeds)"
        )
        row: dict[str, float] = {}
        for s in strategies:
            rs = results[(paths[n], s)]
            mean, p90, mx, mv = (statistics.fmean(x[i] for x in rs) for i in range(4))
            row[s], row[f"{s}_moves"] = mean, mv
            tag = f"{s} (configured)" if s == configured else s
            print(f"   {tag:<22}{mean:>8.2f}{p90:>8.2f}{mx:>8.1f}{mv:>16.2f}")
        ec_txt = "inf" if math.isinf(ec) else f"{ec:.2f}"
        note = "the peak load exceeds the windows: no stationary regime" if math.isinf(ec) else "stationary, analytical"
        print(f"   {'Erlang C, peak hour':<22}{ec_txt:>8}{'':>8}{'':>8}{'':>16}   (M/M/{servers}, {note})")
        day_lam, day_es = day_average(sc)
        ec_day = erlang_c_wait_min(servers, day_lam, day_es)
        print(
            f"   {'Erlang C, day average':<22}{ec_day:>8.2f}{'':>8}{'':>8}{'':>16}   "
            f"({day_lam:.0f} arrivals/h x {day_es:.1f} min = {day_lam * day_es / 60:.1f} erlangs)"
        )
        ratio_t = row[configured] / row["pooled"] if row["pooled"] else math.inf
        ratio_s = row["static"] / row["pooled"] if row["pooled"] else math.inf
        print(
            f"   {configured} / pooled = {ratio_t:.2f}; static / pooled = {ratio_s:.2f}; "
            f"static / {configured} = {row['static'] / row[configured]:.2f}"
        )
        summary[n] = {
            "static": row["static"],
            "tidal": row[configured],
            "pooled": row["pooled"],
            "moves": row[f"{configured}_moves"],
            "ratio_t": ratio_t,
            "ratio_s": ratio_s,
        }
    c = summary["city"]
    ok = c["ratio_t"] <= 1.25 and c["ratio_s"] >= 2.0 and c["moves"] < 1.0
    print(
        f"city target (tidal within 25% of pooled, static at least 2x pooled, < 1 move per window-hour): "
        f"{'met' if ok else 'NOT met'}; {len(jobs)} simulated days in {time.time() - started:.0f} s"
    )
    print(
        f"static_mean_min={c['static']:.2f} tidal_mean_min={c['tidal']:.2f} pooled_mean_min={c['pooled']:.2f} "
        f"moves_per_window_hour={c['moves']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
