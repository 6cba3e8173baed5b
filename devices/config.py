"""A device as ``{kind, url, profile, options}`` in a hall's configuration: the one piece of the hall
model that the device layer knows. The rest of the hall (domains, services, windows) is
``hall_bus.config``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DeviceConfig:
    """A device as ``{kind, url, profile, options}``: switching to hardware changes only the url."""

    id: str
    kind: str
    url: str
    profile: str = ""
    host: str = ""  # the client (kiosk or window terminal) the device is attached to
    window: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
