"""Booking an appointment on the phone (预约), no login: ``/book``.

* ``GET /book``: the bookable services (``[booking]`` of hall.toml), the dates one may book, and
  for the chosen service and date the slots with their free places (``GET /api/book/slots``, which
  asks the controller ``booking.slots``).
* ``POST /api/book`` (JSON ``{service, slot_start, phone}``): ``booking.book``. The answer is the
  appointment code, its QR (``APPT:<code>``, the form the kiosk's scanner reads; an SVG data URL made
  here, nothing fetched from elsewhere), the slot, the masked phone number and a cancel token shown
  once. A full slot is refused with its sentence (``slot_full``).
* ``POST /api/book/cancel`` (JSON ``{code, phone_last4 | cancel_token}``): ``booking.cancel``.

The phone number passes through to the controller and is neither logged nor shown again. Changes
need no CSRF token (there is no session to ride): they take JSON only, which another site cannot
send without a CORS preflight this server never answers, and a foreign ``Origin`` is refused.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import time
from typing import Any

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from hall_bus.features.booking import rules as booking_rules
from hall_bus.features.booking.rules import BookingSettings
from hall_bus.features.booking.store import BookingError, normal_phone
from ui.web.app import WebContext, WebError, ctx_of, lang_of, render
from ui.web.i18n import strings
from ui.web.limits import window_of

router = APIRouter()

WEEKDAYS = (
    ("周一", "Mon"),
    ("周二", "Tue"),
    ("周三", "Wed"),
    ("周四", "Thu"),
    ("周五", "Fri"),
    ("周六", "Sat"),
    ("周日", "Sun"),
)

strings(
    {
        "book.title": ("预约办事", "Book an appointment"),
        "book.intro": (
            "选择事项、日期和时段，凭预约码到大厅自助终端签到取号，无需排队取普通号。",
            "Choose a service, a day and a time; check in at a hall kiosk with your code instead of queueing.",
        ),
        "book.service": ("办理事项", "Service"),
        "book.date": ("日期", "Day"),
        "book.slot": ("时段", "Time"),
        "book.free_n": ("余 {n}", "{n} left"),
        "book.full": ("已约满", "Full"),
        "book.closed": ("已截止", "Closed"),
        "book.kind.saturday": ("周六", "Saturday"),
        "book.kind.extended": ("延时", "Extended hours"),
        "book.no_slots": ("当天没有可预约的时段。", "No slots on this day."),
        "book.phone": ("手机号码", "Mobile number"),
        "book.phone_hint": ("仅用于取消预约核验，不会显示或公开。", "Only used to check a cancellation; never shown."),
        "book.submit": ("确认预约", "Book"),
        "book.choose_slot": ("请先选择时段。", "Choose a time first."),
        "book.done": ("预约成功", "Booked"),
        "book.code": ("预约码", "Appointment code"),
        "book.when": ("时间", "When"),
        "book.checkin": (
            "请在预约时段到大厅自助终端扫描此二维码或输入预约码签到取号。",
            "At your time, scan this QR code or type the code at a hall kiosk to check in.",
        ),
        "book.phone_on_file": ("手机号", "Phone"),
        "book.token": ("取消凭证（请保存）", "Cancel token (keep it)"),
        "book.cancel_this": ("取消此预约", "Cancel this booking"),
        "book.cancelled": ("预约已取消。", "The booking is cancelled."),
        "book.cancel_title": ("取消已有预约", "Cancel a booking"),
        "book.last4": ("手机号后四位", "Last 4 digits of the phone"),
        "book.cancel_submit": ("取消预约", "Cancel booking"),
        "book.another": ("再预约一个", "Book another"),
        "book.offline": ("网络连接失败，请稍后重试。", "No connection; please try again."),
        "book.qr_alt": ("预约二维码：{code}", "Appointment QR code: {code}"),
    }
)


class BookBody(BaseModel):
    service: str = Field(max_length=32)
    slot_start: float
    phone: str = Field(max_length=20)


class CancelBody(BaseModel):
    code: str = Field(max_length=32)
    phone_last4: str | None = Field(default=None, max_length=4)
    cancel_token: str | None = Field(default=None, max_length=64)


def settings_of(web: WebContext) -> BookingSettings:
    cached = web.extras.get("booking")
    if not isinstance(cached, BookingSettings):
        cached = web.extras["booking"] = booking_rules.from_config(web.config)
    return cached


def day_label(day: dt.date, lang: str) -> str:
    zh, en = WEEKDAYS[day.weekday()]
    return f"{en} {day.day} {day:%b}" if lang == "en" else f"{day.month}月{day.day}日 {zh}"


def qr_data_url(text: str) -> str:
    """An SVG of the QR code of ``text`` as a data URL (made here: the page loads nothing from elsewhere)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise WebError("forbidden", 403)


@router.get("/book")
def book_page(request: Request) -> Response:
    web = ctx_of(request)
    lang = lang_of(request)
    today = dt.datetime.now(web.config.tz()).date()
    services = []
    for r in settings_of(web).services:
        s = web.config.service(r.service)
        days = booking_rules.bookable_days(web.config, r, today)
        services.append(
            {
                "id": s.id,
                "name": s.name_en if lang == "en" and s.name_en else s.name,
                "days": [{"date": d.isoformat(), "label": day_label(d, lang)} for d in days],
            }
        )
    return render(request, "booking.html", None, services=services)


@router.get("/api/book/slots")
def book_slots(service: str, date: str, request: Request) -> dict[str, Any]:
    web = ctx_of(request)
    answer = web.call("booking.slots", {"service": service[:32], "date": date[:10]})
    return {"ok": True, "slots": answer["slots"]}


@router.post("/api/book")
def book(body: BookBody, request: Request) -> dict[str, Any]:
    same_origin(request)
    web = ctx_of(request)
    try:
        phone = normal_phone(body.phone)
    except BookingError as exc:
        raise WebError(exc.code, 400) from None
    made = window_of(web, "bookings_per_client", web.settings.bookings_per_client_hour, 3600.0)
    client, now = request.client.host if request.client else "?", time.monotonic()
    if made.blocked(client, now):  # one address filling the slots with numbers of its own
        raise WebError("rate_limited", 429)
    done = web.call("booking.book", {"service": body.service, "slot_start": body.slot_start, "phone": phone})
    made.count(client, now)
    day = dt.date.fromisoformat(done["date"])
    service = web.config.service(done["service"])
    lang = lang_of(request)
    return {
        "ok": True,
        "code": done["code"],
        "qr": qr_data_url(f"APPT:{done['code']}"),
        "service_name": service.name_en if lang == "en" and service.name_en else service.name,
        "when": f"{day_label(day, lang)} {done['label']}",
        "kind": done["kind"],
        "phone_masked": done["phone_masked"],
        "cancel_token": done["cancel_token"],
    }


@router.post("/api/book/cancel")
def cancel(body: CancelBody, request: Request) -> dict[str, Any]:
    same_origin(request)
    data: dict[str, Any] = {"code": body.code.strip().upper()}
    if body.cancel_token:
        data["cancel_token"] = body.cancel_token
    elif body.phone_last4:
        data["phone_last4"] = body.phone_last4
    else:
        raise WebError("bad_form", 400)
    ctx_of(request).call("booking.cancel", data)
    return {"ok": True, "code": data["code"]}
