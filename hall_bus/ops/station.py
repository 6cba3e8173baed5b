"""A station configured by its own small file (issue 17, item 2; a first step, see docs/deploy.md).

A kiosk, window PC, display PC or locker host needs to know the broker, the hall CA and its own
login, and its own devices; the hall's layout (domains, services, windows) it learns from the
controller's retained ``state/hall`` (``hall.info``). Its directory holds only::

    station.toml        [station], [bus], [[devices]] (and [identity] on a kiosk)
    ca.crt              the hall CA (from the hall server's /etc/hallkit/bus)
    kiosk-1.password    its own bus password (likewise)

```toml
[station]
hall = "demo-hall"            # the hall id (the bus topics are below hallkit/<hall>/)
id = "kiosk-1"                # its bus client id: a kiosk id, window-<n>, display, or a locker bank's id
role = "kiosk"                # kiosk | window | display | locker
name = "大厅入口自助机"
data_dir = "var"              # its own state (scans, a locker host's journal), relative to this file

[bus]                         # as hall.toml's [bus]; credentials_dir and ca_file relative to this file
host = "hall-server.example"
port = 8883
tls = true
credentials_dir = "."

[[devices]]                   # its own devices, as in hall.toml ({kind, url, profile, options})
id = "kiosk-1-printer"
kind = "printer"
url = "/dev/usb/lp0"
host = "kiosk-1"
```

:func:`station_config` merges the file with the layout into a :class:`HallConfig` through the same
typed validation as hall.toml (:func:`hall_bus.config.parse`), so the rest of HallKit takes it
unchanged: ``hallkit kiosk``, ``hallkit window-host`` and ``hallkit locker-host`` take ``--station DIR``
(and every ``hallkit`` request command, which then logs in as the station). The layout is the typed
``hall.info`` (:class:`hall_bus.contracts.queue.HallInfo`): domains, services, windows, the opening
hours as data, ``[identity]`` issuers, ``appointment_early_minutes``, the enabled features and the
public settings of pickup (a locker host's own banks) and evaluation. What is secret stays on the
station's disk, never on the bus: its password, and where its role needs them the identity salt (a
kiosk) or the pickup key (a locker host) in its ``data_dir`` (docs/deploy.md).
"""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ValidationError

from hall_bus.bus import topics
from hall_bus.bus.client import BusClient
from hall_bus.bus.connect import bus_settings
from hall_bus.bus.envelope import Envelope
from hall_bus.config import ConfigError, HallConfig, Section, checked, parse, rule
from hall_bus.config.checks import is_id
from hall_bus.contracts.queue import HallFeatures, HallInfo

STATION_FILE = "station.toml"


class StationSection(Section):
    hall: Annotated[str, rule(is_id, "must be the hall id")]
    id: Annotated[str, rule(is_id, "must be its bus client id, e.g. kiosk-1, window-3, display, lockers-a")]
    role: Literal["kiosk", "window", "display", "locker"]
    name: str = ""
    data_dir: str = "var"


@dataclass(frozen=True)
class Station:
    path: Path
    station: StationSection
    raw: dict[str, Any]  # the file's other tables ([bus], [[devices]], [identity])

    @property
    def base(self) -> Path:
        return self.path.parent


class StationError(RuntimeError):
    """The station cannot get the hall's layout (no broker, no retained state/hall)."""


def read_station(path: str | Path) -> Station:
    """A station file, its ``[station]`` checked; relative paths of ``[bus]`` made absolute."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), "(file)", str(exc)) from None
    section = checked(StationSection, data.get("station", {}), str(path), "station")
    raw = {k: v for k, v in data.items() if k != "station"}
    bus = dict(raw.get("bus", {}))
    for key in ("credentials_dir", "ca_file"):
        if bus.get(key) and not Path(bus[key]).is_absolute():
            bus[key] = str((path.parent / bus[key]).resolve())
    raw["bus"] = {**bus, "broker": "external"}
    return Station(path, section, raw)


def station_file(path: str | Path) -> Path:
    """The station file of ``path``: a directory's station.toml, or the file itself."""
    path = Path(path)
    return path / STATION_FILE if path.is_dir() else path


def station_config(station: Station, layout: HallInfo) -> HallConfig:
    """The station's file and the hall's layout (``hall.info``) as one HallConfig."""
    s = station.station
    if layout.hall != s.hall:
        raise ConfigError(str(station.path), "station.hall", f"the broker's hall is {layout.hall!r}")
    hall: dict[str, Any] = {
        "id": s.hall,
        "name": layout.name,
        "name_en": layout.name_en,
        "timezone": layout.timezone,
        "data_dir": s.data_dir,
    }
    if layout.hours is not None:
        hall["hours"] = layout.hours.model_dump(mode="json")
    data: dict[str, Any] = {
        **station.raw,
        "hall": hall,
        "domains": [
            d.model_dump(mode="json", include={"id", "name", "name_en", "hours"}, exclude_none=True)
            for d in layout.domains
        ],
        "services": [s_.model_dump(mode="json", include=SERVICE_KEYS) for s_ in layout.services],
        # an older controller sends only the skills: they then stand for the window's domains
        "windows": [
            {"number": w.number, "name": w.name, "domains": w.domains or w.skills, "skills": w.skills}
            | w.model_dump(mode="json", include={"hours", "appointment_hours"}, exclude_none=True)
            for w in layout.windows
        ],
        "kiosks": _kiosks(station),
    }
    if layout.queue is not None:
        data["queue"] = {**station.raw.get("queue", {}), **layout.queue.model_dump(mode="json")}
    if layout.identity is not None:
        data["identity"] = layout.identity.model_dump(mode="json")
    if layout.features is not None:
        data |= _features(station, layout.features)
    return parse(data, str(station.path), station.base)


def _kiosks(station: Station) -> list[dict[str, str]]:
    """The station itself when it is a kiosk, and the kiosk PCs its own devices hang off (a locker bank's host)."""
    s = station.station
    kiosks = [{"id": s.id, "name": s.name}] if s.role == "kiosk" else []
    for dev in station.raw.get("devices", []):
        host = dev.get("host", "") if isinstance(dev, dict) else ""
        if host and host not in (s.id, "controller", "web") and not host.startswith("window-"):
            kiosks.append({"id": host, "name": ""})
    return list({k["id"]: k for k in kiosks}.values())


SERVICE_KEYS = {"id", "name", "name_en", "domain", "prefix", "expected_minutes", "self_service"}


def _features(station: Station, features: HallFeatures) -> dict[str, Any]:
    """``[features]`` and the features' tables a station runs with: the public settings of pickup
    (with the locker banks of its own devices) and evaluation; its own file's tables win."""
    data: dict[str, Any] = {"features": {"enabled": list(features.enabled)}}
    own = {d.get("id") for d in station.raw.get("devices", []) if isinstance(d, dict)}
    if features.pickup is not None:
        public = features.pickup.model_dump(mode="json", exclude={"lockers"})
        data["pickup"] = {**public, **station.raw.get("pickup", {})}
        banks = [b.model_dump(mode="json") for b in features.pickup.lockers if b.device in own]
        data["lockers"] = station.raw.get("lockers", banks)
    if features.evaluation is not None:
        data["evaluation"] = {**features.evaluation.model_dump(mode="json"), **station.raw.get("evaluation", {})}
    return data


def _bootstrap(station: Station) -> HallConfig:
    """The station's [bus] alone, in a hall with no layout yet: enough for its bus settings."""
    data = {
        "hall": {"id": station.station.hall},
        "bus": station.raw["bus"],
        "domains": [{"id": "none", "name": "-"}],
        "services": [],
        "windows": [],
    }
    return parse(data, str(station.path), station.base)


def fetch_layout(
    station: Station,
    timeout: float | None = 10.0,
    waiting: Callable[[str], None] | None = None,
    first_s: float = 2.0,
    every_s: float = 30.0,
) -> HallInfo:
    """The controller's retained ``state/hall``, read with the station's own login and the hall CA.

    ``timeout=None`` waits until the controller publishes it (a station started before the hall
    server), telling ``waiting`` why it still waits after ``first_s`` seconds, then every ``every_s``."""
    s = station.station
    got: list[HallInfo] = []
    bad: list[str] = []
    arrived = threading.Event()

    def on_layout(topic: str, env: Envelope) -> None:
        try:
            got.append(HallInfo.model_validate(env.data))
        except ValidationError as exc:
            bad.append(f"state/hall is not a hall.info this station reads: {exc.errors()[0]['msg']}")
        arrived.set()

    settings = bus_settings(_bootstrap(station), s.id)
    where = f"{settings.host}:{settings.port}"
    client = BusClient(s.hall, s.id, settings).start()
    try:
        client.subscribe(topics.hall_state(s.hall), on_layout)
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = first_s
        while not arrived.is_set():
            left = pause if deadline is None else min(pause, deadline - time.monotonic())
            pause = every_s
            if left <= 0 or arrived.wait(left):
                break
            if waiting is not None:
                waiting(f"{s.id}: waiting for the hall layout (state/hall) from {where}: {_why(client)}")
        if not got:
            why = bad[0] if bad else _why(client)
            raise StationError(f"{s.id}: no hall layout from the broker at {where} within {timeout:g} s: {why}")
    finally:
        client.stop()
    return got[0]


def _why(client: BusClient) -> str:
    if client.last_error:
        return client.last_error
    if client.connected:
        return "connected, but no retained state/hall (is the controller running?)"
    return "the broker does not answer yet"


def load_station(
    path: str | Path, timeout: float | None = 10.0, waiting: Callable[[str], None] | None = None
) -> HallConfig:
    """The HallConfig of the station whose file is ``path`` (a directory: its station.toml)."""
    station = read_station(station_file(path))
    return station_config(station, fetch_layout(station, timeout, waiting))
