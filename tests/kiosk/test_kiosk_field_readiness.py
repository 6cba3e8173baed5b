"""Issue 13, the citizen kiosk: what a first day in a real hall would hit, each as a rule."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel

from hall_bus.bus.client import RequestFailed
from hall_bus.bus.envelope import M
from kiosk.flow import KioskContext
from kiosk.i18n import tr
from kiosk.session import HOME_IDLE_S, KioskSession
from kiosk.ticket_flow import APPOINTMENT_CHARS, SEARCH_KEYS, TicketFlow
from kiosk.ticket_view import pinyin_initials, search_services
from tests.kiosk.kiosk_helpers import FakeClock, close_the_hall, kiosk, start_controller

HALL_INFO = {
    "open_now": True,
    "domains": [{"id": "shebao", "name": "社保", "name_en": "Social insurance"}],
    "services": [{"id": "shebao-card", "name": "社保卡申领", "name_en": "Social security card", "domain": "shebao"}],
}


@pytest.fixture
def hall(tmp_hall, bus_factory):
    ctl = start_controller(tmp_hall, bus_factory)
    session = kiosk(bus_factory)
    assert session.refresh_hall()
    return ctl, session


class RefusingBus:
    """A controller that refuses every request with one error code."""

    connected = True

    def __init__(self, code: str) -> None:
        self.code = code

    def call(self, op: str, request: BaseModel, reply: type[M], timeout: float = 5.0, retry_s: float = 1.0) -> M:
        raise RequestFailed(op, self.code, "service shebao-card: daily cap of 100 tickets reached")


def test_a_sold_out_service_is_told_in_the_citizens_language() -> None:
    for lang in ("zh", "en"):
        ctx = KioskContext(kiosk_id="kiosk-1", bus=RefusingBus("sold_out"), hall=dict(HALL_INFO), lang=lang)
        flow = TicketFlow(ctx)
        flow.choose_service("shebao-card")
        flow.choose_priority("normal")
        assert flow.state == "error" and flow.message == tr("error.sold_out", lang)
        assert "daily cap" not in flow.message
    ctx = KioskContext(kiosk_id="kiosk-1", bus=RefusingBus("no_such_code_anywhere"), hall=dict(HALL_INFO))
    flow = TicketFlow(ctx)
    flow.choose_service("shebao-card")
    flow.choose_priority("normal")
    assert flow.message == tr("error.failed") and "daily cap" not in flow.message  # a general sentence, no English


def test_the_end_of_a_session_resets_language_elder_mode_and_every_value(hall) -> None:
    _, session = hall
    clock = session.ctx.clock
    # 1. left alone in a flow: the timeout ends the session
    session.set_lang("en")
    session.set_elder(True)
    flow = session.start("ticket")
    flow.open_keyboard()
    flow.type_search("s")
    clock.advance(121)
    assert session.tick()
    assert (session.ctx.lang, session.ctx.elder) == ("zh", False)
    assert flow.query == "" and not flow.keyboard
    assert session.home_view()["welcome"] == tr("home.welcome", "zh")
    # 2. a finished journey ends it too
    session.set_lang("en")
    flow = session.start("ticket")
    flow.choose_service("shuiwu-invoice")
    flow.choose_priority("normal")
    flow.finish()
    assert session.flow is None and session.ctx.lang == "zh"
    # 3. home tapped mid-journey keeps the citizen's choice; left alone on home, it is reset
    session.set_lang("en")
    session.set_elder(True)
    session.start("ticket")
    session.home()
    assert (session.ctx.lang, session.ctx.elder) == ("en", True)
    clock.advance(HOME_IDLE_S * 2 - 1)
    assert not session.tick() and session.ctx.lang == "en"
    clock.advance(2)
    assert session.tick() and (session.ctx.lang, session.ctx.elder) == ("zh", False)


def test_search_by_pinyin_initials_on_the_on_screen_keyboard(hall) -> None:
    _, session = hall
    assert pinyin_initials("社保卡申领") == "sbksl" and pinyin_initials("不动产权属查询") == "bdcqscx"
    services = session.ctx.hall["services"]
    assert [s["id"] for s in search_services(services, "sbk")] == ["shebao-card"]
    flow = session.start("ticket")
    assert not flow.view()["keyboard"]
    flow.open_keyboard()
    assert set(flow.view()["keyboard"]) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == set(SEARCH_KEYS)
    flow.type_search("S")
    flow.type_search("B")
    v = flow.view()
    assert v["query"] == "sb"
    assert [r["id"] for r in v["results"]] == ["shebao-card", "shebao-transfer"]  # 社保 and its services
    flow.type_search("K")
    v = flow.view()
    assert [r["id"] for r in v["results"]] == ["shebao-card"] and v["results_label"] == "搜索结果：1 项"
    session.set_lang("en")
    assert flow.view()["results_label"] == "1 result"
    flow.type_search("back")
    assert flow.view()["results_label"] == "2 results"
    flow.type_search("clear")
    assert flow.view()["query"] == "" and "results" not in flow.view()


def test_the_appointment_keypad_has_every_letter_a_code_may_contain(hall) -> None:
    ctl, session = hall
    ctl.engine.add_appointment("YY2026IO", "budongchan-register", time.time() - 60, time.time() + 3600)
    flow = session.start("appointment")
    keys = flow.view()["keypad"]
    assert set(keys) | set("0123456789") == set(APPOINTMENT_CHARS)
    assert "I" in keys and "O" in keys
    for ch in "YY2026IO":
        flow.type_char(ch)
    flow.lookup_appointment()
    assert flow.state == "appointment_found"


def test_out_of_hours_domain_tiles_are_marked_closed(tmp_hall, bus_factory) -> None:
    close_the_hall(tmp_hall)
    start_controller(tmp_hall, bus_factory)
    session = kiosk(bus_factory)
    assert session.refresh_hall()
    domains = {d["id"]: d for d in session.start("ticket").view()["domains"]}
    assert not domains["shebao"]["open"] and domains["shebao"]["closed_text"] == "今日不开放"
    assert domains["zonghe"]["open"] and domains["zonghe"]["closed_text"] == ""  # 24-hour self-service inside


class Printer:
    """A printer device as the home screen sees it (state and status)."""

    def __init__(self, state: str, paper_out: bool) -> None:
        self.state, self.paper_out = type("S", (), {"value": state})(), paper_out

    def status(self) -> dict[str, object]:
        return {"paper_out": self.paper_out}


def test_device_trouble_shows_on_the_home_screen_before_anybody_starts() -> None:
    clock = FakeClock()
    ctx = KioskContext(kiosk_id="kiosk-1", bus=RefusingBus("x"), hall=dict(HALL_INFO), clock=clock)
    ctx.devices = {"idcard": object(), "printer": Printer("ready", False)}
    session = KioskSession(ctx)
    changes: list[int] = []
    session.listeners.append(lambda s: changes.append(1))
    assert session.home_view()["notices"] == []
    ctx.devices["printer"] = Printer("error", True)
    assert session.tick() is False and changes  # the home screen is redrawn with the notice
    assert session.home_view()["notices"] == [tr("home.notice.paper")]
    ctx.devices = {"idcard": None, "printer": None}
    assert session.home_view()["notices"] == [tr("home.notice.reader"), tr("home.notice.printer")]
