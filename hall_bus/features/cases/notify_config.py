"""``[cases.notify]`` of hall.toml: how the citizen hears of a case's progress (办件进度实时推送).

::

    [cases.notify]
    adapter = "http"              # log (default) | memory | http (an SMS gateway) | wechat | package.module:Class
    url = "https://sms.example.gov.cn/api/send"   # http: the gateway's endpoint; wechat: the relay's
    token_env = "HALLKIT_SMS_TOKEN"               # the gateway's bearer token is read from this variable
    template_id = ""              # wechat: the template message (模板消息) id
    statuses = ["received", "processing", "ready", "collected", "returned", "closed"]
    timeout_s = 5.0               # one HTTP attempt
    max_attempts = 8              # then the message is marked failed (listed, never resent)
    retry_base_s = 5.0            # backoff after a failed attempt: base, 2 x base, 4 x base ... up to retry_max_s
    retry_max_s = 600.0
    poll_s = 2.0                  # the outbox worker looks for due messages this often (and at once on a change)

The token is never written in hall.toml: only the name of the environment variable that holds it.
``deposited`` is left out of ``statuses`` by default because the pickup feature sends its own message
(with the pickup code) when an item enters a locker.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator

from hall_bus.config import ConfigError, HallConfig, Section, between, checked, int_between, rule
from hall_bus.features.cases.store import STATUSES

ADAPTERS = ("log", "memory", "http", "wechat")
_CLASS = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
_ENV = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")
DEFAULT_STATUSES = tuple(s for s in STATUSES if s != "deposited")


def _adapter(value: Any) -> Any:
    if not isinstance(value, str) or not (value in ADAPTERS or _CLASS.fullmatch(value)):
        raise ValueError(f"must be one of {', '.join(ADAPTERS)} or package.module:Class, got {value!r}")
    return value


def _statuses(value: Any) -> Any:
    if not isinstance(value, list) or not all(isinstance(s, str) and s in STATUSES for s in value):
        raise ValueError(f"must be an array of case statuses ({', '.join(STATUSES)})")
    return value


def _is_url(value: str) -> bool:
    return re.fullmatch(r"https?://[^\s/?#]+(/[^\s#]*)?", value) is not None


class NotifySection(Section):
    """``[cases.notify]``: every key optional."""

    unknown_word: ClassVar[str] = "known"

    adapter: Annotated[str, BeforeValidator(_adapter)] = "log"
    url: Annotated[str, rule(_is_url, "must be an http:// or https:// address")] | None = None
    token_env: Annotated[str, rule(lambda v: _ENV.fullmatch(v) is not None, "must be an environment variable name")] = (
        "HALLKIT_SMS_TOKEN"
    )
    template_id: Annotated[str, rule(lambda v: len(v) <= 64, "must be at most 64 characters")] = ""
    statuses: Annotated[list[str], BeforeValidator(_statuses)] = list(DEFAULT_STATUSES)
    timeout_s: Annotated[float, between(0.1, 60)] = 5.0
    max_attempts: Annotated[int, int_between(1, 100)] = 8
    retry_base_s: Annotated[float, between(0.01, 3600)] = 5.0
    retry_max_s: Annotated[float, between(0.01, 86400)] = 600.0
    poll_s: Annotated[float, between(0.05, 60)] = 2.0


class CasesSection(Section):
    """``[cases]``: only the ``notify`` table so far."""

    unknown_word: ClassVar[str] = "known"

    notify: NotifySection = NotifySection()


@dataclass(frozen=True)
class NotifySettings:
    adapter: str = "log"
    url: str | None = None
    token_env: str = "HALLKIT_SMS_TOKEN"
    template_id: str = ""
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    timeout_s: float = 5.0
    max_attempts: int = 8
    retry_base_s: float = 5.0
    retry_max_s: float = 600.0
    poll_s: float = 2.0

    def token(self) -> str | None:
        """The gateway's bearer token from the environment (``None`` when the variable is unset)."""
        return os.environ.get(self.token_env) or None

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        return float(min(self.retry_base_s * 2 ** max(attempts - 1, 0), self.retry_max_s))


def from_config(config: HallConfig) -> NotifySettings:
    raw = config.extra.get("cases", {}) or {}
    if not isinstance(raw, dict):
        raise ConfigError(config.source, "cases", "must be a table")
    section = checked(CasesSection, raw, config.source, "cases").notify
    if section.adapter == "http" and section.url is None:
        raise ConfigError(config.source, "cases.notify.url", "the http adapter needs the gateway's url")
    values = section.model_dump()
    values["statuses"] = tuple(values["statuses"])
    return NotifySettings(**values)
