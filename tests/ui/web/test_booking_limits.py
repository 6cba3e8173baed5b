"""One address may not fill the appointments with numbers of its own: /api/book takes at most
``[web] bookings_per_client_hour`` bookings an hour from one client address (then 429 with the
sentence of ``rate_limited``); the bookings it made stand, and another address still books."""

from __future__ import annotations

import httpx
import pytest

from tests.ui.web.conftest import WebHall
from tests.ui.web.test_phone_booking import _first_day
from ui.web.settings import WebSettings


@pytest.fixture
def web_settings() -> WebSettings:
    return WebSettings(port=0, bookings_per_client_hour=3)


def test_one_address_books_at_most_its_hourly_share(web_hall: WebHall, bus_factory) -> None:
    day = _first_day(web_hall)
    web = bus_factory("web")
    slots = [s for s in web.request("booking.slots", {"service": "gongan-hukou", "date": day})["slots"] if s["open"]]
    assert len(slots) >= 4

    def book(i: int) -> httpx.Response:
        body = {"service": "gongan-hukou", "slot_start": slots[i]["start"], "phone": f"1391234{i:04d}"}
        return httpx.post(f"{web_hall.url}/api/book", json=body, verify=False)

    made = [book(i) for i in range(3)]
    assert [r.status_code for r in made] == [200, 200, 200]
    refused = book(3)
    assert refused.status_code == 429
    assert refused.json() == {"ok": False, "code": "rate_limited", "message": "操作过于频繁，请稍后再试"}
    listed = web.request("booking.list", {"date": day, "service": "gongan-hukou"})
    assert listed["totals"]["booked"] == 3  # what it booked stands; the fourth never reached the controller
