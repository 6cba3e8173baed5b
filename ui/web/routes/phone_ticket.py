"""The ticket on the phone (扫码查看排队进度, 好差评 by QR): ``/t/<token>``, no login.

* ``GET /t/<token>``: the ticket, its service, the people ahead and the estimated wait; when called,
  请到 N 号窗口 large; after the service the 好差评 form (or the rating already given).
* ``GET /t/<token>/events``: server-sent events for this ticket only. The stream listens to the
  live hall (HallLive) but sends nothing of it: when a change may have moved this ticket (its
  domain's queue, a window it is at or called to, an event about it: :func:`ui.web.citizen.touches`)
  it reads the ticket again and sends the page's view of it (``ticket``), if it changed.
* ``POST /t/<token>/rate`` (JSON ``{level, reason}``): ``evaluation.submit`` with channel ``qr``,
  after ``evaluation.get`` says the ticket is still rateable; a ticket rated already (at the pad,
  the kiosk or here) is refused with a sentence and the ticket's view, which the page then shows.

A token that is not genuine gets the same plain 404 sentence as a ticket that does not exist. The
rating needs no CSRF token: whoever holds the link is the citizen, and a JSON POST from another
site is a CORS request this server never allows.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from hall_bus.controller.ticket_link import TicketRef
from hall_bus.vocabulary import LEVELS, LEVELS_EN, REASONS, REASONS_ZH
from ui.web import i18n, sse
from ui.web.app import WebError, ctx_of, lang_of, templates
from ui.web.citizen import CitizenTickets, citizen_tickets, touches
from ui.web.i18n import strings

router = APIRouter()

PHONE = strings(
    {
        "phone.title": ("我的排队号", "My ticket"),
        "phone.ticket": ("排队号", "Ticket"),
        "phone.service": ("办理事项", "Service"),
        "phone.ahead": ("前面还有", "People ahead"),
        "phone.ahead_n": ("{n} 人", "{n}"),
        "phone.wait": ("预计等候", "Estimated wait"),
        "phone.wait_n": ("约 {n} 分钟", "about {n} min"),
        "phone.wait_unknown": ("暂无法估计", "not known yet"),
        "phone.waiting": ("请留意叫号，本页会自动更新。", "Watch for your call: this page updates by itself."),
        "phone.called": ("请到 {n} 号窗口", "Please go to window {n}"),
        "phone.called_help": ("正在叫您的号，请尽快前往。", "Your number is being called: please go now."),
        "phone.serving": ("正在 {n} 号窗口办理", "Being served at window {n}"),
        "phone.finished": ("办理已完成", "Service finished"),
        "phone.no_show": ("已过号，请重新取号。", "Your call was missed: please take a new ticket."),
        "phone.rate": ("请对本次服务进行评价", "Please rate this service"),
        "phone.reason": ("请选择不满意的原因（必选）", "Why were you dissatisfied? (required)"),
        "phone.submit": ("提交评价", "Submit"),
        "phone.thanks": ("感谢您的评价！", "Thank you for your rating!"),
        "phone.rated": ("本次服务已评价：{level}", "This service was rated: {level}"),
        "phone.rated_pad": ("（窗口评价器）", " (window pad)"),
        "phone.not_rateable": ("本次服务已不能评价。", "This service can no longer be rated."),
        "phone.choose_level": ("请先选择满意程度。", "Choose a level first."),
        "phone.live": ("实时更新中", "Live"),
        "phone.reconnecting": ("正在重新连接…", "Reconnecting…"),
        "phone.privacy": ("本页不显示任何个人信息。", "This page shows no personal data."),
        "phone.not_found_title": ("未找到", "Not found"),
        "error.ticket_link": ("未找到该页面。", "This page was not found."),
        "error.already_rated": (
            "该号码已评价，每个号码只能评价一次。",
            "This ticket was already rated: once per ticket.",
        ),
        "error.not_rateable": (
            "本次服务尚未完成或已不能评价。",
            "This service is not finished or can no longer be rated.",
        ),
    }
)


class RateBody(BaseModel):
    level: int = Field(ge=1, le=5)
    reason: str | None = Field(default=None, max_length=16)


def level_names(lang: str) -> dict[int, str]:
    return {n: (LEVELS_EN[n].capitalize() if lang == "en" else LEVELS[n]) for n in sorted(LEVELS)}


def reason_names(lang: str) -> dict[str, str]:
    return {r: (r.capitalize() if lang == "en" else REASONS_ZH[r]) for r in REASONS}


def _page_strings(lang: str) -> str:
    table: dict[str, Any] = {k: i18n.t(k, lang) for k in PHONE}
    table["levels"] = level_names(lang)
    return json.dumps(table, ensure_ascii=False).replace("</", "<\\/")


def not_found(request: Request) -> Response:
    lang = lang_of(request)
    if request.method != "GET" or request.url.path.endswith("/events"):
        return JSONResponse(
            {"ok": False, "code": "ticket_link", "message": i18n.error_sentence("ticket_link", lang)}, status_code=404
        )
    return _render(request, "phone-missing.html", 404)


def _render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = lang_of(request)
    web = ctx_of(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": lambda key, **kw: i18n.t(key, lang, **kw),
            "hall_name": web.config.name_en if lang == "en" and web.config.name_en else web.config.name,
            "hall": web.config,
            **values,
        },
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"
    # (Referrer-Policy stays same-origin: the page links nowhere else, and /lang/<x> returns by the Referer)
    return response


def _found(request: Request, token: str) -> tuple[CitizenTickets, TicketRef] | None:
    tickets = citizen_tickets(ctx_of(request))
    ref = tickets.ref_of(token)
    return None if ref is None else (tickets, ref)


@router.get("/t/{token}")
def ticket_page(token: str, request: Request) -> Response:
    found = _found(request, token)
    view = found[0].view(found[1], lang_of(request)) if found else None
    if view is None:
        return not_found(request)
    lang = lang_of(request)
    return _render(
        request,
        "phone.html",
        view=view,
        token=token,
        levels=level_names(lang),
        reasons=reason_names(lang),
        view_json=json.dumps(view, ensure_ascii=False).replace("</", "<\\/"),
        strings_json=_page_strings(lang),
    )


@router.get("/t/{token}/events")
async def ticket_events(token: str, request: Request) -> Response:
    found = _found(request, token)
    lang = lang_of(request)
    view = await asyncio.to_thread(found[0].view, found[1], lang) if found else None
    if found is None or view is None:
        return not_found(request)
    tickets, ref = found
    stream = sse.follow(
        request,
        ctx_of(request).live,
        "ticket",
        view,
        touches,
        lambda: tickets.view(ref, lang),
        settle_s=0.05,  # a call moves a queue and a window together: read the ticket once
    )
    return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.post("/t/{token}/rate")
def rate(token: str, body: RateBody, request: Request) -> Response:
    lang = lang_of(request)
    found = _found(request, token)
    if found is None or found[0].ticket(found[1]) is None:
        return not_found(request)
    tickets, ref = found
    if body.level in (4, 5) and not body.reason:
        raise WebError("reason_required", 409)
    if body.reason is not None and body.reason not in REASONS:
        raise WebError("bad_form", 422)
    state = tickets.evaluation(ref)
    rated = (state.get("evaluation") or {}).get("status") == "rated"
    if rated:
        return _refused(tickets, ref, "already_rated", lang)
    if not state.get("rateable"):
        return _refused(tickets, ref, "not_rateable", lang)
    data: dict[str, Any] = {"ticket": ref.code, "day": ref.day, "level": body.level, "channel": "qr"}
    if body.level in (4, 5):
        data["reason"] = body.reason
    answer = tickets.web.call("evaluation.submit", data)
    if not answer.get("recorded"):  # the pad or another phone got there first, a moment ago
        return _refused(tickets, ref, "already_rated", lang)
    view = tickets.view(ref, lang)
    return JSONResponse({"ok": True, "message": i18n.t("phone.thanks", lang), "ticket": view})


def _refused(tickets: CitizenTickets, ref: TicketRef, code: str, lang: str) -> JSONResponse:
    """A rating refused because of the ticket's state, with that state: a page left open (a second
    phone, a lost stream) shows the rating given meanwhile instead of a form that cannot be sent."""
    answer = {"ok": False, "code": code, "message": i18n.error_sentence(code, lang), "ticket": tickets.view(ref, lang)}
    return JSONResponse(answer, status_code=409)
