"""Telling a citizen that a case moved (办件进度实时推送): the message and the adapters that send it.

An adapter sends one :class:`CaseMessage` once and says how it went: it returns when the other end
acknowledged the message, and raises :class:`NotifyError` when it did not (``retry`` says whether
another attempt may succeed). Retries, backoff and "at most once across a restart" are not the
adapter's business: the outbox (:mod:`hall_bus.features.cases.notify_outbox`) records every message
in the store with its idempotency key and calls the adapter again, with the same key, until one
attempt is acknowledged.

* :class:`LoggingNotifier` (``log``, the default) writes the text to the log, never the recipient.
* :class:`MemoryNotifier` (``memory``) keeps the messages in memory: tests and the demo screen.
* :class:`HttpSmsNotifier` (``http``) POSTs JSON to an SMS gateway with a bearer token and an
  ``Idempotency-Key`` header; a gateway that has seen the key answers 2xx and sends nothing again.
* :class:`WeChatTemplateNotifier` (``wechat``): a WeChat / mini-program template message (模板消息,
  订阅消息) handed to the hall's relay, which holds the WeChat access token and maps the recipient
  to an openid. Without an endpoint it raises "not configured": it never pretends to have sent.

The recipient is the case's identity token (the salted hash of the ID number): the gateway or the
relay resolves it to a phone number or an openid. HallKit holds no phone number for a case, and
neither the token nor any number is ever written to the log.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from hall_bus.features.cases.notify_config import NotifySettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseMessage:
    id: int  # the outbox row
    idempotency_key: str  # the same on every attempt, also after a restart
    hall: str
    case_no: str
    status: str
    recipient: str  # the case's identity token: never logged
    text: str  # no personal data: the case number, its title and its status

    def payload(self) -> dict[str, Any]:
        return {
            "idempotency_key": self.idempotency_key,
            "hall": self.hall,
            "case_no": self.case_no,
            "status": self.status,
            "recipient": {"identity_token": self.recipient},
            "text": self.text,
        }


NEXT_STEP_ZH = {
    "ready": "请携带身份证到大厅领取",
    "returned": "请到窗口咨询",
}


def case_text(hall_name: str, page_url: str, case_no: str, title: str, status_zh: str, status: str) -> str:
    """The text of a case message: the case, its new status, what to do next and the page to follow it.
    No name, no ID number, no code: whoever reads the phone learns only what the receipt says."""
    step = NEXT_STEP_ZH.get(status)
    return (
        f"【{hall_name}】您的办件“{title}”（编号 {case_no}）{status_zh}"
        + (f"，{step}" if step else "")
        + f"。查询进度：{page_url}（凭回执查询码）"
    )


class NotifyError(Exception):
    """A message was not acknowledged. ``retry``: another attempt may succeed (the gateway is away or
    busy); ``False``: it never will (refused, not configured)."""

    def __init__(self, reason: str, retry: bool = True) -> None:
        super().__init__(reason)
        self.retry = retry


class NotConfigured(NotifyError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, retry=False)


class Notifier(Protocol):
    name: str

    def send(self, message: CaseMessage) -> None: ...


class LoggingNotifier:
    """Logs the text (case number and status only), never the recipient."""

    name = "log"

    def send(self, message: CaseMessage) -> None:
        log.info("case message %d for case %s: %s", message.id, message.case_no, message.text)


class MemoryNotifier:
    """Keeps every message in memory (tests, the demo); one per hall, see :func:`memory_outbox`."""

    name = "memory"

    def __init__(self) -> None:
        self.sent: list[CaseMessage] = []
        self._cond = threading.Condition()

    def send(self, message: CaseMessage) -> None:
        with self._cond:
            self.sent.append(message)
            self._cond.notify_all()

    def wait_for(self, case_no: str, status: str, timeout: float = 10.0) -> CaseMessage:
        def found() -> CaseMessage | None:
            return next((m for m in self.sent if m.case_no == case_no and m.status == status), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None, timeout)
            message = found()
        if message is None:
            raise LookupError(f"no message for case {case_no} ({status}) within {timeout} s")
        return message


_memory: dict[str, MemoryNotifier] = {}
_memory_lock = threading.Lock()


def memory_outbox(hall: str) -> MemoryNotifier:
    with _memory_lock:
        return _memory.setdefault(hall, MemoryNotifier())


def _post(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> None:
    """POST JSON; returns on 2xx, raises :class:`NotifyError` otherwise (the body is never in the error)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(4096)
    except urllib.error.HTTPError as exc:
        retry = exc.code >= 500 or exc.code in (408, 425, 429)
        raise NotifyError(f"gateway answered HTTP {exc.code}", retry=retry) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifyError(f"gateway not reached: {type(reason).__name__}: {reason}") from None


class HttpSmsNotifier:
    """An SMS gateway over HTTP: ``POST url`` with ``Authorization: Bearer <token>``,
    ``Idempotency-Key: <key>`` and the JSON of :meth:`CaseMessage.payload`. Any 2xx is an
    acknowledgement (also "seen this key before"); 5xx, 408, 429 and a lost connection are worth
    another attempt; any other answer is final."""

    name = "http"

    def __init__(self, url: str, token: str | None, timeout_s: float = 5.0) -> None:
        self.url, self.token, self.timeout_s = url, token, timeout_s

    def send(self, message: CaseMessage) -> None:
        headers = {"Idempotency-Key": message.idempotency_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        _post(self.url, message.payload(), headers, self.timeout_s)


class WeChatTemplateNotifier:
    """A WeChat template message (模板消息 / 小程序订阅消息) through the hall's relay.

    WeChat's own API needs an access token refreshed every two hours and the citizen's openid; both
    belong to the relay the hall runs (or its provincial platform), not to the controller. This
    adapter POSTs ``{idempotency_key, template_id, recipient, data}`` to ``endpoint``, where ``data``
    holds the template's fields (``case_no``, ``status``, ``text``). Without an endpoint or a
    template id every send raises :class:`NotConfigured`; it never reports a message as sent.
    """

    name = "wechat"

    def __init__(
        self, endpoint: str | None = None, template_id: str = "", token: str | None = None, timeout_s: float = 5.0
    ) -> None:
        self.endpoint, self.template_id, self.token, self.timeout_s = endpoint, template_id, token, timeout_s

    def send(self, message: CaseMessage) -> None:
        if not self.endpoint or not self.template_id:
            raise NotConfigured(
                "WeChat template messages are not configured: set [cases.notify] url (the relay) and template_id"
            )
        body = {
            "idempotency_key": message.idempotency_key,
            "template_id": self.template_id,
            "recipient": {"identity_token": message.recipient},
            "data": {"case_no": message.case_no, "status": message.status, "text": message.text},
        }
        headers = {"Idempotency-Key": message.idempotency_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        _post(self.endpoint, body, headers, self.timeout_s)


def make_notifier(settings: NotifySettings, hall: str) -> Notifier:
    """The adapter ``[cases.notify] adapter`` names; ``package.module:Class`` is built with the settings."""
    if settings.adapter == "log":
        return LoggingNotifier()
    if settings.adapter == "memory":
        return memory_outbox(hall)
    if settings.adapter == "http":
        assert settings.url is not None  # (from_config requires it)
        return HttpSmsNotifier(settings.url, settings.token(), settings.timeout_s)
    if settings.adapter == "wechat":
        return WeChatTemplateNotifier(settings.url, settings.template_id, settings.token(), settings.timeout_s)
    module, _, attr = settings.adapter.partition(":")
    notifier: Notifier = getattr(importlib.import_module(module), attr)(**asdict(settings))
    return notifier
