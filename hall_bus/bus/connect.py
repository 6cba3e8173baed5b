"""How a HallKit component connects to its hall's bus: the settings from hall.toml (host, port, its
login from the credentials directory or the environment)."""

from __future__ import annotations

import os

from hall_bus.bus.client import BusSettings
from hall_bus.bus.credentials import read_password
from hall_bus.config import HallConfig


def bus_settings(config: HallConfig, client_id: str, host: str | None = None, port: int | None = None) -> BusSettings:
    """Bus settings for a component from hall.toml (host/port may be overridden)."""
    username = config.bus.username or None
    password = None
    if config.bus.credentials_dir:
        username = client_id
        password = read_password(config.bus.credentials_dir, client_id)
    elif config.bus.password_env:
        password = os.environ.get(config.bus.password_env)
    return BusSettings(
        host=host or config.bus.host,
        port=port or config.bus.port,
        username=username,
        password=password,
        keepalive_s=config.bus.keepalive_s,
    )
