"""Take-a-ticket flow, headless, against a real controller on mosquitto."""

from __future__ import annotations

import time

import pytest

from kiosk.i18n import STRINGS, tr
from kiosk.ticket_flow import search_services
from tests.kiosk.kiosk_helpers import close_the_hall, kiosk, start_controller


@pytest.fixture
def hall(tmp_hall, bus_factory):
    ctl = start_controller(tmp_hall, bus_factory)
    session = kiosk(bus_factory)
    assert session.refresh_hall()
    return ctl, session


def test_every_string_has_both_languages():
    for key, (zh, en) in STRINGS.items():
        assert zh and en, key
    assert tr("ticket.done.ahead", "zh", n=3, m=12) == "前面还有 3 人，约 12 分钟"
    assert tr("ticket.done.ahead", "en", n=3, m=12) == "3 people ahead, about 12 minutes"


def test_domain_then_service_issues_and_shows_people_ahead(hall):
    ctl, session = hall
    for _ in range(2):  # two citizens already waiting for 社保
        ctl.engine.issue("shebao-card", channel="cli")
    flow = session.start("ticket")
    assert flow.state == "domain"
    flow.load_queues()
    v = flow.view()
    assert {d["id"]: d["waiting"] for d in v["domains"]}["shebao"] == 2
    flow.choose_domain("shebao")
    assert [s["id"] for s in flow.view()["services"]] == ["shebao-card", "shebao-transfer"]
    flow.choose_service("shebao-card")
    assert flow.state == "priority"
    assert [p["id"] for p in flow.view()["priorities"]] == ["normal", "disabled", "pregnant", "military"]
    flow.choose_priority("normal")
    assert flow.state == "done"
    t = flow.view()["ticket"]
    assert t["code"] == "A003" and t["waiting_ahead"] == 2
    assert t["ahead_text"].startswith("前面还有 2 人，约 ")
    assert t["printed"] is False and t["print_problem"] == "no_printer"  # no printer configured: number shown large
    stored = ctl.engine.ticket("A003")
    assert stored.channel == "kiosk" and stored.identity_token is None


def test_search_finds_services_in_both_languages(hall):
    _, session = hall
    services = session.ctx.hall["services"]
    assert [s["id"] for s in search_services(services, "社保卡")] == ["shebao-card"]
    assert [s["id"] for s in search_services(services, "invoice")] == ["shuiwu-invoice"]
    flow = session.start("ticket")
    flow.search("不动产")
    v = flow.view()
    assert [r["id"] for r in v["results"]] == ["budongchan-register", "budongchan-query"]
    flow.search("没有这个")
    assert flow.view()["results"] == [] and "没有找到" in flow.view()["results_label"]


def test_green_channel_by_choice_and_elderly_refused_without_card(hall):
    ctl, session = hall
    flow = session.start("ticket")
    flow.choose_service("yibao-reimburse")
    flow.choose_priority("elderly")  # no card read: the kiosk cannot claim 60+
    assert flow.state == "priority" and "身份证" in flow.message
    flow.choose_priority("pregnant")
    assert flow.state == "done"
    assert flow.view()["ticket"]["green"] is True
    assert ctl.engine.ticket(flow.view()["ticket"]["code"]).priority == "pregnant"


def test_retry_reuses_the_idempotency_key(hall):
    ctl, session = hall
    flow = session.start("ticket")
    flow.choose_service("gongan-hukou")
    flow.choose_priority("normal")
    first = flow.view()["ticket"]["code"]
    key = flow.key
    flow.issue()  # e.g. the citizen taps again after a lost answer: same key, same ticket
    assert flow.key == key and flow.view()["ticket"]["code"] == first
    rows = ctl.store.db.execute("SELECT COUNT(*) FROM tickets WHERE hall=?", (ctl.hall,)).fetchone()[0]
    assert rows == 1


def test_appointment_check_in(hall):
    ctl, session = hall
    now = time.time()
    ctl.engine.add_appointment("YY2026", "budongchan-register", now - 60, now + 1800)
    flow = session.start("appointment")
    assert flow.state == "appointment"
    for ch in "yy2026":
        flow.type_char(ch)
    assert flow.view()["typed"] == "YY2026"
    flow.lookup_appointment()
    assert flow.state == "appointment_found"
    assert flow.view()["appointment"]["service_name"] == "不动产登记"
    flow.check_in()
    assert flow.state == "done"
    t = ctl.engine.ticket(flow.view()["ticket"]["code"])
    assert t.appointment == "YY2026" and t.service == "budongchan-register"


def test_unknown_appointment_says_so(hall):
    _, session = hall
    flow = session.start("appointment")
    for ch in "NOPE1":
        flow.type_char(ch)
    flow.lookup_appointment()
    assert flow.state == "appointment" and "NOPE1" in flow.message


def test_reader_missing_says_so_and_offers_other_ways(hall):
    _, session = hall
    flow = session.start("identify")  # no reader configured at all: said at once, the card shown disabled
    assert flow.message == tr("ticket.reader_unavailable") and "读卡器暂不可用" in flow.message
    methods = flow.view()["methods"]
    assert [(m["id"], m["enabled"]) for m in methods] == [
        ("card", False),
        ("qr", True),
        ("appointment", True),
        ("skip", True),
    ]
    assert methods[0]["sub"] == "读卡器暂不可用"
    flow.read_card()
    assert flow.state == "reader_unavailable" and "读卡器暂不可用" in flow.message
    flow.skip_identify()
    assert flow.state == "domain"
    flow.choose_service("yibao-reimburse")  # a 60+ citizen still has a way: 居民码, or staff at the desk
    v = flow.view()
    assert v["note"] == tr("ticket.priority.elderly_no_reader") and "服务台" in v["note"]
    assert v["scan_code"] == tr("ticket.priority.scan_code")


def test_timeout_returns_home_and_clears_personal_data(hall):
    ctl, session = hall
    clock = session.ctx.clock
    flow = session.start("appointment")
    for ch in "AB1234":
        flow.type_char(ch)
    clock.advance(59)
    assert not session.tick() and session.flow is flow
    clock.advance(2)
    assert session.tick()
    assert session.flow is None and session.screen() == "home"
    assert flow.finished and flow.timed_out
    assert flow.code_typed == "" and flow.identity is None and flow.appointment is None and flow.data == {}


def test_elder_mode_waits_longer(hall):
    _, session = hall
    session.set_elder(True)
    session.start("ticket")
    session.ctx.clock.advance(100)
    assert not session.tick()
    session.ctx.clock.advance(21)
    assert session.tick()


def test_done_screen_keeps_an_unprinted_number_longer(hall):
    _, session = hall
    flow = session.start("ticket")
    flow.choose_service("shuiwu-invoice")
    flow.choose_priority("normal")
    assert flow.state == "done" and not flow.view()["ticket"]["printed"]
    assert session.ctx.unprinted[-1]["code"] == flow.view()["ticket"]["code"]
    session.ctx.clock.advance(90)
    assert not session.tick()  # a printed ticket would be gone after 30 s
    session.ctx.clock.advance(31)
    assert session.tick() and flow.result is None


def test_controller_down_gives_a_clear_message_and_retry_works(tmp_hall, bus_factory):
    session = kiosk(bus_factory, request_timeout_s=0.6)
    assert not session.refresh_hall()  # no controller yet
    assert session.home_view()["offline_text"]
    # the kiosk still knows the hall from its last good hall.info in real life; give it the layout
    ctl = start_controller(tmp_hall, bus_factory)
    session.ctx.request_timeout_s = 5.0
    assert session.refresh_hall() and session.online
    ctl.stop()
    session.ctx.request_timeout_s = 0.6
    flow = session.start("ticket")
    flow.choose_service("zonghe-consult")
    flow.choose_priority("normal")
    assert flow.state == "bus_error" and "无法连接" in flow.message
    key = flow.key
    ctl2 = start_controller(tmp_hall, bus_factory)
    session.ctx.request_timeout_s = 5.0  # the retried request is re-sent until the new controller answers
    flow.retry()
    assert flow.state == "done" and flow.key == key
    assert ctl2.engine.ticket(flow.view()["ticket"]["code"]).service == "zonghe-consult"


def test_out_of_hours_staffed_closed_self_service_open(tmp_hall, bus_factory):
    close_the_hall(tmp_hall)
    ctl = start_controller(tmp_hall, bus_factory)
    session = kiosk(bus_factory)
    assert session.refresh_hall()
    assert session.screen() == "closed"
    home = session.home_view()
    assert not home["open_now"] and "非工作时间" in home["banner"]
    tiles = {t["id"]: t["enabled"] for t in home["tiles"]}
    assert (
        tiles["ticket"] and not tiles["identify"] and not tiles["appointment"] and tiles["progress"] and tiles["rate"]
    )
    flow = session.start("ticket")
    flow.choose_domain("zonghe")
    services = {s["id"]: s for s in flow.view()["services"]}
    assert not services["zonghe-consult"]["open"] and services["zonghe-pickup"]["open"]
    flow.choose_service("zonghe-consult")
    assert flow.state == "closed" and "仅在窗口服务时间办理" in flow.message
    flow.back()
    flow.choose_service("zonghe-pickup")  # self-service: no green-channel step, issued at once
    assert flow.state == "done"
    assert ctl.engine.ticket(flow.view()["ticket"]["code"]).service == "zonghe-pickup"


def test_english_at_any_time(hall):
    _, session = hall
    flow = session.start("ticket")
    flow.choose_domain("budongchan")
    assert flow.view()["prompt"].startswith("请选择办理事项")
    session.set_lang("en")
    v = flow.view()
    assert v["prompt"] == "Choose a service (Real estate)"
    assert [s["label"] for s in v["services"]] == ["Real estate registration", "Real estate title search"]
    assert session.home_view()["tiles"][0]["label"] == "Take a ticket"
