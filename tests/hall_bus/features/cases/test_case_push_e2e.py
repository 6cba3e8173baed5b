"""办件进度实时推送 end to end: a real controller on the test broker, a window terminal's bus client and
the mock SMS gateway. A case update reaches the gateway exactly once: on the first try, after the
gateway failed twice, and when the controller stops mid-send and starts again."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hall_bus import config as hallconfig
from hall_bus.bus import topics
from hall_bus.bus.client import BusError, RequestFailed
from hall_bus.controller.service import HallController
from hall_bus.features.cases.feature import CasesFeature
from simulators.sms_gateway import SmsGateway
from tests.helpers import wait_for

TOKEN = "0123456789abcdef" * 4  # the citizen's identity token
SMS_TOKEN = "gateway-secret-1"


class PushHall:
    def __init__(self, tmp_hall: Path, bus_factory: Any, gateway: SmsGateway, **notify: Any) -> None:
        cfg = hallconfig.load(tmp_hall)
        settings = {"adapter": "http", "url": gateway.url, "retry_base_s": 0.05, "poll_s": 0.1, "timeout_s": 2.0}
        extra = {**cfg.extra, "cases": {"notify": {**settings, **notify}}}
        self.config = dataclasses.replace(cfg, extra=extra)
        self.bus_factory = bus_factory
        self.staff = bus_factory("window-6")
        self.events: list[dict[str, Any]] = []
        self.staff.subscribe(topics.event(cfg.hall_id, "case"), lambda _t, env: self.events.append(env.data))
        self.controller: HallController | None = None

    def start(self) -> PushHall:
        self.controller = HallController(self.config, self.bus_factory("controller")).start()
        wait_for(self._answers, what="controller answering")
        return self

    def _answers(self) -> bool:
        try:
            self.staff.request("case.lookup", {"case_no": "NONE0000"}, timeout=1.0)
        except RequestFailed:
            return True
        except BusError:
            return False
        return True

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def feature(self) -> CasesFeature:
        assert self.controller is not None
        feature = self.controller.features["cases"]
        assert isinstance(feature, CasesFeature)
        return feature

    def update(self, case_no: str, status: str, **more: Any) -> dict[str, Any]:
        data = {"case_no": case_no, "status": status, "actor": "S0106", **more}
        return self.staff.request("case.update", data)["case"]

    def create(self, case_no: str) -> dict[str, Any]:
        return self.update(case_no, "received", service="shebao-card", identity_token=TOKEN, title="社保卡申领")


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    g = SmsGateway(token=SMS_TOKEN).start()
    yield g
    g.stop()


@pytest.fixture
def hall(tmp_hall: Path, bus_factory: Any, gateway: SmsGateway, monkeypatch: pytest.MonkeyPatch) -> Iterator[PushHall]:
    monkeypatch.setenv("HALLKIT_SMS_TOKEN", SMS_TOKEN)
    h = PushHall(tmp_hall, bus_factory, gateway).start()
    yield h
    h.stop()


def test_a_case_update_reaches_the_gateway_exactly_once(
    hall: PushHall, gateway: SmsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hall.create("SB2026150001")
    hall.update("SB2026150001", "ready")
    wait_for(lambda: len(gateway.sent("SB2026150001")) == 2, what="both messages at the gateway")
    wait_for(lambda: all(m["state"] == "sent" for m in hall.feature.outbox.messages("SB2026150001")), what="acked")
    assert [m["status"] for m in gateway.sent("SB2026150001")] == ["received", "ready"]
    assert len(gateway.requests) == 2  # no retry, no duplicate
    ready = gateway.sent("SB2026150001")[1]
    assert ready["recipient"] == {"identity_token": TOKEN}
    assert "已办结待领取" in ready["text"] and "/case?no=SB2026150001" in ready["text"]
    assert TOKEN not in caplog.text  # the recipient is never logged


def test_every_status_change_publishes_an_event_without_personal_data(hall: PushHall) -> None:
    hall.create("SB2026150002")
    hall.update("SB2026150002", "processing")
    wait_for(lambda: len(hall.events) == 2, what="two case events")
    assert [e["status"] for e in hall.events] == ["received", "processing"]
    assert set(hall.events[0]) == {"case_no", "service", "status", "status_zh", "at"}


def test_no_message_without_a_recipient_or_for_a_status_left_out(hall: PushHall, gateway: SmsGateway) -> None:
    hall.update("SB2026150003", "received", service="shebao-card")  # no identity token: nobody to tell
    hall.create("SB2026150004")
    hall.update("SB2026150004", "deposited")  # the pickup feature sends its own message
    wait_for(lambda: len(gateway.sent()) == 1, what="the one message")
    assert [m["case_no"] for m in gateway.sent()] == ["SB2026150004"]
    assert hall.feature.outbox.messages("SB2026150003") == []


def test_a_gateway_failing_twice_gets_the_message_once_on_the_third_try(hall: PushHall, gateway: SmsGateway) -> None:
    gateway.fail_next(2)
    hall.create("SB2026150005")
    wait_for(lambda: hall.feature.outbox.messages("SB2026150005")[0]["state"] == "sent", what="sent after retries")
    assert [r.answered for r in gateway.requests] == [503, 503, 200]
    assert len({r.key for r in gateway.requests}) == 1  # one idempotency key for all attempts
    assert len(gateway.sent("SB2026150005")) == 1
    assert hall.feature.outbox.messages("SB2026150005")[0]["attempts"] == 3


def test_a_message_the_gateway_keeps_refusing_ends_failed(
    tmp_hall: Path, bus_factory: Any, gateway: SmsGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALLKIT_SMS_TOKEN", "not-the-gateway-token")  # 401: no retry can help
    hall = PushHall(tmp_hall, bus_factory, gateway).start()
    try:
        hall.create("SB2026150006")
        wait_for(lambda: hall.feature.outbox.messages("SB2026150006")[0]["state"] == "failed", what="failed")
        row = hall.feature.outbox.messages("SB2026150006")[0]
        assert row["attempts"] == 1 and "401" in row["last_error"] and gateway.sent() == []
    finally:
        hall.stop()


def test_a_controller_stopped_mid_send_resends_once_with_the_same_key(hall: PushHall, gateway: SmsGateway) -> None:
    gateway.hold_next(1)  # the gateway takes the message and never answers this request
    hall.create("SB2026150007")
    wait_for(lambda: len(gateway.requests) == 1, what="the message taken by the gateway")
    hall.stop()  # stopped after the outbox row was written and before the send was acknowledged
    gateway.release()
    row = _outbox_row(hall, "SB2026150007")
    assert (row["state"], row["attempts"]) == ("pending", 1)
    hall.start()
    wait_for(lambda: hall.feature.outbox.messages("SB2026150007")[0]["state"] == "sent", what="sent after restart")
    assert [r.answered for r in gateway.requests] == [None, 200]
    assert gateway.requests[0].key == gateway.requests[1].key
    assert len(gateway.sent("SB2026150007")) == 1  # the citizen gets one text


def test_a_restart_does_not_resend_what_was_acknowledged(hall: PushHall, gateway: SmsGateway) -> None:
    hall.create("SB2026150008")
    wait_for(lambda: hall.feature.outbox.messages("SB2026150008")[0]["state"] == "sent", what="sent")
    hall.stop()
    hall.start()
    hall.update("SB2026150008", "ready")
    wait_for(lambda: len(gateway.sent("SB2026150008")) == 2, what="the second message")
    assert len(gateway.requests) == 2


def _outbox_row(hall: PushHall, case_no: str) -> dict[str, Any]:
    """Read the store file of the stopped controller."""
    db = sqlite3.connect(Path(hall.config.data_dir) / f"{hall.config.hall_id}.db")
    db.row_factory = sqlite3.Row
    try:
        return dict(db.execute("SELECT * FROM case_messages WHERE case_no=?", (case_no,)).fetchone())
    finally:
        db.close()


# ------------------------------------------------------------------ the phone page's lookup
def test_the_receipt_code_opens_the_case_and_wrong_codes_lock_it(hall: PushHall, bus_factory: Any) -> None:
    hall.create("SB2026150009")
    receipt = hall.staff.request("case.receipt", {"case_no": "SB2026150009"})
    assert receipt["page_url"].endswith("/case?no=SB2026150009") and len(receipt["code"]) == 9
    web = bus_factory("web")
    case = web.request("case.progress", {"case_no": "SB2026150009", "code": receipt["code"].lower()})["case"]
    assert case["status"] == "received" and "identity_token" not in case
    for _ in range(4):
        with pytest.raises(RequestFailed) as wrong:
            web.request("case.progress", {"case_no": "SB2026150009", "code": "0000-0000"})
        assert wrong.value.code == "case_code"
    with pytest.raises(RequestFailed) as unknown:  # an unknown case answers like a wrong code
        web.request("case.progress", {"case_no": "SB2026159999", "code": receipt["code"]})
    assert unknown.value.code == "case_code"
    with pytest.raises(RequestFailed):
        web.request("case.progress", {"case_no": "SB2026150009", "code": "0000-0001"})  # the fifth: locks
    with pytest.raises(RequestFailed) as locked:
        web.request("case.progress", {"case_no": "SB2026150009", "code": receipt["code"]})
    assert locked.value.code == "case_code_locked"


def test_a_kiosk_may_neither_print_codes_nor_try_them(hall: PushHall, bus_factory: Any) -> None:
    hall.create("SB2026150010")
    kiosk = bus_factory("kiosk-1")
    for op, data in (
        ("case.receipt", {"case_no": "SB2026150010"}),
        ("case.progress", {"case_no": "SB2026150010", "code": "0000-0000"}),
    ):
        with pytest.raises(RequestFailed) as refused:
            kiosk.request(op, data)
        assert refused.value.code == "forbidden"
