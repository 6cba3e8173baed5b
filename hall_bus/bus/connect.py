"""How a HallKit component connects to its hall's bus: the settings from hall.toml (host, port, its
login from the credentials directory or the environment, and TLS: the hall CA, the broker's name,
and the component's own certificate when the broker asks for one)."""

from __future__ import annotations

import os
from pathlib import Path

from hall_bus.bus.client import BusSettings
from hall_bus.bus.credentials import CredentialsError, read_password
from hall_bus.bus.tls import CA_CERT
from hall_bus.config import HallConfig


def bus_settings(config: HallConfig, client_id: str, host: str | None = None, port: int | None = None) -> BusSettings:
    """Bus settings for a component from hall.toml (host/port may be overridden)."""
    bus = config.bus
    username = bus.username or None
    password = None
    if bus.credentials_dir:
        username = client_id
        password = read_password(bus.credentials_dir, client_id)
    elif bus.password_env:
        password = os.environ.get(bus.password_env)
    settings = BusSettings(
        host=host or bus.host,
        port=port or bus.port,
        username=username,
        password=password,
        keepalive_s=bus.keepalive_s,
        max_clock_skew_s=bus.max_clock_skew_s,
    )
    if bus.tls:
        ca = bus.ca_file or (str(Path(bus.credentials_dir) / CA_CERT) if bus.credentials_dir else "")
        if not ca or not Path(ca).is_file():
            raise CredentialsError(
                f"[bus] tls is on but the hall CA {ca or '(ca_file)'} is missing; run `hallkit bus credentials`"
            )
        settings.tls_ca = ca
        settings.tls_server_name = bus.server_name or None
        if bus.client_certs and bus.credentials_dir:
            settings.tls_cert = str(Path(bus.credentials_dir) / f"{client_id}.crt")
            settings.tls_key = str(Path(bus.credentials_dir) / f"{client_id}.key")
    return settings
