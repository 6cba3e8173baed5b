"""The kiosk's pickup flow (kiosk/pickup_flow.py) against the real controller, locker host and locker
simulator over mosquitto, with the real ID card reader and receipt printer devices on their simulators."""

from __future__ import annotations

import pytest

from devices.config import DeviceConfig
from hall_bus.bus.client import RequestFailed
from kiosk.clock import hall_time
from kiosk.flow import KioskContext
from kiosk.pickup_flow import PickupFlow
from kiosk.session import KioskSession
from simulators import registry
from tests.hall_bus.features.pickup.pickup_harness import TOKEN_SALT, PickupHall
from tests.helpers import wait_for

CARD = "11010119480312103X"  # card 0 of the simulated deck


class FakeClock:
    """Drives the inactivity timeouts (time itself is not under test)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def hall(tmp_hall, bus_factory):
    h = PickupHall(tmp_hall, bus_factory).start()
    yield h
    h.stop()


@pytest.fixture
def devices(hall):
    from devices.idcard import IdCardReader
    from devices.printer import ReceiptPrinter

    name = f"printer-{hall.config.hall_id}"
    reader = IdCardReader(
        DeviceConfig(id="kiosk-1-idcard", kind="idcard", url="sim://idcard", profile="generic-sam", host="kiosk-1")
    ).open()
    printer = ReceiptPrinter(
        DeviceConfig(
            id="kiosk-1-printer", kind="printer", url=f"sim://printer?id={name}", profile="generic-80mm", host="kiosk-1"
        )
    ).open()
    yield {"idcard": reader, "printer": printer}, reader.driver.port.simulator, registry.instance(name)
    reader.close()
    printer.close()


def session_for(hall, devices=None) -> tuple[KioskSession, FakeClock]:
    clock = FakeClock()
    ctx = KioskContext(
        kiosk_id="kiosk-1",
        bus=hall.kiosk,
        devices=devices or {},
        clock=clock,
        salt=TOKEN_SALT,
        card_wait_s=5.0,
        hall={"name": "示范区政务服务中心", "open_now": True},
    )
    return KioskSession(ctx), clock


def wait_state(flow: PickupFlow, clock: FakeClock, *states: str) -> None:
    def done():
        clock.t += 1.0  # lets tick() poll again
        flow.tick()
        return flow.state in states

    wait_for(done, what=f"flow state {states} (now {flow.state}: {flow.message})")


def test_card_two_items_one_after_the_other_then_slip(hall, devices):
    devs, card_sim, printer_sim = devices
    a = hall.deposit("SB2026003001", size="S")
    b = hall.deposit("SB2026003002", size="M")
    session, clock = session_for(hall, devs)
    flow = session.start("pickup")
    assert isinstance(flow, PickupFlow) and flow.state == "identify" and flow.view()["keypad"]
    card_sim.insert(0)
    flow.by_card()
    assert flow.state == "choose_items", flow.message
    v = flow.view()
    assert [i["compartment"] for i in v["items"]] == [a["comp"].no, b["comp"].no]
    assert v["message_zh"] == "找到 2 件待取物品，请选择" and v["message_en"].startswith("2 item(s)")
    assert CARD not in str(v) and "SB2026003001" not in str(v)  # masked: no ID number, no full case number
    assert {"id": "choose", "arg": "all", "label": "全部打开（2 件）", "role": "primary"} in v["actions"]
    flow.choose([a["item"]["item_id"]])
    assert flow.state == "waiting_close", flow.message
    assert f"{a['comp'].no}（{a['comp'].position}）" in flow.message
    assert flow.view()["opened"] == [
        {"item_id": a["item"]["item_id"], "compartment": a["comp"].no, "position": a["comp"].position, "door": "open"}
    ]
    hall.sim.close_door(a["comp"].board, a["comp"].lock)
    wait_state(flow, clock, "choose_items")
    assert flow.view()["message_en"] == "1 collected, 1 more waiting"
    flow.choose("all")
    assert flow.state == "waiting_close"
    hall.sim.close_door(b["comp"].board, b["comp"].lock)
    wait_state(flow, clock, "done")
    assert [x["id"] for x in flow.view()["actions"]] == ["print_slip", "cancel"]
    flow.print_slip()
    pages = printer_sim.wait_pages(2)
    assert "SB2026003001" in pages[0].text and "1101**********103X" in pages[0].text and CARD not in pages[0].text
    assert a["comp"].no in pages[0].text and "SB2026003002" in pages[1].text
    assert flow.view()["message_zh"] == "凭条已打印"
    collected = flow.collected[0].collected_at
    assert collected and f"{hall_time(session.ctx.hall, collected):%Y-%m-%d %H:%M}" in pages[0].text  # the hall's clock
    flow.cancel()
    assert flow.finished and flow.items == [] and flow.masked_id == "" and session.flow is None


def test_code_keypad_wrong_codes_lock_out(hall):
    d = hall.deposit("SB2026003101")
    session, clock = session_for(hall)
    flow = session.start("pickup")
    wrong = "123456" if d["code"] != "123456" else "654321"
    for n in range(4):
        for ch in wrong:
            flow.type_char(ch)
        flow.submit()
        assert flow.state == "identify" and flow.view()["message_zh"] == f"取件码不正确，还可尝试 {4 - n} 次"
    flow.submit_code("12")
    assert flow.view()["message_en"] == "Please type the 6-8 digit pickup code"
    flow.submit_code(wrong)
    assert flow.state == "locked_out" and flow.locked_s > 0
    flow.start()
    flow.submit_code(d["code"])
    assert flow.state == "locked_out"


def test_qr_then_jammed_door_tells_the_citizen_to_seek_help(hall):
    d = hall.deposit("SB2026003201")
    hall.sim.script(d["comp"].board, d["comp"].lock, "jammed")
    session, clock = session_for(hall)
    flow = session.start("pickup")
    flow.submit_qr("HKP1.not.valid")
    assert flow.state == "identify" and "二维码无效" in flow.message
    flow.submit_qr(d["qr"])
    assert flow.state == "choose_items"
    flow.choose("all")
    assert flow.state == "error", flow.message
    v = flow.view()
    assert v["failed"][0]["compartment"] == d["comp"].no and "请联系工作人员" in v["message_zh"]
    assert hall.item(d["item"]["item_id"])["state"] == "deposited"


def test_idle_then_timeout_clears_everything(hall):
    hall.deposit("SB2026003301")
    session, clock = session_for(hall)
    flow = PickupFlow(session.ctx, autostart=False)
    assert flow.state == "idle"
    flow.start()
    from tests.hall_bus.features.pickup.pickup_harness import token_of

    flow.card_read(token_of(CARD))
    assert flow.state == "choose_items" and flow.session is not None
    clock.t += 61
    assert flow.tick() is True
    assert flow.finished and flow.session is None and flow.items == []


def test_kiosk_restart_while_the_door_is_open_loses_nothing(hall):
    a = hall.deposit("SB2026003401")
    b = hall.deposit("SB2026003402")
    session, clock = session_for(hall)
    flow = session.start("pickup")
    flow.submit_code(a["code"])
    flow.choose("all")
    assert flow.state == "waiting_close"
    session.home()  # the kiosk app restarts: the flow and its session id are gone
    hall.sim.close_door(a["comp"].board, a["comp"].lock)
    wait_for(lambda: hall.item(a["item"]["item_id"])["state"] == "collected", what="collected without the kiosk")
    session2, clock2 = session_for(hall)
    flow2 = session2.start("pickup")
    flow2.submit_code(b["code"])  # the other item is still there, its code still valid
    assert flow2.state == "choose_items" and [i.item_id for i in flow2.items] == [b["item"]["item_id"]]
    flow2.submit_code(a["code"])
    assert flow2.state == "identify" and "取件码不正确" in flow2.message  # a's code was used


def test_door_left_open_reminds_on_screen(hall):
    d = hall.deposit("SB2026003501")
    session, clock = session_for(hall)
    flow = session.start("pickup")
    flow.reminder_s = 0.5  # the hall's setting is 20 s
    flow.submit_code(d["code"])
    flow.choose("all")
    assert flow.state == "waiting_close" and flow.view()["message_en"].startswith("Please collect from")

    def reminded() -> bool:
        clock.t += 1.0
        flow.tick()
        return "柜门仍未关闭" in flow.view()["message_zh"]

    wait_for(reminded, what="reminder")
    assert flow.view()["items"][0]["door_open_s"] >= 0.5
    hall.sim.close_door(d["comp"].board, d["comp"].lock)
    wait_state(flow, clock, "done")


class RefusingBus:
    """A bus whose controller refuses every request with one error code (its detail in English)."""

    connected = True

    def __init__(self, code: str) -> None:
        self.code = code

    def call(self, op, request, reply, timeout=5.0, retry_s=1.0, topic=None):
        raise RequestFailed(op, self.code, f"{op} refused by kiosk policy for kiosk-1")


def test_refusals_and_printer_trouble_are_sentences_in_both_languages():
    ctx = KioskContext(kiosk_id="kiosk-1", bus=RefusingBus("rate_limited"), clock=FakeClock())
    flow = PickupFlow(ctx)
    flow.start()
    flow.submit_code("12345678")
    v = flow.view()
    assert v["message_zh"] == "操作失败：操作过于频繁，请稍后再试"  # was "操作失败：pickup.identify refused ..."
    assert v["message_en"] == "Failed: Too many requests; please wait a moment and try again"
    flow.print_slip()  # no printer at this kiosk: was "打印机暂不可用：none"
    assert flow.view()["message_zh"] == "打印机暂不可用：设备离线，请联系工作人员"
