"""A kiosk's own devices (ID card reader, receipt printer, document camera), opened from hall.toml
and published on the hall bus through one bus client of their own, logged in as the kiosk (the ACL
lets client ``kiosk-1`` publish the health and events of kiosk-1's devices, and nothing else's).

A device that does not answer is ``None``: the kiosk shows it as unavailable and goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from devices.base import Device, DeviceError
from drivers.errors import TransportError
from hall_bus.bus.client import BusClient
from hall_bus.config import HallConfig
from hall_bus.hosts.device_bridge import make_bus_device

log = logging.getLogger(__name__)

KIOSK_KINDS = ("idcard", "printer", "scanner")


def open_kiosk_devices(
    config: HallConfig, make_bus: Callable[[str], BusClient], kiosk_id: str | None = None
) -> dict[str, Device | None]:
    """Open the kiosk's devices of hall.toml (None for each that does not answer)."""
    kiosk_id = kiosk_id or (config.kiosks[0].id if config.kiosks else "")
    devices: dict[str, Device | None] = {}
    mine = [dev for dev in config.devices if dev.host == kiosk_id and dev.kind in KIOSK_KINDS]
    bus = make_bus(kiosk_id) if mine else None
    for dev in mine:
        device = make_bus_device(dev, bus, config.hall_id)
        try:
            devices[dev.kind] = device.open()
        except (DeviceError, TransportError) as exc:
            log.warning("kiosk device %s unavailable: %s", dev.id, exc)
            devices[dev.kind] = None
    return devices
