"""The controller under a junk flood: one stolen kiosk login floods distinct junk requests while another
kiosk issues a ticket every 50 ms; how fast the junk is refused, and what the legitimate requests feel.

Set up as a hall runs the bus (TLS with the hall CA, passwords, the generated ACL) on a loopback
mosquitto started here. The attacker is a plain paho client (QoS 0, as fast as the socket takes it)
logged in as kiosk-1 and writing the topics kiosk-1's ACL allows: half of its messages are not JSON,
half are well-formed requests for a service that does not exist, each with a new transaction id (so
none is answered from the de-duplication memory). The baseline is the same ticket stream with no
flood, measured first in the same run. Controller, attacker and honest kiosk each run in a process of
their own, as they run on machines of their own in a hall (the broker is the shared one).

Targets (issue 12): valid p99 under 50 ms while flooded, no legitimate request lost.
Last line: ``junk_per_s=<n> valid_p99_ms_under_junk=<x> dedupe_entries=<k>``
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hall_bus import config as hallconfig  # noqa: E402
from hall_bus.bus import envelope as messages  # noqa: E402
from hall_bus.bus import topics  # noqa: E402
from hall_bus.bus.brokers import Mosquitto  # noqa: E402
from hall_bus.bus.client import BusClient, BusSettings  # noqa: E402
from hall_bus.bus.connect import bus_settings  # noqa: E402
from hall_bus.bus.credentials import BROKER_LIMITS, mosquitto_conf, write_credentials  # noqa: E402
from hall_bus.bus.tls import tls_context  # noqa: E402
from hall_bus.config import HallConfig  # noqa: E402
from hall_bus.controller.service import HallController  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def stream(kiosk: BusClient, seconds: float, every_s: float, lost: list[str]) -> list[float]:
    """A ticket every ``every_s``; the round trip of each, in ms."""
    out: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        try:
            kiosk.request("ticket.issue", {"service": "shebao-card", "idempotency_key": uuid.uuid4().hex[:16]})
            out.append((time.perf_counter() - t0) * 1000)
        except Exception as exc:  # a lost legitimate request is a failure of the target, counted
            lost.append(repr(exc))
        time.sleep(max(0.0, every_s - (time.perf_counter() - t0)))
    return out


def junk(hall_id: str, n: int) -> list[bytes]:
    now = time.time()
    reply = topics.client_response(hall_id, "kiosk-1")
    out = []
    for i in range(n):
        if i % 2:
            env = messages.request("ticket.issue", {"service": "no-such"}, "kiosk-1", reply, 30, tx=f"j{i}", now=now)
            out.append(env.to_json())
        else:
            out.append(b"not json %d" % i)
    return out


def flood(settings: BusSettings, hall_id: str, topic: str, n: int) -> None:
    """The attacker: its own process and its own MQTT client (not HallKit's), QoS 0 as fast as it goes."""
    payloads = junk(hall_id, n)
    attacker = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"attacker-{uuid.uuid4().hex[:6]}")
    attacker.username_pw_set(settings.username, settings.password)
    attacker.tls_set_context(tls_context(settings))
    attacker.connect(settings.host, settings.port)
    attacker.loop_start()
    for p in payloads:
        attacker.publish(topic, p, qos=0)
    attacker.publish(topic, b"end of flood", qos=1).wait_for_publish(120)
    attacker.loop_stop()
    attacker.disconnect()


def secured(cfg: HallConfig, creds: Path) -> HallConfig:
    """The hall with ``[bus] credentials_dir`` and ``tls`` set, as a hall's components read it."""
    return dataclasses.replace(cfg, bus=dataclasses.replace(cfg.bus, credentials_dir=str(creds), tls=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="junk requests (default 100000)")
    ap.add_argument("--every", type=float, default=0.05, help="seconds between legitimate tickets")
    ap.add_argument("--baseline-s", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=3, help="floods, one after the other (default 3); p99 over all")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        text = (ROOT / "hall.toml").read_text(encoding="utf-8").replace('data_dir = "var"', f'data_dir = "{tmp}"')
        text = text.replace("[hall.hours]", "[hall.hours]\nalways_open = true", 1)
        text += '\n[[kiosks]]\nid = "kiosk-2"\nname = "honest kiosk"\n'
        (Path(tmp) / "hall.toml").write_text(text, encoding="utf-8")
        cfg = hallconfig.load(Path(tmp) / "hall.toml")
        creds = write_credentials(cfg, Path(tmp) / "creds")
        # the broker as hallkit bus credentials configures it for a hall (its queue limit per client included)
        broker = Mosquitto(
            allow_anonymous=False, extra_conf=mosquitto_conf(creds) + BROKER_LIMITS, tls_dir=creds
        ).start()

        def settings(client_id: str) -> BusSettings:
            return bus_settings(secured(cfg, creds), client_id, broker.host, broker.port)  # as a component does

        ctl = HallController(cfg, BusClient(cfg.hall_id, "controller", settings("controller"))).start()
        assert ctl.bus.wait_connected(10), ctl.bus.last_error
        spawn = multiprocessing.get_context("spawn")
        here, there = spawn.Pipe()
        kiosk = spawn.Process(
            target=honest_kiosk,
            args=(settings("kiosk-2"), cfg.hall_id, args.every, args.baseline_s, there),
            daemon=True,
        )
        kiosk.start()  # the honest kiosk is a machine of its own too: a process of its own
        baseline, lost = here.recv()

        topic = topics.client_request(cfg.hall_id, "kiosk-1", "ticket.issue")
        under: list[float] = []
        per_flood: list[float] = []
        done = 0
        elapsed = 0.0
        for _ in range(args.repeat):
            attack = spawn.Process(target=flood, args=(settings("kiosk-1"), cfg.hall_id, topic, args.n), daemon=True)
            issued_before = ctl.engine.snapshot("shebao")["waiting"]
            answered_before = sum(ctl.bus.rejects.by_code.values()) + ctl.bus.stats["served"]
            here.send("go")
            t0 = time.perf_counter()
            attack.start()

            def handled(
                answered_before: int = answered_before, issued_before: int = issued_before
            ) -> int:  # junk refused or answered (the honest kiosk's requests taken out)
                answered = sum(ctl.bus.rejects.by_code.values()) + ctl.bus.stats["served"]
                return answered - answered_before - (ctl.engine.snapshot("shebao")["waiting"] - issued_before)

            # until the controller has everything that reached it: all of it, or nothing new for 2 s after
            # the attacker finished (the broker drops what overflows a client's queue: max_queued_messages)
            deadline, last, quiet_since = time.perf_counter() + 300, -1, time.perf_counter()
            while time.perf_counter() < deadline:
                now_handled = handled()
                if now_handled != last:
                    last, quiet_since = now_handled, time.perf_counter()
                if now_handled >= args.n + 1 or (not attack.is_alive() and time.perf_counter() - quiet_since > 2.0):
                    break
                time.sleep(0.05)
            attack.join(30)
            elapsed += quiet_since - t0
            here.send("stop")
            got, lost_under = here.recv()
            lost += lost_under
            under += got
            per_flood.append(pct(got, 99))
            done += handled()
        here.send("end")
        kiosk.join(30)
        dedupe = ctl.bus.dedupe_entries
        by_code = dict(ctl.bus.rejects.by_code)
        waiting = ctl.engine.snapshot("shebao")["waiting"]
        ctl.stop()
        broker.close()

    junk_per_s = done / elapsed
    print("bus: TLS with the hall CA, passwords and the generated ACL; attacker logged in as kiosk-1")
    print(
        f"{args.repeat} floods of {args.n} junk requests (each by a process of its own); reached and handled by the "
        f"controller {done} in {elapsed:.1f} s (the rest dropped by the broker's queue limit per client, or not read "
        f"while the flooder had its fill waiting); refusals by code {by_code}"
    )
    print("valid p99 per flood: " + ", ".join(f"{x:.1f} ms" for x in per_flood))
    print(
        f"legitimate tickets every {args.every * 1000:.0f} ms: baseline (no flood) {len(baseline)} requests, "
        f"p50 {statistics.median(baseline):.2f} ms, p99 {pct(baseline, 99):.2f} ms"
    )
    print(
        f"under the flood: {len(under)} requests, p50 {statistics.median(under):.2f} ms, p99 {pct(under, 99):.2f} ms "
        f"({pct(under, 99) / pct(baseline, 99):.1f}x the baseline p99); lost {len(lost)}; tickets waiting {waiting}"
    )
    print(f"junk_per_s={junk_per_s:.0f} valid_p99_ms_under_junk={pct(under, 99):.2f} dedupe_entries={dedupe}")


def honest_kiosk(settings: BusSettings, hall_id: str, every_s: float, baseline_s: float, conn: Any) -> None:
    """The legitimate kiosk, in its own process: the baseline stream, then the stream under the flood."""
    kiosk = BusClient(hall_id, "kiosk-2", settings).start()
    assert kiosk.wait_connected(10), kiosk.last_error
    time.sleep(0.3)
    lost: list[str] = []
    conn.send((stream(kiosk, baseline_s, every_s, lost), lost))
    while conn.recv() == "go":
        under: list[float] = []
        lost = []
        while not conn.poll():
            under += stream(kiosk, every_s, every_s, lost)
        conn.recv()
        conn.send((under, lost))
    kiosk.stop()


if __name__ == "__main__":
    main()
