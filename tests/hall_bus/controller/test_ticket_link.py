"""The ticket's signed phone link (hall_bus/controller/ticket_link.py): one ticket per token, nothing
for an altered one, the base URL from [web] public_url (default http://<host>:<port>/)."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from hall_bus import config as hallconfig
from hall_bus.config import ConfigError
from hall_bus.controller.ticket_link import TicketLinks, TicketRef, link_secret, public_url, sign, verify

KEY = b"k" * 32
TICKET = {"day": "2026-11-25", "code": "A012", "id": 42}


def test_a_token_names_its_ticket_and_nothing_else() -> None:
    token = sign(KEY, "hall-a", TICKET)
    assert token.startswith("20261125.A012.42.")
    assert verify(KEY, "hall-a", token) == TicketRef("2026-11-25", "A012", 42)
    sig = token.rsplit(".", 1)[1]
    assert len(sig) == 22  # 128 bits
    assert verify(KEY, "hall-b", token) is None  # another hall's
    assert verify(b"x" * 32, "hall-a", token) is None  # another key
    assert verify(KEY, "hall-a", token.replace("A012", "A013")) is None
    assert verify(KEY, "hall-a", token.replace(".42.", ".43.")) is None
    assert verify(KEY, "hall-a", token.replace("20261125", "20261126")) is None
    assert verify(KEY, "hall-a", token[:-1] + ("B" if token[-1] != "B" else "C")) is None
    for junk in ("", "A012", "../../etc/passwd", token + ".x", token.upper()):
        assert verify(KEY, "hall-a", junk) is None


def test_the_hall_key_is_made_once_in_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALLKIT_TICKET_LINK_SECRET", raising=False)
    first = link_secret(tmp_path)
    assert link_secret(tmp_path) == first and len(first) >= 32
    assert stat.S_IMODE(os.stat(tmp_path / "ticket-link.secret").st_mode) == 0o600
    monkeypatch.setenv("HALLKIT_TICKET_LINK_SECRET", "a-long-enough-secret")
    assert link_secret(tmp_path) == b"a-long-enough-secret"


def test_the_base_url_is_web_public_url_or_the_web_address(tmp_hall: Path) -> None:
    cfg = hallconfig.load(tmp_hall)
    assert public_url(cfg) == "http://127.0.0.1:8080/"
    web = dataclasses.replace(cfg, extra={**cfg.extra, "web": {"host": "10.1.2.3", "port": 8443}})
    assert public_url(web) == "http://10.1.2.3:8443/"
    web = dataclasses.replace(cfg, extra={**cfg.extra, "web": {"public_url": "https://hall.example.gov.cn/q"}})
    assert public_url(web) == "https://hall.example.gov.cn/q/"
    links = TicketLinks(web)
    url = links.url_of(TICKET)
    assert url.startswith("https://hall.example.gov.cn/q/t/20261125.A012.42.")
    assert verify(links.secret, cfg.hall_id, url.rsplit("/", 1)[1]) is not None
    bad = dataclasses.replace(cfg, extra={**cfg.extra, "web": {"public_url": "hall.example.gov.cn"}})
    with pytest.raises(ConfigError, match="web.public_url"):
        public_url(bad)
