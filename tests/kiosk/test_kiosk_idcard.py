"""Identify with the real ID card reader device on its simulator (sim://idcard)."""

from __future__ import annotations

import threading
import time

import pytest

from devices import idcard
from devices.config import DeviceConfig
from kiosk.i18n import tr
from simulators.demo_cases import seed_demo_cases
from tests.kiosk.kiosk_helpers import kiosk, start_controller


@pytest.fixture
def reader():
    dev = idcard.IdCardReader(
        DeviceConfig(id="kiosk-1-idcard", kind="idcard", url="sim://idcard", profile="generic-sam", host="kiosk-1")
    ).open()
    yield dev, dev.driver.port.simulator
    dev.close()


@pytest.fixture
def hall(tmp_hall, bus_factory, reader):
    ctl = start_controller(tmp_hall, bus_factory)
    session = kiosk(bus_factory, devices={"idcard": reader[0]}, card_wait_s=5.0)
    assert session.refresh_hall()
    return ctl, session


def test_card_identifies_and_gives_the_elderly_green_channel(hall, reader):
    ctl, session = hall
    _, sim = reader
    sim.insert(0)  # born 1948
    flow = session.start("identify")
    flow.read_card()
    assert flow.state == "domain" and flow.message == "您好，" + flow.identity.masked_name
    assert flow.identity.masked_id == "1101**********103X" and flow.identity.age >= 60
    assert flow.view()["identity"]["elderly"] is True
    flow.choose_service("shebao-card")
    # proven 60+: the elderly ticket is the one-tap default; the question offers only the other classes
    v = flow.view()
    assert [(p["id"], p["primary"]) for p in v["priorities"]] == [
        ("elderly", True),
        ("disabled", False),
        ("pregnant", False),
        ("military", False),
    ]
    assert v["prompt"] == "已为您开通老年人绿色通道，请点击取号" and "是否需要" not in v["prompt"]
    assert flow.priority == "elderly"
    flow.choose_priority(v["priorities"][0]["id"])
    assert flow.state == "done"
    t = ctl.engine.ticket(flow.view()["ticket"]["code"])
    assert t.priority == "elderly" and len(t.identity_token) == 64
    # the same card read again gives the same token (so pickup and progress can match it), never the number
    flow2 = session.start("identify")
    flow2.read_card()
    assert flow2.identity.token == t.identity_token
    assert "1101" not in t.identity_token


def test_younger_citizen_gets_no_automatic_green_channel(hall, reader):
    _, session = hall
    reader[1].insert(3)  # born 1987
    flow = session.start("identify")
    flow.read_card()
    flow.choose_service("gongan-hukou")
    assert flow.priority == "normal" and "elderly" not in [p["id"] for p in flow.view()["priorities"]]


def test_no_card_in_time_says_so(hall, reader):
    _, session = hall
    session.ctx.card_wait_s = 0.6
    flow = session.start("identify")
    flow.read_card()
    assert flow.state == "identify" and "未检测到身份证" in flow.message


def test_leaving_while_the_reader_waits_keeps_nothing(hall, reader):
    _, session = hall
    _, sim = reader
    flow = session.start("identify")
    t = threading.Thread(target=flow.read_card)
    t.start()
    while flow.state != "reading_card":
        time.sleep(0.01)
    session.home()  # the citizen walks away; the wait is cancelled
    sim.insert(0)  # the next citizen's card arrives late
    t.join(3)
    assert not t.is_alive()
    assert flow.finished and flow.identity is None


def test_reader_unplugged_offers_other_ways(hall, reader):
    _, session = hall
    dev, _ = reader
    dev.driver.port.close()  # the cable is pulled: the transport is gone
    flow = session.start("identify")
    flow.read_card()
    assert flow.state == "reader_unavailable", flow.message
    assert "读卡器暂不可用" in flow.message
    methods = flow.view()["methods"]
    assert [m["id"] for m in methods if m["enabled"]] == ["qr", "appointment", "skip"]
    assert methods[0] == {"id": "card", "label": "刷身份证", "enabled": False, "sub": "读卡器暂不可用"}
    # the home screen tells the next citizen before they start
    session.home()
    home = session.home_view()
    assert tr("home.notice.reader") in home["notices"]
    assert {t["id"]: t["sub"] for t in home["tiles"]}["identify"] == tr("home.identify.no_reader")


def test_progress_by_card_finds_the_citizens_cases(tmp_hall, bus_factory, reader):
    from devices import identity
    from hall_bus import config as hallconfig

    ctl = start_controller(tmp_hall, bus_factory)
    identity.configure(hallconfig.load(tmp_hall).data_dir)  # the kiosk and the controller share the hall's salt
    session = kiosk(bus_factory, devices={"idcard": reader[0]}, card_wait_s=5.0)
    session.ctx.salt = None
    assert session.refresh_hall()
    seed_demo_cases(ctl)
    reader[1].insert(0)
    flow = session.start("progress")
    flow.by_card()
    assert flow.state == "result", flow.message
    cases = {c["case_no"]: c for c in flow.view()["cases"]}
    assert set(cases) == {"SB20261101001", "SB20261105003"}
    assert cases["SB20261101001"]["status"] == "已办结待领取"
    session.set_lang("en")
    assert flow.view()["cases"][0]["status"] in ("ready for collection",)
    flow.close()
    assert flow.cases == [] and flow.token is None
    flow2 = session.start("progress")
    flow2.by_number()
    for ch in "GA20261103001":
        flow2.type_char(ch)
    flow2.submit()
    assert flow2.state == "result" and flow2.view()["cases"][0]["title"] == "户口簿换发"
