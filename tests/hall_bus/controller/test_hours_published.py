"""The controller tells the hall when a window or domain opens or closes (延时/错时): hall.info carries
each domain's and window's mode and hours today, and a crossing of an hour boundary republishes the
hall layout and the window states without any request (what the kiosks' tiles and the display follow)."""

from __future__ import annotations

import datetime as dt
import time
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.contracts.base import Empty
from hall_bus.contracts.queue import HallInfo
from hall_bus.controller.hall_info import hall_info
from hall_bus.controller.service import HallController
from hall_bus.controller.store import Store
from hall_bus.ops.station import STATION_FILE, read_station, station_config
from hall_bus.queue.engine import QueueEngine

TZ = ZoneInfo("Asia/Shanghai")
HALL = Path(__file__).parents[2] / "fixtures" / "schedule-hall.toml"
THURSDAY = dt.date(2026, 11, 26)


def schedule_hall(tmp_path: Path, hall_id: str, tls_ca: str) -> hallconfig.HallConfig:
    text = HALL.read_text(encoding="utf-8").replace('id = "t"', f'id = "{hall_id}"\ndata_dir = "{tmp_path}"', 1)
    text += f"\n[bus]\ntls = true\nca_file = {tls_ca!r}\n\n[features]\nenabled = []\n"
    return hallconfig.parse(tomllib.loads(text))


def test_hall_info_says_who_serves_now_and_a_boundary_republishes_it(
    tmp_path: Path, hall_id: str, tls_ca: str, bus_factory
) -> None:
    clock = [dt.datetime.combine(THURSDAY, dt.time(17, 29), TZ).timestamp()]
    ctl = HallController(schedule_hall(tmp_path, hall_id, tls_ca), bus_factory("controller"), clock=lambda: clock[0])
    ctl.start()
    try:
        kiosk = bus_factory("kiosk-1")
        info = kiosk.call("hall.info", Empty(), HallInfo)
        modes = {d.id: d.mode for d in info.domains}
        assert modes == {"shebao": "open", "gongan": "appointments", "budongchan": "open"}
        budongchan = next(d for d in info.domains if d.id == "budongchan")
        assert (budongchan.hours_today, budongchan.appointments_today) == ("09:00-12:00, 13:30-17:30", "17:30-19:30")
        assert info.open_now and info.appointments_today == "17:30-19:30"
        w3 = next(w for w in info.windows if w.number == 3)
        assert (
            w3.mode == "open" and w3.appointment_hours is not None and w3.appointment_hours.thursday == ["17:30-19:30"]
        )

        seen: list[dict] = []
        kiosk.subscribe(topics.window_state(hall_id, 3), lambda _t, env: seen.append(env.data))
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen and seen[-1]["hours"] == "open"
        assert not ctl.check_hours()  # nothing crossed yet
        clock[0] += 120  # 17:31: the evening window serves appointments only
        assert ctl.check_hours()
        deadline = time.monotonic() + 5
        while seen[-1]["hours"] != "appointments" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen[-1]["hours"] == "appointments"
        info = kiosk.call("hall.info", Empty(), HallInfo)
        assert {d.id: d.mode for d in info.domains}["budongchan"] == "appointments"
        assert {d.id: d.mode for d in info.domains}["shebao"] == "closed"  # windows 1 and 2 close at 17:30
    finally:
        ctl.stop()


def test_a_station_built_from_hall_info_keeps_the_hours_of_each_window_and_domain(
    tmp_path: Path, hall_id: str, tls_ca: str
) -> None:
    config = schedule_hall(tmp_path, hall_id, tls_ca)
    engine = QueueEngine(config, Store(tmp_path / "hall.db"))
    info = HallInfo.model_validate(hall_info(config, engine, []).model_dump(mode="json", exclude_none=True))
    path = tmp_path / STATION_FILE
    path.write_text(f'[station]\nhall = "{hall_id}"\nid = "kiosk-1"\nrole = "kiosk"\n[bus]\nhost = "hall-server"\n')
    station = station_config(read_station(path), info)
    assert [(w.hours, w.appointment_hours) for w in station.windows] == [
        (w.hours, w.appointment_hours) for w in config.windows
    ]
    assert [d.hours for d in station.domains] == [d.hours for d in config.domains]
