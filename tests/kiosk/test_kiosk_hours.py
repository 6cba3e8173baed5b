"""The kiosk and the hall display follow the hours of each domain and window (延时/错时服务), against
a real controller on mosquitto whose clock is set: tests/fixtures/schedule-hall.toml on a Thursday
evening (不动产's window 3 checks in appointments only, 社保 and 公安 are closed) and a Saturday
morning (only window 2 serves 社保)."""

from __future__ import annotations

import datetime as dt
import threading
import time
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hall_bus import config as hallconfig
from hall_bus.contracts.queue import HallInfo
from hall_bus.controller.service import HallController
from kiosk.hall_board import HallBoard
from kiosk.i18n import tr
from tests.kiosk.kiosk_helpers import kiosk

TZ = ZoneInfo("Asia/Shanghai")
HALL = Path(__file__).parents[1] / "fixtures" / "schedule-hall.toml"
THURSDAY = dt.date(2026, 11, 26)
SATURDAY = dt.date(2026, 11, 28)


def at(day: dt.date, hhmm: str) -> float:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), TZ).timestamp()


class HallClock:
    """The controller's clock, moved by the test."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def schedule_hall(tmp_path: Path, hall_id: str, tls_ca: str, bus_factory):
    """start(day, "18:00") -> (controller, kiosk session with hall.info read, the controller's clock)."""
    text = HALL.read_text(encoding="utf-8").replace('id = "t"', f'id = "{hall_id}"\ndata_dir = "{tmp_path}"', 1)
    text += f"\n[bus]\ntls = true\nca_file = {tls_ca!r}\n\n[features]\nenabled = []\n"
    config = hallconfig.parse(tomllib.loads(text))
    started: list[HallController] = []

    def start(day: dt.date, hhmm: str):
        clock = HallClock(at(day, hhmm))
        ctl = HallController(config, bus_factory("controller"), clock=clock).start()
        started.append(ctl)
        session = kiosk(bus_factory)
        assert session.refresh_hall()
        return ctl, session, clock

    yield start
    for ctl in started:
        ctl.stop()


def tiles(session) -> dict[str, bool]:
    return {t["id"]: t["enabled"] for t in session.home_view()["tiles"]}


def test_thursday_evening_home_says_appointments_only_and_opens_the_check_in(schedule_hall):
    _, session, _ = schedule_hall(THURSDAY, "18:00")
    v = session.home_view()
    assert session.screen() == "home" and v["open_now"] and not v["walk_in"]
    assert v["banner"] == "现在仅办理预约业务（今日预约时段 17:30-19:30），请凭预约码签到；自助服务照常开放"
    enabled = tiles(session)
    assert enabled["appointment"] and enabled["progress"] and enabled["rate"] and enabled["pickup"]
    assert not enabled["ticket"] and not enabled["identify"]  # no walk-in ticket, and no self-service item here
    assert v["tiles"][0]["id"] == "appointment"  # what the citizen can do comes first
    session.set_lang("en")
    assert session.home_view()["banner"].startswith("Appointments only now (today 17:30-19:30)")


def test_thursday_evening_domain_tiles_say_their_state(schedule_hall):
    _, session, _ = schedule_hall(THURSDAY, "18:00")
    flow = session.start("ticket")
    domains = {d["id"]: d for d in flow.view()["domains"]}
    assert domains["budongchan"]["mode"] == "appointments" and not domains["budongchan"]["open"]
    assert domains["budongchan"]["closed_text"] == "仅限预约 17:30-19:30"
    assert domains["shebao"]["mode"] == "closed" and domains["shebao"]["closed_text"] == "今日 09:00-17:30"
    assert domains["gongan"]["closed_text"] == "今日 09:00-12:00, 13:30-16:30"  # 公安's own hours
    session.set_lang("en")
    domains = {d["id"]: d for d in flow.view()["domains"]}
    assert domains["budongchan"]["closed_text"] == "Appointments only 17:30-19:30"
    assert domains["shebao"]["closed_text"] == "Today 09:00-17:30"


def test_an_appointments_only_tile_checks_in_an_appointment(schedule_hall):
    ctl, session, _ = schedule_hall(THURSDAY, "18:00")
    ctl.engine.add_appointment("YY2026EV", "b", at(THURSDAY, "18:00"), at(THURSDAY, "18:30"))
    flow = session.start("ticket")
    flow.choose_domain("budongchan")
    assert flow.state == "appointment" and flow.message == "不动产现在仅限预约，请输入预约码签到"
    for ch in "YY2026EV":
        flow.type_char(ch)
    flow.lookup_appointment()
    assert flow.state == "appointment_found", flow.message
    flow.check_in()
    assert flow.state == "done", flow.message
    ticket = ctl.engine.ticket(flow.view()["ticket"]["code"])
    assert ticket.service == "b" and ticket.appointment == "YY2026EV"


def test_services_say_their_domains_hours_and_an_appointments_only_service_leads_to_the_check_in(schedule_hall):
    _, session, _ = schedule_hall(THURSDAY, "18:00")
    flow = session.start("ticket")
    flow.search("登记")
    [result] = flow.view()["results"]
    assert result["id"] == "b" and not result["open"] and result["enabled"]
    assert result["sub"] == "仅限预约 17:30-19:30"
    flow.choose_service("b")
    assert flow.state == "appointment" and "仅限预约" in flow.message
    flow.back()
    flow.choose_domain("shebao")
    [service] = flow.view()["services"]
    assert not service["enabled"] and service["sub"] == "非工作时间暂停（今日 09:00-17:30）"
    flow.choose_service("s")
    assert flow.state == "closed" and flow.message == "社保卡 仅在窗口服务时间办理（今日 09:00-17:30）"


def test_a_kiosk_that_read_the_hours_before_the_evening_is_told_by_the_controller(schedule_hall):
    """hall.info read at 16:00 (all open), the ticket asked for at 18:00: the controller's refusal,
    in its sentence, and the check-in offered for the appointments-only domain."""
    ctl, session, clock = schedule_hall(THURSDAY, "16:00")
    assert all(d["mode"] == "open" for d in session.start("ticket").view()["domains"])
    clock.t = at(THURSDAY, "18:00")
    flow = session.start("ticket")
    flow.choose_service("b")
    flow.choose_priority("normal")
    assert flow.state == "closed" and flow.message == tr("error.appointments_only")
    assert flow.view()["offer_appointment"] == "我有预约，签到"
    flow.enter_appointment()
    assert flow.state == "appointment"
    flow = session.start("ticket")
    flow.choose_service("s")
    flow.choose_priority("normal")
    # the kiosk's hall.info still says 09:00-17:30 for 社保: its sentence names them
    assert flow.state == "closed" and flow.message == "社保卡 仅在窗口服务时间办理（今日 09:00-17:30）"
    assert "offer_appointment" not in flow.view()
    assert ctl.engine.waiting() == []


def test_saturday_morning_only_the_saturday_window_takes_tickets(schedule_hall):
    ctl, session, _ = schedule_hall(SATURDAY, "10:00")
    v = session.home_view()
    assert v["walk_in"] and v["banner"] == "今日窗口服务时间 09:00-12:00"
    assert tiles(session)["ticket"] and tiles(session)["identify"]
    flow = session.start("ticket")
    domains = {d["id"]: d for d in flow.view()["domains"]}
    assert domains["shebao"]["open"] and domains["shebao"]["closed_text"] == ""
    assert [domains[d]["closed_text"] for d in ("gongan", "budongchan")] == ["今日不开放", "今日不开放"]
    flow.choose_service("g")
    assert flow.state == "closed" and flow.message == "户口 仅在窗口服务时间办理（今日不开放）"
    flow = session.start("ticket")
    flow.choose_service("s")
    flow.choose_priority("normal")
    assert flow.state == "done" and ctl.engine.ticket(flow.view()["ticket"]["code"]).service == "s"


def test_an_older_controller_without_hours_per_domain_falls_back_to_the_hall(schedule_hall):
    """hall.info as a controller before schedules sent it: the hall's open_now and hours decide."""
    _, session, _ = schedule_hall(THURSDAY, "18:00")
    old = dict(session.ctx.hall)
    old["domains"] = [{"id": d["id"], "name": d["name"], "name_en": d["name_en"]} for d in old["domains"]]
    session.ctx.hall = HallInfo.model_validate(old).model_dump(mode="json")  # (the contract's defaults filled in)
    assert session.home_view()["walk_in"] and tiles(session)["ticket"] and tiles(session)["identify"]
    flow = session.start("ticket")
    assert all(d["open"] for d in flow.view()["domains"])
    flow.choose_service("b")
    flow.choose_priority("normal")
    assert flow.state == "closed" and flow.message == tr("error.appointments_only")  # the controller knows
    session.ctx.hall = dict(session.ctx.hall, open_now=False, hours_today="09:00-12:00")
    flow = session.start("ticket")
    assert {d["closed_text"] for d in flow.view()["domains"]} == {"非工作时间暂停"}
    flow.choose_service("s")
    assert flow.message == "社保卡 仅在窗口服务时间办理（今日 09:00-12:00）"


def wait_for(cond, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        threading.Event().wait(0.02)
    return cond()


def test_the_display_says_closed_appointments_only_finishing_and_paused(schedule_hall, bus_factory, hall_id):
    ctl, _, clock = schedule_hall(THURSDAY, "17:00")
    ctl.engine.issue("s", channel="cli")  # 社保 taken before closing: windows 1 and 2 finish the day's queue
    board = HallBoard(hall_id).attach(bus_factory("display"))
    clock.t = at(THURSDAY, "18:00")
    assert ctl.check_hours()

    def rows() -> dict[int, tuple[str, str]]:
        return {w["number"]: (w["hours"], w["state_label"]) for w in board.view()["windows"]}

    assert wait_for(lambda: rows().get(3, ("", ""))[0] == "appointments"), rows()
    assert rows() == {1: ("finishing", "空闲"), 2: ("finishing", "空闲"), 3: ("appointments", "仅办预约")}
    ctl.engine.call_next(1, actor="test")  # the last 社保 ticket called: nothing left for the windows
    assert wait_for(lambda: rows()[1][1] == "请到窗口"), rows()  # a ticket at the window: shown as it works
    assert wait_for(lambda: rows()[2] == ("closed", "已下班")), rows()
    board.lang = "en"
    assert rows()[2][1] == "closed" and rows()[3][1] == "appointments only"
    ctl.engine.pause(3, actor="test")
    assert wait_for(lambda: rows()[3] == ("appointments", "paused")), rows()


def test_the_tiles_follow_the_controller_s_republished_hall_at_once(schedule_hall) -> None:
    """17:29 Thursday: 不动产 takes walk-ins; at 17:31 the controller republishes state/hall and a kiosk
    following it shows 仅限预约 without asking hall.info again."""
    ctl, session, clock = schedule_hall(THURSDAY, "17:29")
    session.follow_hall(session.ctx.bus, ctl.config.hall_id)
    modes = lambda: {d["id"]: d.get("mode") for d in session.ctx.hall["domains"]}  # noqa: E731
    assert modes()["budongchan"] == "open"
    asked = session.last_refresh
    clock.t = at(THURSDAY, "17:31")
    assert ctl.check_hours()
    deadline = time.monotonic() + 5
    while modes()["budongchan"] != "appointments" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert modes()["budongchan"] == "appointments" and session.last_refresh == asked  # pushed, not asked
    assert not session.home_view()["walk_in"]
