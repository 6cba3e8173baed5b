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
unchanged. What ``hall.info`` does not carry yet is listed in docs/deploy.md ("Station-only
configuration"): the opening hours as data, the windows' current domains, the trusted resident-code
issuers and the features' public settings.
"""

from __future__ import annotations

import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from hall_bus.bus import topics
from hall_bus.bus.client import BusClient
from hall_bus.bus.connect import bus_settings
from hall_bus.bus.envelope import Envelope
from hall_bus.config import ConfigError, HallConfig, Section, checked, parse, rule
from hall_bus.config.checks import is_id

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


def station_config(station: Station, layout: dict[str, Any]) -> HallConfig:
    """The station's file and the hall's layout (``hall.info``) as one HallConfig."""
    s = station.station
    if layout.get("hall") != s.hall:
        raise ConfigError(str(station.path), "station.hall", f"the broker's hall is {layout.get('hall')!r}")
    services = [
        {k: v for k, v in svc.items() if k in ("id", "name", "name_en", "domain", "prefix", "expected_minutes")}
        | {"self_service": bool(svc.get("self_service", False))}
        for svc in layout.get("services", [])
    ]
    data: dict[str, Any] = {
        **station.raw,
        "hall": {
            "id": s.hall,
            "name": layout.get("name", s.hall),
            "name_en": layout.get("name_en", ""),
            "timezone": layout.get("timezone", "Asia/Shanghai"),
            "data_dir": s.data_dir,
        },
        "domains": layout.get("domains", []),
        "services": services,
        # a station does not assign windows (the controller does): a window's skills stand for its domains
        "windows": [
            {"number": w["number"], "name": w["name"], "domains": w["skills"], "skills": w["skills"]}
            for w in layout.get("windows", [])
        ],
        "kiosks": [{"id": s.id, "name": s.name}] if s.role == "kiosk" else [],
    }
    return parse(data, str(station.path), station.base)


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


def fetch_layout(station: Station, timeout: float = 10.0) -> dict[str, Any]:
    """The controller's retained ``state/hall``, read with the station's own login and the hall CA."""
    s = station.station
    got: dict[str, Any] = {}
    arrived = threading.Event()

    def on_layout(topic: str, env: Envelope) -> None:
        if isinstance(env.data, dict):
            got.update(env.data)
            arrived.set()

    client = BusClient(s.hall, s.id, bus_settings(_bootstrap(station), s.id)).start()
    try:
        client.subscribe(topics.hall_state(s.hall), on_layout)
        if not arrived.wait(timeout):
            why = client.last_error or "no retained state/hall (is the controller running?)"
            raise StationError(f"{s.id}: no hall layout from the broker within {timeout:g} s: {why}")
    finally:
        client.stop()
    return got


def load_station(path: str | Path, timeout: float = 10.0) -> HallConfig:
    """The HallConfig of the station whose file is ``path`` (a directory: its station.toml)."""
    path = Path(path)
    station = read_station(path / STATION_FILE if path.is_dir() else path)
    return station_config(station, fetch_layout(station, timeout))
