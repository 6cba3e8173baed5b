"""How a bus client reaches and treats the bus: address, login, TLS, timings and limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BusSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 15
    backoff_min_s: float = 0.1
    backoff_max_s: float = 5.0
    offline_queue: int = 10_000
    max_clock_skew_s: float = 60.0  # a request's sent_at must lie this close to our clock
    dedupe_max: int = 100_000  # answers remembered in memory (oldest forgotten first)
    tls_ca: str | None = None  # verify the broker against this CA (PEM); None: plain TCP
    tls_server_name: str | None = None  # the name the broker certificate must carry (default: host)
    tls_cert: str | None = None  # our own certificate and key, when the broker asks for one
    tls_key: str | None = None
