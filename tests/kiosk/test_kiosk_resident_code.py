"""Resident codes (居民码): only a signed, fresh code from a trusted issuer identifies anybody, and it
identifies the citizen exactly as their ID card does (same token, same 60+ green channel)."""

from __future__ import annotations

import datetime as dt
import time
import tomllib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from devices import idcard
from devices.config import DeviceConfig
from hall_bus import config as hallconfig
from hall_bus.config import ConfigError
from kiosk.i18n import tr
from kiosk.identify import identity_from_card
from kiosk.resident_code import NoVerifier, ResidentCodeRefused, SignedCodeVerifier, verifier_for
from simulators.cards import DECK
from simulators.resident_codes import DEMO_ISSUER_ID, ResidentCodeIssuer, public_key_pem
from tests.helpers import ROOT
from tests.kiosk.kiosk_helpers import kiosk, start_controller

SALT = b"test-salt-for-kiosk-tests"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def verifier() -> SignedCodeVerifier:
    """The demo hall's own verifier, built from the [identity] section of hall.toml."""
    verifier = verifier_for(hallconfig.load(ROOT / "hall.toml").identity)
    assert isinstance(verifier, SignedCodeVerifier)
    return verifier


def refused(verifier, code: str) -> str:
    with pytest.raises(ResidentCodeRefused) as info:
        verifier.verify(code, SALT, TODAY)
    return info.value.reason


def test_a_signed_code_gives_the_same_identity_as_the_id_card(verifier) -> None:
    code = ResidentCodeIssuer().issue_for_card(1)  # 李秀英, born 1955
    by_code = verifier.verify(code, SALT, TODAY)
    by_card = identity_from_card(DECK[1], SALT, TODAY)
    assert by_code.token == by_card.token and len(by_code.token) == 64
    assert (by_code.masked_id, by_code.masked_name, by_code.age) == (by_card.masked_id, by_card.masked_name, 71)
    assert by_code.source == "resident_code"
    assert DECK[1].id_number not in repr(by_code)  # the number is dropped once the token is made


def test_anything_else_is_refused_with_its_reason(verifier) -> None:
    issuer = ResidentCodeIssuer()
    assert refused(verifier, "HALLKIT-DOC-0000") == "not_resident_code"  # a document's QR
    assert refused(verifier, "https://example.org/a.b.c") == "not_resident_code"
    assert refused(verifier, ResidentCodeIssuer.unsigned(DECK[0].id_number)) == "unsigned"
    stranger = ResidentCodeIssuer("other-province", ec.generate_private_key(ec.SECP256R1()))
    assert refused(verifier, stranger.issue_for_card(0)) == "unknown_issuer"
    forger = ResidentCodeIssuer(DEMO_ISSUER_ID, ec.generate_private_key(ec.SECP256R1()))  # the demo's name, not its key
    assert refused(verifier, forger.issue_for_card(0)) == "bad_signature"
    header, payload, sig = issuer.issue_for_card(3).split(".")
    other_payload = issuer.issue_for_card(0).split(".")[1]  # someone else's payload under card 3's signature
    assert refused(verifier, f"{header}.{other_payload}.{sig}") == "bad_signature"
    assert refused(verifier, issuer.issue_for_card(0, now=time.time() - 600)) == "expired"  # older than max_age_s
    assert refused(verifier, issuer.issue_for_card(0, now=time.time() - 100, ttl_s=60)) == "expired"  # past exp
    assert refused(verifier, issuer.issue_for_card(0, now=time.time() + 3600)) == "not_yet_valid"
    assert refused(verifier, issuer.issue("110101194803121030", "王五")) == "bad_payload"  # bad check digit
    assert refused(NoVerifier(), issuer.issue_for_card(0)) == "unavailable"
    for reason in ("not_resident_code", "unsigned", "unknown_issuer", "bad_signature", "expired", "unavailable"):
        assert tr(f"ticket.resident_code.{reason}", "zh") and tr(f"ticket.resident_code.{reason}", "en")


def test_the_identity_section_is_checked_when_hall_toml_is_loaded() -> None:
    base = (ROOT / "hall.toml").read_text(encoding="utf-8")
    key = public_key_pem(ec.generate_private_key(ec.SECP256R1()))
    config = hallconfig.parse(
        {
            **_hall(base),
            "identity": {"max_age_s": 120, "issuers": [{"id": "prov-a", "name": "A", "public_key": key}]},
        }
    )
    assert config.identity.max_age_s == 120 and config.identity.issuers[0].id == "prov-a"
    assert "identity" not in config.extra
    for identity, where in (
        ({"issuers": [{"id": "prov-a", "public_key": "not a key"}]}, "identity.issuers[0].public_key"),
        ({"issuers": [{"id": "p", "public_key": key}, {"id": "p", "public_key": key}]}, "identity.issuers[1].id"),
        ({"max_age_s": 1}, "identity.max_age_s"),
        ({"trusted": []}, "identity.trusted"),
    ):
        with pytest.raises(ConfigError) as info:
            hallconfig.parse({**_hall(base), "identity": identity})
        assert info.value.key == where, info.value


def _hall(text: str) -> dict:
    data = tomllib.loads(text)
    data.pop("identity", None)
    return data


@pytest.fixture
def hall(tmp_hall, bus_factory, verifier):
    reader = idcard.IdCardReader(
        DeviceConfig(id="kiosk-1-idcard", kind="idcard", url="sim://idcard", profile="generic-sam", host="kiosk-1")
    ).open()
    scanner = CodeScanner()
    ctl = start_controller(tmp_hall, bus_factory)
    session = kiosk(bus_factory, devices={"idcard": reader, "scanner": scanner}, card_wait_s=5.0)
    session.ctx.resident_codes = verifier
    assert session.refresh_hall()
    yield ctl, session, reader.driver.port.simulator, scanner
    reader.close()


class CodeScanner:
    """The kiosk's code reader as the flow sees it: the next code shown to it (a citizen's phone)."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    def read_code(self, timeout: float) -> str | None:
        return self.shown.pop(0) if self.shown else None


def test_the_kiosk_refuses_a_document_qr_and_accepts_a_signed_code(hall) -> None:
    ctl, session, card_sim, scanner = hall
    flow = session.start("identify")
    scanner.shown.append("HALLKIT-DOC-0000")
    flow.scan_qr()
    assert flow.state == "identify" and flow.identity is None
    assert flow.message == tr("ticket.resident_code.not_resident_code")
    scanner.shown.append(ResidentCodeIssuer.unsigned(DECK[1].id_number))
    flow.scan_qr()
    assert flow.identity is None and flow.message == tr("ticket.resident_code.unsigned")
    scanner.shown.append(ResidentCodeIssuer().issue_for_card(1))  # born 1955: 60+
    flow.scan_qr()
    assert flow.state == "domain" and "居民码核验成功" in flow.message and flow.identity.age >= 60
    flow.choose_service("yibao-reimburse")
    assert flow.view()["priorities"][0] == {"id": "elderly", "label": "老年人绿色通道取号", "primary": True}
    flow.choose_priority("elderly")
    by_code = ctl.engine.ticket(flow.view()["ticket"]["code"])
    assert by_code.priority == "elderly"
    card_sim.insert(1)  # the same citizen with the ID card: the same token (their cases, pickups match)
    flow2 = session.start("identify")
    flow2.read_card()
    assert flow2.identity.token == by_code.identity_token
