"""Tidal windows benchmark: static allocation vs the tidal policy vs the fully flexible hall vs M(t)/M/c.

For every shipped scenario (simulators/scenarios/{city,district,street}.toml) and ``--seeds`` paired
seeds (common random numbers: every strategy sees the same citizens) it simulates a hall day with
the real queue engine (simulators.hall_traffic) under:

* ``static``: windows keep their hall.toml domains all day;
* ``tidal``: the scenario's configured policy (the default ``threshold``) in automatic mode;
* ``skills``: every window serves every domain its clerk is skilled for, all day, no moves (what
  sharing within the skills does under the first-come-first-served calling rule);
* ``pooled``: every window serves every domain, skills ignored (fully flexible);

and computes the analytical reference **M(t)/M/c(t)**: the birth-death (Kolmogorov forward)
equations of one pooled queue integrated over the day, with the scenario's arrival rate at each
moment, the windows actually open at each moment (breaks taken out) and exponential handling at the
arrival mix's mean; truncated at ``N_MAX`` people. Its mean wait is Little's law over the day
(integral of the expected queue over the integral of the arrival rate); its p90 from the wait
distribution of the arrivals (an arrival finding ``n >= c`` people waits for ``n - c + 1``
departures at rate ``c mu``). It ignores walking time, no-shows, priorities and skills.

Prints, per scenario, mean and p90 wait (minutes) with 95 % confidence intervals over the seeds, and
moves per window-hour; the last line is

    city_ratio=<tidal/pooled mean> district_ratio=<..> street_ratio=<..> p90_ratio_max=<..> seeds=<n> moves_per_window_hour=<max over scenarios> static_over_tidal_min=<..>

    .venv/bin/python benchmarks/tidal.py [--seeds 30] [--workers 2] [--scenario street ...]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulators.hall_traffic import arrival_rate_per_h, open_spans, simulate  # noqa: E402  (after the sys.path line)
from simulators.traffic_scenario import Scenario, load_scenario  # noqa: E402

SCENARIOS = ("city", "district", "street")
EXTRA = ("street_crosstrained", "district_crosstrained")  # the same halls with cross-trained clerks (on request)
STRATEGIES = ("static", "tidal", "skills", "pooled")
N_MAX = 600  # truncation of the birth-death chain (people in the hall)
DT_S = 2.0  # integration step (seconds)


def t95(n: int) -> float:
    """Student's t quantile for a two-sided 95 % interval with n - 1 degrees of freedom (close approximation)."""
    return 1.96 + 2.5 / max(1, n - 1) + 2.0 / max(1, n - 1) ** 2


def mean_ci(xs: list[float]) -> tuple[float, float]:
    """(mean, half-width of its 95 % confidence interval)."""
    m = statistics.fmean(xs)
    if len(xs) < 2:
        return m, math.nan
    return m, t95(len(xs)) * statistics.stdev(xs) / math.sqrt(len(xs))


# ---------------------------------------------------------------------- M(t)/M/c(t)
def day_parameters(sc: Scenario) -> tuple[float, list[tuple[float, float, float, int]]]:
    """(start, [(minute start, arrivals per s, mean handling s, open windows)]) per minute from opening
    to closing; breaks (the scenario's [[traffic.breaks]]) take windows out."""
    spans = open_spans(sc)
    start, end = spans[0][0], spans[-1][1]
    tz = sc.config.tz()
    breaks = []
    for b in sc.breaks:
        s0 = dt.datetime.combine(sc.date, b.start, tz).timestamp()
        breaks.append((s0, s0 + b.minutes * 60))
    out = []
    t = start
    while t < end:
        mid = t + 30
        lam, work = 0.0, 0.0
        for d in sc.domains:
            rate = arrival_rate_per_h(sc, d, mid) / 3600.0
            mean_s = 60 * sum(s.share * s.mean_min for s in d.services) / sum(s.share for s in d.services)
            lam += rate
            work += rate * mean_s
        open_windows = len(sc.config.windows) - sum(1 for a, b in breaks if a <= mid < b)
        out.append((t, lam, work / lam if lam else 600.0, max(0, open_windows)))
        t += 60
    return start, out


def mtmc_reference(sc: Scenario) -> tuple[float, float]:
    """(mean wait, p90 wait) in minutes of M(t)/M/c(t) over the scenario's day (module docstring)."""
    _, minutes = day_parameters(sc)
    n = np.arange(N_MAX + 1)
    p = np.zeros(N_MAX + 1)
    p[0] = 1.0
    queue_integral, arrivals = 0.0, 0.0
    x_grid = np.arange(0.0, 240.0, 0.25)  # wait in minutes
    survival = np.zeros_like(x_grid)
    last_mu = 1 / 600.0
    steps = int(60 / DT_S)

    def step(lam: float, mu: float, c: int) -> float:
        nonlocal p
        served = mu * np.minimum(n, c)
        out = p * (lam + served)
        out[-1] -= p[-1] * lam  # truncated: nobody arrives into the last state
        inflow = np.zeros_like(p)
        inflow[1:] += lam * p[:-1]
        inflow[:-1] += served[1:] * p[1:]
        p = np.maximum(p + DT_S * (inflow - out), 0.0)
        p /= p.sum()
        return float(np.dot(np.maximum(n - c, 0), p))

    for k, (_, lam, mean_s, c) in enumerate(minutes):
        mu = 1.0 / mean_s
        last_mu = mu
        if k % 2 == 0 and lam > 0 and c > 0:  # the wait distribution of this minute's arrivals
            survival += 2 * lam * 60 * _wait_survival(p, c, c * mu, x_grid)
        for _ in range(steps):
            queue_integral += step(lam, mu, c) * DT_S
        arrivals += lam * 60
    c_after = len(sc.config.windows)  # after closing every window finishes the queue
    for _ in range(int(4 * 3600 / DT_S)):
        q = step(0.0, last_mu, c_after)
        queue_integral += q * DT_S
        if q < 1e-4:
            break
    mean_wait = queue_integral / arrivals / 60.0 if arrivals else 0.0
    survival /= arrivals
    above = np.nonzero(survival <= 0.10)[0]
    p90 = float(x_grid[above[0]]) if len(above) else math.inf
    return mean_wait, p90


def _wait_survival(p: np.ndarray, c: int, rate_per_s: float, x_min: np.ndarray) -> np.ndarray:
    """P(wait > x) of an arrival that finds the chain in ``p`` (n >= c waits for n - c + 1 departures)."""
    k = np.arange(len(p) - c)  # departures needed minus one
    a = rate_per_s * 60.0 * x_min[:, None]  # expected departures by x
    with np.errstate(divide="ignore"):
        log_pmf = -a + k[None, :] * np.log(np.where(a > 0, a, 1.0)) - _log_factorial(k)[None, :]
    pmf = np.where(a > 0, np.exp(log_pmf), (k[None, :] == 0).astype(float))
    cdf = np.cumsum(pmf, axis=1)  # P(fewer than k + 1 departures by x) = P(wait > x | k + c found)
    return np.asarray(cdf @ p[c:])


def _log_factorial(k: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, len(k))))])


# ---------------------------------------------------------------------- the simulated days
def _run(args: tuple[str, str, str, int]) -> tuple[str, str, int, float, float, float]:
    path, label, strategy, seed = args
    r = simulate(path, strategy, seed)
    o = r.overall()
    return path, label, seed, o["mean"], o["p90"], r.moves_per_window_hour


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30, help="paired seeds per scenario and strategy (default 30)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS + EXTRA,
        help="only these scenarios (default city, district, street)",
    )
    args = ap.parse_args(argv)
    names = args.scenario or list(SCENARIOS)
    paths = {n: str(ROOT / "simulators" / "scenarios" / f"{n}.toml") for n in names}
    scenarios = {n: load_scenario(paths[n]) for n in names}
    policy = {n: str(scenarios[n].tidal.get("policy", "threshold")) for n in names}
    jobs = [
        (paths[n], s, policy[n] if s == "tidal" else s, seed)
        for n in names
        for seed in range(1, args.seeds + 1)
        for s in STRATEGIES
    ]
    jobs.sort(key=lambda j: Path(j[0]).stem == "city", reverse=True)  # the longest days first
    started = time.time()
    results: dict[tuple[str, str], list[tuple[int, float, float, float]]] = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
        refs = {n: pool.submit(mtmc_reference, scenarios[n]) for n in names}
        for path, label, seed, mean, p90, mv in pool.map(_run, jobs, chunksize=2):
            results.setdefault((path, label), []).append((seed, mean, p90, mv))
        reference = {n: f.result() for n, f in refs.items()}
    summary: dict[str, dict[str, float]] = {}
    for n in names:
        sc = scenarios[n]
        print(f"== {sc.name} ({n}.toml): {len(sc.config.windows)} windows, {args.seeds} paired seeds")
        print(
            f"   {'strategy':<20}{'mean':>7}{'±95%':>7}{'p90':>8}{'±95%':>7}{'moves/window-h':>16}   (wait in minutes)"
        )
        row: dict[str, tuple[float, float, float]] = {}
        for s in STRATEGIES:
            rs = sorted(results[(paths[n], s)])
            m, mci = mean_ci([x[1] for x in rs])
            p, pci = mean_ci([x[2] for x in rs])
            mv = statistics.fmean(x[3] for x in rs)
            row[s] = (m, p, mv)
            tag = f"tidal ({policy[n]})" if s == "tidal" else s
            print(f"   {tag:<20}{m:>7.2f}{mci:>7.2f}{p:>8.2f}{pci:>7.2f}{mv:>16.2f}")
        rm, rp = reference[n]
        print(
            f"   {'M(t)/M/c(t)':<20}{rm:>7.2f}{'':>7}{rp:>8.2f}{'':>7}{'':>16}   "
            "(integrated birth-death chain: arrival rate and open windows by the minute)"
        )
        t, po, st = row["tidal"], row["pooled"], row["static"]
        ratio, p90_ratio = t[0] / po[0], t[1] / po[1]
        print(
            f"   tidal/pooled mean {ratio:.2f}, p90 {p90_ratio:.2f}; static/tidal mean {st[0] / t[0]:.2f}; "
            f"pooled/M(t)/M/c mean {po[0] / rm if rm else math.inf:.2f}"
        )
        summary[n] = {"ratio": ratio, "p90_ratio": p90_ratio, "moves": t[2], "static_over_tidal": st[0] / t[0]}
    took = time.time() - started
    for n in EXTRA:
        if n in summary:
            print(f"{n}: tidal/pooled mean {summary[n]['ratio']:.2f}, p90 {summary[n]['p90_ratio']:.2f}")
    summary = {n: v for n, v in summary.items() if n in SCENARIOS} or summary
    ok = all(v["ratio"] <= 1.25 and v["p90_ratio"] <= 1.35 and v["moves"] < 1.0 for v in summary.values())
    print(
        f"target (tidal within 1.25x of pooled on mean and 1.35x on p90, < 1 move per window-hour, every scenario): "
        f"{'met' if ok else 'NOT met'}; {len(jobs)} simulated days in {took:.0f} s on {args.workers} workers"
    )
    ratios = " ".join(f"{n}_ratio={summary[n]['ratio']:.2f}" for n in SCENARIOS if n in summary)
    print(
        f"{ratios} p90_ratio_max={max(v['p90_ratio'] for v in summary.values()):.2f} seeds={args.seeds} "
        f"moves_per_window_hour={max(v['moves'] for v in summary.values()):.2f} "
        f"static_over_tidal_min={min(v['static_over_tidal'] for v in summary.values()):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
