"""Build the device object for a ``[[devices]]`` entry of hall.toml, by its kind.

Device modules register their class (``register_kind("printer", ReceiptPrinter)``); the factory
imports ``devices.<kind>`` on first use, so a kind costs nothing until a hall has one.
"""

from __future__ import annotations

import importlib
from typing import Any

from devices.base import Device
from devices.config import DeviceConfig

_kinds: dict[str, type[Device]] = {}
_MODULES = {"scanner": "devices.scanner.device"}


def register_kind(kind: str, cls: type[Device]) -> None:
    _kinds[kind] = cls


def device_class(kind: str) -> type[Device]:
    if kind not in _kinds:
        module = _MODULES.get(kind, f"devices.{kind}")
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    if kind not in _kinds:
        raise KeyError(f"no device class for kind {kind!r} (known: {', '.join(sorted(_kinds)) or 'none'})")
    return _kinds[kind]


def make_device(config: DeviceConfig, **options: Any) -> Device:
    """The device object, not yet opened (``options`` go to the kind's class, e.g. ``salt``)."""
    return device_class(config.kind)(config, **options)


def open_device(config: DeviceConfig, **options: Any) -> Device:
    """The device object, opened and probed (raises DeviceError if it does not answer)."""
    return make_device(config, **options).open()
