"""A small in-process hall for screenshots and the UI benchmark: broker + controller + kiosk devices.

Unlike the demo hall it has no generated citizens: callers drive it (issue tickets, call windows)
so pictures and timings are repeatable. The broker is mosquitto when installed, else the embedded
amqtt broker (:class:`ui.demo.hall_core.HallCore` does the starting and stopping). The kiosk devices
of hall.toml are opened through their simulators; one that fails to open is ``None`` (the kiosk
offers another way).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ui.demo.hall_core import HallCore, with_sim_options


class LocalHall(HallCore):
    LOCKER_SIM_ID = "ui-lockers"

    def __init__(
        self,
        config_path: str | Path | None = None,
        broker: str = "auto",
        always_open: bool = True,
        with_devices: bool = True,
    ) -> None:
        super().__init__(config_path, broker=broker, always_open=always_open, tmp_prefix="hallkit-ui-")
        self.with_devices = with_devices
        self.pickup_cards: list[int] = []  # deck cards whose items wait in the lockers (set by the caller)

    def start(self) -> LocalHall:
        self.start_broker()
        if self.with_devices:
            self._lockers_for_pictures()
        self.start_controller()
        if self.with_devices:
            self.open_kiosk_devices()
            self.start_hosts(windows=False)
        return self

    def _lockers_for_pictures(self) -> None:
        """Lockers whose doors stay open until told (so an 'open' screen can be photographed), and
        notifications kept in memory (so the pickup codes are known)."""
        config = with_sim_options(self.config, "locker", auto_close_s="none", id=self.LOCKER_SIM_ID)
        extra = dict(config.extra)
        if "pickup" in extra:
            extra["pickup"] = {**extra["pickup"], "notifier": "memory"}
        self.config = dataclasses.replace(config, extra=extra)
