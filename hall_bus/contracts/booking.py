"""Bus contracts of appointments (预约): ``booking.slots``, ``booking.book``, ``booking.cancel``, ``booking.list``
and ``booking.report``.

The citizens' booking page (the web server, client ``web``) and a provincial booking platform
(client ``integrator``) book through the same operations. A phone number goes in once, with
``booking.book``; no answer carries it back (only ``phone_masked``, 138****5678). The code a booking
answers is the appointment code the kiosk checks in with.
"""

from __future__ import annotations

from typing import Literal

from hall_bus.contracts.base import Closed, ContractSet, Open, RequestContract, array, integer, real, text
from hall_bus.contracts.evaluation import Label
from hall_bus.vocabulary import APPOINTMENT_PATTERN, ID_PATTERN

DAY = r"\d{4}-\d{2}-\d{2}"
Kind = Literal["regular", "saturday", "extended"]


class SlotView(Closed):
    start: float
    end: float
    label: str = text(description="local time, e.g. 09:00-09:30")
    kind: Kind
    capacity: int = integer(min=1)
    booked: int = integer(min=0)
    free: int = integer(min=0)
    open: bool  # bookable now: before the cut-off and within days ahead


class SlotsRequest(Closed):
    service: str = text(pattern=ID_PATTERN)
    date: str = text(pattern=DAY, description="the hall's local date")


class Slots(Closed):
    service: str = text()
    service_name: str = text()
    date: str = text()
    days: list[str] = array(description="the dates with slots from today to the last bookable day")
    slots: list[SlotView] = array()


class Book(Closed):
    service: str = text(pattern=ID_PATTERN)
    slot_start: float = real(min=0, description="a slot's start (epoch seconds) as booking.slots gives it")
    phone: str = text(min_len=11, max_len=20, pattern=r"[0-9+ -]+")


class Booked(Closed):
    code: str = text(pattern=APPOINTMENT_PATTERN)
    cancel_token: str = text(description="shown to the citizen once; cancels without the phone digits")
    service: str = text()
    service_name: str = text()
    slot_start: float
    slot_end: float
    label: str = text()
    date: str = text()
    kind: Kind
    phone_masked: str = text()
    free: int = integer(min=0)


class Cancel(Closed):
    code: str = text(pattern=APPOINTMENT_PATTERN)
    phone_last4: str = text(pattern=r"\d{4}", default=None)
    cancel_token: str = text(min_len=8, max_len=64, pattern=r"[A-Za-z0-9_-]+", default=None)


class Cancelled(Closed):
    code: str = text()
    service: str = text()
    slot_start: float
    slot_end: float


class ListRequest(Closed):
    date: str = text(pattern=DAY, description="the hall's local date")
    service: str = text(pattern=ID_PATTERN, default=None)


BookingState = Literal["booked", "checked_in", "no_show", "cancelled"]


class BookingView(Open):
    code: str = text()
    service: str = text()
    slot_start: float
    state: BookingState
    phone_masked: str = text()
    channel: str = text()
    ticket: str = text(default=None)


class SlotBookings(Closed):
    service: str = text()
    service_name: str = text()
    start: float
    end: float
    label: str = text()
    kind: Kind
    capacity: int = integer(min=0)
    booked: int = integer(min=0)
    checked_in: int = integer(min=0)
    no_show: int = integer(min=0)
    cancelled: int = integer(min=0)
    bookings: list[BookingView] = array()


class Totals(Closed):
    booked: int = integer(min=0)
    checked_in: int = integer(min=0)
    no_show: int = integer(min=0)
    cancelled: int = integer(min=0)


class BookingList(Closed):
    date: str = text()
    slots: list[SlotBookings] = array()
    totals: Totals


ReportGroup = Literal["day", "week", "month", "service"]


class ReportRequest(Closed):
    from_day: str = text(pattern=DAY, description="the hall's local date")
    to_day: str = text(pattern=DAY, description="inclusive; at most 366 days from from_day")
    group: ReportGroup = "day"
    service: str = text(pattern=ID_PATTERN, default=None, description="only this service's bookings")


class KeptFigures(Closed):
    """The bookings whose slot starts in a group, by state (the states of ``booking.list``)."""

    total: int = integer(min=0, description="every booking made, cancelled ones too")
    booked: int = integer(min=0, description="still to come: the slot has not ended, no check-in yet")
    checked_in: int = integer(min=0, description="a ticket was issued at the kiosk")
    no_show: int = integer(min=0, description="爽约: the slot ended without a check-in, or the ticket was a no-show")
    cancelled: int = integer(min=0)
    no_show_rate: float | None = real(min=0, max=1, description="no_show / (checked_in + no_show); none without a base")


class KeptRow(KeptFigures):
    key: str = text(description="a day 2026-11-24, a week 2026-W48, a month 2026-11 or a service id")
    label: Label | None


class BookingReport(Closed):
    hall: str = text()
    from_day: str = text(pattern=DAY)
    to_day: str = text(pattern=DAY)
    group: ReportGroup
    service: str | None = text(default=None)
    rows: list[KeptRow] = array(max_len=1000)
    totals: KeptFigures


CONTRACTS = ContractSet(
    requests=[
        RequestContract("booking.slots", SlotsRequest, Slots, "The slots of a service on a date, with free places."),
        RequestContract(
            "booking.book",
            Book,
            Booked,
            "Take a place of a slot for a phone number (stored only as a keyed hash and masked); "
            "answers the appointment code. slot_full when the last place is gone.",
        ),
        RequestContract(
            "booking.cancel", Cancel, Cancelled, "Cancel a booking with the phone's last 4 digits or its cancel token."
        ),
        RequestContract(
            "booking.list", ListRequest, BookingList, "Bookings per slot of a day, checked in and no-shows (manager)."
        ),
        RequestContract(
            "booking.report",
            ReportRequest,
            BookingReport,
            "Appointments kept over a date range up to a year, by day, week, month or service: booked, "
            "checked in, no-shows, cancelled and the no-show rate.",
        ),
    ]
)
