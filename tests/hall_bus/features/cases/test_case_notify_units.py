"""The pieces of 办件进度推送 alone: the adapters against the mock SMS gateway, the settings of
``[cases.notify]``, and the verification code of the case page."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Iterator

import pytest

from hall_bus import config as hallconfig
from hall_bus.config import ConfigError
from hall_bus.features.cases import codes, notify_config
from hall_bus.features.cases.notify import (
    CaseMessage,
    HttpSmsNotifier,
    LoggingNotifier,
    MemoryNotifier,
    NotConfigured,
    NotifyError,
    WeChatTemplateNotifier,
    case_text,
    make_notifier,
)
from hall_bus.features.cases.store import MIGRATIONS
from simulators.sms_gateway import SmsGateway
from tests.helpers import ROOT

TOKEN = "a" * 64  # an identity token (the salted hash of an ID number)
MESSAGE = CaseMessage(7, "hall:SB1:3:k1", "hall", "SB20261101001", "ready", TOKEN, "【大厅】您的办件已办结")


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    g = SmsGateway(token="gw-token").start()
    yield g
    g.stop()


# ------------------------------------------------------------------ the http adapter
def test_the_http_adapter_posts_json_with_the_token_and_the_idempotency_key(gateway: SmsGateway) -> None:
    HttpSmsNotifier(gateway.url, "gw-token").send(MESSAGE)
    (req,) = gateway.requests
    assert req.key == "hall:SB1:3:k1" and req.answered == 200
    assert req.body["recipient"] == {"identity_token": TOKEN} and req.body["text"] == MESSAGE.text
    assert list(gateway.messages) == ["hall:SB1:3:k1"]


def test_the_gateway_sends_a_key_once_and_acknowledges_the_repeat(gateway: SmsGateway) -> None:
    notifier = HttpSmsNotifier(gateway.url, "gw-token")
    notifier.send(MESSAGE)
    notifier.send(MESSAGE)  # a retry after a lost answer: acknowledged, not sent again
    assert len(gateway.requests) == 2 and len(gateway.messages) == 1


def test_a_busy_gateway_is_worth_a_retry_and_a_refusal_is_not(gateway: SmsGateway) -> None:
    gateway.fail_next(1, status=503)
    with pytest.raises(NotifyError) as busy:
        HttpSmsNotifier(gateway.url, "gw-token").send(MESSAGE)
    assert busy.value.retry and "503" in str(busy.value)
    with pytest.raises(NotifyError) as refused:
        HttpSmsNotifier(gateway.url, "wrong-token").send(MESSAGE)
    assert not refused.value.retry and "401" in str(refused.value)
    assert gateway.messages == {}


def test_a_dropped_connection_is_worth_a_retry_and_the_message_was_taken(gateway: SmsGateway) -> None:
    gateway.drop_next(1)
    with pytest.raises(NotifyError) as dropped:
        HttpSmsNotifier(gateway.url, "gw-token", timeout_s=2).send(MESSAGE)
    assert dropped.value.retry
    assert gateway.requests[0].answered is None and len(gateway.messages) == 1


def test_an_unreachable_gateway_is_worth_a_retry() -> None:
    g = SmsGateway().start()
    url = g.url
    g.stop()
    with pytest.raises(NotifyError) as gone:
        HttpSmsNotifier(url, None, timeout_s=1).send(MESSAGE)
    assert gone.value.retry


# ------------------------------------------------------------------ the other adapters
def test_wechat_without_an_endpoint_says_not_configured_and_never_pretends() -> None:
    with pytest.raises(NotConfigured, match="not configured") as err:
        WeChatTemplateNotifier().send(MESSAGE)
    assert not err.value.retry
    with pytest.raises(NotConfigured):
        WeChatTemplateNotifier("http://127.0.0.1:9/relay").send(MESSAGE)  # no template id either


def test_wechat_with_a_relay_posts_the_template_message(gateway: SmsGateway) -> None:
    WeChatTemplateNotifier(gateway.url, "TPL-case-progress", "gw-token").send(MESSAGE)
    body = gateway.requests[0].body
    assert body["template_id"] == "TPL-case-progress" and body["data"]["case_no"] == MESSAGE.case_no


def test_the_log_adapter_never_logs_the_recipient(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        LoggingNotifier().send(MESSAGE)
    assert MESSAGE.case_no in caplog.text and TOKEN not in caplog.text


def test_the_memory_adapter_keeps_the_messages() -> None:
    memory = MemoryNotifier()
    memory.send(MESSAGE)
    assert memory.wait_for(MESSAGE.case_no, "ready", timeout=0.1) is MESSAGE
    with pytest.raises(LookupError):
        memory.wait_for(MESSAGE.case_no, "closed", timeout=0.05)


def test_the_text_names_the_case_and_its_status_and_nothing_personal() -> None:
    text = case_text("示范中心", "https://hall.example/case?no=SB1", "SB1", "社保卡申领", "已办结待领取", "ready")
    assert text == (
        "【示范中心】您的办件“社保卡申领”（编号 SB1）已办结待领取，请携带身份证到大厅领取。"
        "查询进度：https://hall.example/case?no=SB1（凭回执查询码）"
    )


# ------------------------------------------------------------------ [cases.notify]
def _config(cases: object) -> hallconfig.HallConfig:
    cfg = hallconfig.load(ROOT / "hall.toml")
    return dataclasses.replace(cfg, extra={**cfg.extra, "cases": cases})


def test_the_settings_default_to_the_log_adapter_without_deposited() -> None:
    settings = notify_config.from_config(_config({}))
    assert settings.adapter == "log" and "deposited" not in settings.statuses and "ready" in settings.statuses
    assert [settings.backoff(n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]


def test_the_demo_hall_configures_the_notifier() -> None:
    settings = notify_config.from_config(hallconfig.load(ROOT / "hall.toml"))
    assert settings.adapter in notify_config.ADAPTERS


@pytest.mark.parametrize(
    ("notify", "says"),
    [
        ({"adapter": "sms"}, "cases.notify.adapter"),
        ({"adapter": "http"}, "cases.notify.url"),
        ({"adapter": "http", "url": "ftp://x"}, "cases.notify.url"),
        ({"statuses": ["done"]}, "cases.notify.statuses"),
        ({"token": "secret"}, "cases.notify.token"),
        ({"max_attempts": 0}, "cases.notify.max_attempts"),
    ],
)
def test_wrong_settings_name_their_key(notify: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as err:
        notify_config.from_config(_config({"notify": notify}))
    assert says in str(err.value)


def test_make_notifier_builds_the_named_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALLKIT_SMS_TOKEN", "from-env")
    http = make_notifier(notify_config.NotifySettings(adapter="http", url="http://127.0.0.1:1/sms"), "h")
    assert isinstance(http, HttpSmsNotifier) and http.token == "from-env"
    assert isinstance(make_notifier(notify_config.NotifySettings(adapter="wechat"), "h"), WeChatTemplateNotifier)


# ------------------------------------------------------------------ the verification code
def test_the_code_is_eight_unambiguous_characters_tied_to_hall_and_case() -> None:
    secret = b"k" * 32
    code = codes.case_code(secret, "hall-a", "SB20261101001")
    assert len(code) == 8 and not set(code) & set("ILOU")
    assert code == codes.case_code(secret, "hall-a", "sb20261101001 ")
    assert code != codes.case_code(secret, "hall-b", "SB20261101001")
    assert code != codes.case_code(secret, "hall-a", "SB20261101002")
    assert code != codes.case_code(b"x" * 32, "hall-a", "SB20261101001")
    typed = codes.printed(code).lower().replace("0", "o").replace("1", "l")
    assert codes.matches(secret, "hall-a", "SB20261101001", typed)
    assert not codes.matches(secret, "hall-a", "SB20261101001", "0000-0000")


def test_five_wrong_codes_lock_a_case_for_a_while() -> None:
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.executescript(MIGRATIONS[1])
    for n in range(1, codes.MAX_FAILURES):
        assert not codes.count_failure(db, "SB1", 1000.0 + n)
        assert codes.locked_until(db, "SB1", 1000.0 + n) is None
    assert codes.count_failure(db, "SB1", 1010.0)
    assert codes.locked_until(db, "SB1", 1011.0) == 1010.0 + codes.LOCK_S
    assert codes.locked_until(db, "SB1", 1010.0 + codes.LOCK_S + 1) is None
    assert codes.locked_until(db, "SB2", 1011.0) is None  # another case is not locked
