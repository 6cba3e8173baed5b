"""What the Kivy app is given: the hall, its bus clients (one per screen's identity) and the kiosk's devices."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from devices import identity
from hall_bus.config import HallConfig
from kiosk.scanning import ScanUploader, kiosk_devices

TABS = ("kiosk", "display", "terminal")
TAB_SCREEN = {"display": "display", "terminal": "terminal"}


class UiServices:
    """The bus clients and devices the app runs on (one per console, as the hall's ACL expects).

    No tab acts as the hall-wide ``manager`` client: the hall manager works in the staff web console,
    which has a login (docs/web.md).
    """

    def __init__(
        self,
        config: HallConfig,
        make_bus: Callable[[str], Any],
        devices: dict[str, Any] | None,
        tabs: Iterable[str],
        kiosk_id: str | None = None,
    ) -> None:
        self.config = config
        # the identity salt lives in the hall's data_dir (or $HALLKIT_IDENTITY_SALT), shared with the controller
        identity.configure(config.data_dir)
        self.tabs = tuple(t for t in TABS if t in set(tabs))
        self.kiosk_id = kiosk_id or (config.kiosks[0].id if config.kiosks else "kiosk-1")
        # a scan attached to a ticket goes to the web console with the kiosk's own login (docs/citizen-web.md "Scans at the window")
        uploader = ScanUploader.configured(config, self.kiosk_id)
        self.devices = kiosk_devices(dict(devices or {}), config.data_dir, uploader=uploader)
        self.kiosk_bus = make_bus(self.kiosk_id) if "kiosk" in self.tabs else None
        self.display_bus = make_bus("display") if "display" in self.tabs else None
        first_window = config.windows[0].number if config.windows else 1
        # the window terminal logs in as its window (the roles table lets window-<n> act on window n only);
        # a staff PC's terminal that switches windows logs in as each window it switches to
        self._window_buses: dict[int, Any] = {}
        self._make_bus = make_bus
        self.terminal_bus = self.window_bus(first_window) if "terminal" in self.tabs else None

    def window_bus(self, number: int) -> Any:
        """The bus client of window ``number``'s terminal (made on first use)."""
        if number not in self._window_buses:
            self._window_buses[number] = self._make_bus(f"window-{number}")
        return self._window_buses[number]
