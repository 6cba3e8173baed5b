"""Appointments for the manager (预约管理): ``/bookings?date=YYYY-MM-DD``, managers and admins only.

Per slot of the day: the places, the bookings, how many checked in at the kiosk, the no-shows (a
slot that ended without a check-in, or a ticket called and never come) and the cancellations, each
booking with its code, masked phone number and ticket. Read from ``booking.list``; the page is
rendered on the server and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ui.web.accounts import Session
from ui.web.app import MANAGER, WebError, ctx_of, needs, render
from ui.web.i18n import strings

router = APIRouter()

strings(
    {
        "nav.bookings": ("预约管理", "Appointments"),  # for the NAV entry in ui/web/app.py
        "bookings.title": ("预约管理", "Appointments"),
        "bookings.date": ("日期", "Day"),
        "bookings.show": ("查看", "Show"),
        "bookings.slot": ("时段", "Time"),
        "bookings.service": ("事项", "Service"),
        "bookings.capacity": ("名额", "Places"),
        "bookings.booked": ("已预约", "Booked"),
        "bookings.checked_in": ("已签到", "Checked in"),
        "bookings.no_show": ("爽约", "No-shows"),
        "bookings.cancelled": ("已取消", "Cancelled"),
        "bookings.totals": ("当日合计", "Day total"),
        "bookings.code": ("预约码", "Code"),
        "bookings.phone": ("手机号", "Phone"),
        "bookings.ticket": ("取号", "Ticket"),
        "bookings.state": ("状态", "State"),
        "bookings.state.booked": ("待签到", "to come"),
        "bookings.state.checked_in": ("已签到", "checked in"),
        "bookings.state.no_show": ("爽约", "no-show"),
        "bookings.state.cancelled": ("已取消", "cancelled"),
        "bookings.kind.saturday": ("周六", "Saturday"),
        "bookings.kind.extended": ("延时", "Extended"),
        "bookings.none": ("当天没有预约时段。", "No appointment slots on this day."),
        "bookings.empty_slot": ("暂无预约", "no bookings"),
    }
)


@router.get("/bookings")
def bookings_page(request: Request, date: str | None = None, session: Session = Depends(needs(*MANAGER))) -> Response:
    web = ctx_of(request)
    day = dt.datetime.now(web.config.tz()).date()
    if date:
        try:
            day = dt.date.fromisoformat(date[:10])
        except ValueError:
            raise WebError("bad_form", 400) from None
    listed: dict[str, Any] = web.call("booking.list", {"date": day.isoformat()})
    return render(request, "bookings.html", session, day=day.isoformat(), listed=listed)
