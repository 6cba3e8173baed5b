"""Hall bus latency on a loopback mosquitto started by this script.

Measures in one run:
* the raw MQTT QoS 1 round trip: a publish to a topic the same client subscribes to, paho-mqtt only;
* the ticket-issue round trip: ``ticket.issue`` request to response through the real controller,
  durable SQLite write (WAL, synchronous=FULL) included; sequential, one request in flight;
* sustained throughput: many kiosks issuing concurrently for a few seconds.

Targets (issue 2): ticket issue p99 under 15 ms and at least 300 tickets/s on a 2-core machine.
Last line: ``ticket_issue_p50_ms=<x> ticket_issue_p99_ms=<y> broker_rtt_p99_ms=<z> tickets_per_s=<n>``
"""

from __future__ import annotations

import argparse
import concurrent.futures
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hall_bus import config as hallconfig  # noqa: E402
from hall_bus.bus.brokers import Mosquitto  # noqa: E402
from hall_bus.bus.client import BusClient, BusSettings  # noqa: E402
from hall_bus.controller.service import HallController  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def raw_rtt(broker: Mosquitto, n: int) -> list[float]:
    got = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311)
    c.on_message = lambda *_: got.set()
    # like hall_bus.client, disable Nagle: otherwise delayed ACKs add ~40 ms to every small publish
    c.on_socket_open = lambda client, userdata, sock: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.connect(broker.host, broker.port)
    c.loop_start()
    c.subscribe("bench/rtt", qos=1)
    time.sleep(0.3)
    out = []
    for _ in range(n):
        got.clear()
        t0 = time.perf_counter()
        c.publish("bench/rtt", b"x" * 200, qos=1)
        got.wait(5)
        out.append((time.perf_counter() - t0) * 1000)
    c.loop_stop()
    c.disconnect()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=2000, help="sequential requests (default 2000)")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of the throughput run")
    ap.add_argument("--kiosks", type=int, default=8)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp, Mosquitto() as broker:
        text = (ROOT / "hall.toml").read_text(encoding="utf-8").replace('data_dir = "var"', f'data_dir = "{tmp}"')
        text = text.replace("[hall.hours]", "[hall.hours]\nalways_open = true", 1)
        (Path(tmp) / "hall.toml").write_text(text, encoding="utf-8")
        cfg = hallconfig.load(Path(tmp) / "hall.toml")
        settings = BusSettings(host=broker.host, port=broker.port)
        ctl = HallController(cfg, BusClient(cfg.hall_id, "controller", settings)).start()
        kiosk = BusClient(cfg.hall_id, "kiosk-1", settings).start()
        assert kiosk.wait_connected(10) and ctl.bus.wait_connected(10)
        time.sleep(0.3)

        rtt = raw_rtt(broker, args.n)
        services = [s.id for s in cfg.services if s.domain != "zonghe"]
        for i in range(100):  # warm-up
            kiosk.request(
                "ticket.issue", {"service": services[i % len(services)], "idempotency_key": uuid.uuid4().hex[:16]}
            )
        issue = []
        for i in range(args.n):
            t0 = time.perf_counter()
            kiosk.request(
                "ticket.issue", {"service": services[i % len(services)], "idempotency_key": uuid.uuid4().hex[:16]}
            )
            issue.append((time.perf_counter() - t0) * 1000)

        kiosks = [BusClient(cfg.hall_id, f"kiosk-{k + 2}", settings).start() for k in range(args.kiosks)]
        for k in kiosks:
            k.wait_connected(10)
        stop_at = time.perf_counter() + args.seconds
        done = [0] * len(kiosks)

        def fleet(idx: int) -> None:
            client = kiosks[idx]
            inflight: list = []
            while time.perf_counter() < stop_at:
                inflight.append(
                    client.request_async(
                        "ticket.issue",
                        {"service": services[idx % len(services)], "idempotency_key": uuid.uuid4().hex[:16]},
                        timeout=30,
                    )
                )
                if len(inflight) >= 4:
                    inflight.pop(0).result(30)
                    done[idx] += 1
            for f in inflight:
                f.result(30)
                done[idx] += 1

        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(len(kiosks)) as pool:
            list(pool.map(fleet, range(len(kiosks))))
        elapsed = time.perf_counter() - t0
        throughput = sum(done) / elapsed
        for c in [kiosk, *kiosks]:
            c.stop()
        ctl.stop()

    print(f"raw MQTT QoS1 round trip over {args.n}: p50 {statistics.median(rtt):.2f} ms, p99 {pct(rtt, 99):.2f} ms")
    print(
        f"ticket.issue round trip over {args.n} (durable write included): p50 {statistics.median(issue):.2f} ms, "
        f"p99 {pct(issue, 99):.2f} ms, max {max(issue):.2f} ms; ratio p50 issue/raw {statistics.median(issue) / statistics.median(rtt):.1f}x"
    )
    print(f"sustained: {sum(done)} tickets by {len(kiosks)} kiosks in {elapsed:.1f} s")
    print(
        f"ticket_issue_p50_ms={statistics.median(issue):.2f} ticket_issue_p99_ms={pct(issue, 99):.2f} "
        f"broker_rtt_p99_ms={pct(rtt, 99):.2f} tickets_per_s={throughput:.0f}"
    )


if __name__ == "__main__":
    main()
