"""The demo's F11: a phone with a signed 居民码 under the kiosk's scanner identifies the card's holder."""

from __future__ import annotations

from hall_bus import config as hallconfig
from kiosk.flow import KioskContext
from kiosk.identify import identity_from_card
from kiosk.resident_code import verifier_for
from kiosk.ticket_flow import TicketFlow
from simulators.cards import DECK
from simulators.resident_codes import ResidentCodeIssuer
from tests.helpers import ROOT
from ui.demo.app import PhoneAtScanner


class Camera:
    """The document camera as the kiosk sees it: the QR codes on the desk (a document's)."""

    def __init__(self) -> None:
        self.should_stop = lambda: False

    def read_code(self, timeout: float) -> str | None:
        return "HALLKIT-DOC-0000"


def test_a_phone_under_the_scanner_is_read_before_the_desk() -> None:
    camera = Camera()
    phone = PhoneAtScanner(camera)
    verifier = verifier_for(hallconfig.load(ROOT / "hall.toml").identity)
    ctx = KioskContext(kiosk_id="kiosk-1", bus=None, devices={"scanner": phone}, salt=b"s", resident_codes=verifier)
    flow = TicketFlow(ctx, start="identify")
    flow.scan_qr()  # only the document on the desk: refused
    assert flow.identity is None and "不是居民码" in flow.message
    phone.show(ResidentCodeIssuer().issue_for_card(0))
    flow.scan_qr()
    assert flow.identity is not None and flow.identity.token == identity_from_card(DECK[0], b"s").token
    stop = lambda: True  # noqa: E731
    phone.should_stop = stop  # the flow's cancel reaches the real scanner
    assert camera.should_stop is stop
