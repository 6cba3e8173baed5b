"""Full find/select/read cycle against the ID card simulator at 115200 baud with line-rate
emulation, compared with the time its bytes need on the wire (8N1: 10 bits a byte).

    .venv/bin/python benchmarks/idcard_read.py [--cycles N] [--baud B] [--transport tcp|pty]

Last line: ``idcard_read_ms=<median cycle> wire_ms=<wire time of one cycle>``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers import idcard as sam
from drivers.transport import open_transport
from simulators.base import serve_pty, serve_tcp
from simulators.idcard import IdCardSimulator


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--transport", choices=("tcp", "pty"), default="tcp")
    args = ap.parse_args()

    sim = IdCardSimulator({"card": "0", "baud": str(args.baud)})
    served = serve_tcp(sim) if args.transport == "tcp" else serve_pty(sim)
    drv = sam.IdCardDriver(open_transport(served.url, baudrate=args.baud, timeout=0.1))
    try:
        drv.read_card()  # warm-up (imports, first connection)
        times = []
        for _ in range(args.cycles):
            sent0, recv0 = len(sim.sent), len(sim.received)
            t0 = time.perf_counter()
            card = drv.read_card()
            times.append((time.perf_counter() - t0) * 1000)
            assert card.id_number.endswith("X")
            cycle_bytes = (len(sim.sent) - sent0) + (len(sim.received) - recv0)
    finally:
        drv.close()
        served.stop()
    wire_ms = cycle_bytes * 10 / args.baud * 1000
    med = statistics.median(times)
    print(f"transport={args.transport} baud={args.baud} cycles={args.cycles} bytes_per_cycle={cycle_bytes}")
    print(f"cycle ms: median {med:.1f}  min {min(times):.1f}  max {max(times):.1f}  ratio to wire {med / wire_ms:.3f}")
    print(f"idcard_read_ms={med:.1f} wire_ms={wire_ms:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
