"""The demo hall's data: appointments a visitor can check in, arrivals its windows keep up with."""

from __future__ import annotations

import time

from hall_bus import config as hallconfig
from kiosk.ticket_flow import APPOINTMENT_CHARS
from simulators.demo_cases import DEMO_APPOINTMENTS, seed_appointments
from tests.kiosk.kiosk_helpers import kiosk, start_controller
from ui.demo.hall import MEAN_FACTOR, UTILISATION, fitted_arrivals


def test_demo_appointments_can_be_checked_in_at_the_kiosk(tmp_hall, bus_factory) -> None:
    ctl = start_controller(tmp_hall, bus_factory)
    booked = seed_appointments(ctl)
    assert [b[0] for b in booked] == [a[0] for a in DEMO_APPOINTMENTS]
    assert any("I" in code or "O" in code for code, *_ in booked)  # letters the old keypad lacked
    session = kiosk(bus_factory)
    assert session.refresh_hall()
    for code, service, start, end in booked:
        assert set(code) <= set(APPOINTMENT_CHARS) and start < end and end > time.time()
        flow = session.start("appointment")
        for ch in code:
            flow.type_char(ch)  # the keys of the kiosk's keypad
        flow.lookup_appointment()
        assert flow.state == "appointment_found", flow.message
        flow.check_in()
        assert flow.state == "done", flow.message
        ticket = ctl.engine.ticket(flow.view()["ticket"]["code"])
        assert ticket.appointment == code and ticket.service == service


def test_the_demo_arrivals_fit_its_windows(hall_toml) -> None:
    config = hallconfig.load(hall_toml)
    peak = fitted_arrivals(config)
    assert 0.1 < peak < 1.2  # 1.2 a minute at the peak (the old default) swamped the windows
    mean = peak * MEAN_FACTOR
    # 不动产 has one window for 2/8.5 of the citizens at 12.5 minutes each: the tightest domain
    share, minutes = 2.0 / 8.5, (20 + 5) / 2
    assert mean * share * minutes <= UTILISATION * 1.0 + 1e-6
