"""A device on the hall bus: the listener that publishes a device's health, availability and events.

Devices (``devices/``) know nothing of the bus; whoever runs a device on the bus (a kiosk, a window
host, a locker host) attaches a :class:`DeviceBridge`. It publishes, below ``device/<id>/``:

* ``availability`` (retained): ``online`` when attached, ``offline`` when the device is closed;
* ``state`` (retained, type ``device.state``): the device's status after every change;
* ``event/<name>`` (not retained): what the device reports (page scanned, key pressed, door moved).

A card read (``idcard.card``: a masked ID number beside its identity token) never leaves the machine
whose reader saw the card: the kiosk uses it in-process, and nothing on the bus, for any role, could
be combined with the hall's salt to rebuild an ID number (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from devices.base import Device
from devices.config import DeviceConfig
from devices.factory import make_device
from hall_bus.bus import envelope, topics
from hall_bus.bus.client import BusClient

LOCAL_EVENTS = frozenset({"idcard.card"})  # personal: kept on the machine that read it


class DeviceBridge:
    def __init__(self, bus: BusClient, hall_id: str, device: Device) -> None:
        self.bus, self.hall_id, self.device = bus, hall_id, device
        device.listeners.append(self)
        self._availability(True)
        self.device_state(device)

    def _availability(self, online: bool) -> None:
        self.bus.publish_raw(
            topics.device_availability(self.hall_id, self.device.id),
            envelope.availability(self.device.id, online).to_json(),
            retain=True,
        )

    # DeviceListener
    def device_state(self, device: Device) -> None:
        self.bus.publish_state(topics.device_state(self.hall_id, device.id), "device.state", device.status())

    def device_event(self, device: Device, name: str, type_: str, data: dict[str, Any]) -> None:
        if type_ in LOCAL_EVENTS:
            return
        self.bus.publish_event(topics.device_event(self.hall_id, device.id, name), type_, data)

    def device_closed(self, device: Device) -> None:
        self._availability(False)


def bridged(device: Device, bus: BusClient | None, hall_id: str) -> Device:
    """``device`` with a bridge to ``bus`` attached (no bridge when there is no bus)."""
    if bus is not None:
        DeviceBridge(bus, hall_id, device)
    return device


def make_bus_device(config: DeviceConfig, bus: BusClient | None, hall_id: str, **options: Any) -> Device:
    """The device for a ``[[devices]]`` entry, publishing on ``bus``; not yet opened."""
    return bridged(make_device(config, **options), bus, hall_id)


def open_bus_device(config: DeviceConfig, bus: BusClient | None, hall_id: str, **options: Any) -> Device:
    """The device for a ``[[devices]]`` entry, publishing on ``bus``, opened and probed."""
    return make_bus_device(config, bus, hall_id, **options).open()
