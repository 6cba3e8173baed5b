"""The window tablet (评价平板) and the managers' page that pairs tablets (``/tablets``).

The tablet is not a staff login: it pairs once with a one-time code (``POST /tablet/pair``) and from
then on carries a signed device cookie (``hallkit_tablet``, HttpOnly, SameSite=Strict). Its page
shows the window, the clerk at the window and the current ticket, and when the controller asks its
pad for an evaluation (``pad.evaluate``), the five national levels and, for 4-5, the reasons. The
page follows ``/api/tablet/stream`` (server-sent events) and presses through ``/api/tablet/rate``.
See ui/web/tablets.py for the pairing store and the pad host.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from hall_bus.vocabulary import LEVELS, LEVELS_EN, REASONS, REASONS_ZH
from ui.web import i18n, sse
from ui.web.accounts import Session
from ui.web.app import MANAGER, WebContext, WebError, ctx_of, lang_of, needs, render
from ui.web.i18n import strings
from ui.web.routes.clerk import window_name
from ui.web.tablets import TabletError, Tablets, tablets_of

router = APIRouter()
DEVICE_COOKIE = "hallkit_tablet"
PAIR_COOKIE = "hallkit_pair"  # double-submit token of the pairing form (the tablet has no session yet)
YEARS = 5 * 365 * 86400

strings(
    {
        "tablet.title": ("窗口评价平板", "Window tablet"),
        "tablet.pair": ("配对平板", "Pair this tablet"),
        "tablet.pair_help": (
            "请管理员在“评价平板”页面为本窗口生成 6 位配对码，并在下方输入。",
            "Ask a manager for this window's 6-digit code (page “Window tablets”) and enter it below.",
        ),
        "tablet.code": ("配对码", "Pairing code"),
        "tablet.pair_submit": ("配对", "Pair"),
        "tablet.clerk": ("工作人员", "Clerk"),
        "tablet.no_clerk": ("暂无工作人员", "No clerk at the window"),
        "tablet.current": ("当前号", "Now serving"),
        "tablet.idle": ("欢迎光临", "Welcome"),
        "tablet.calling": ("请 {ticket} 号到本窗口办理", "Ticket {ticket}, please come to this window"),
        "tablet.serving": ("{ticket} 办理中", "Serving {ticket}"),
        "tablet.paused": ("暂停服务", "Paused"),
        "tablet.rate": ("请对本次服务进行评价", "Please rate this service"),
        "tablet.rate_ticket": ("号码 {ticket} · {service}", "Ticket {ticket} · {service}"),
        "tablet.reason": ("请选择不满意的原因", "Why were you dissatisfied?"),
        "tablet.thanks": ("感谢您的评价！", "Thank you for your rating!"),
        "tablet.staff_no": ("工号 {no}", "Staff no. {no}"),
        "tablet.photo": ("{name} 的照片", "Photo of {name}"),
        "tablets.title": ("评价平板配对", "Window tablets"),
        "tablets.help": (
            "在平板浏览器打开 {url}，输入为该窗口生成的配对码（{min} 分钟内有效，只能使用一次）。",
            "Open {url} in the tablet's browser and enter the code made for its window (valid {min} minutes, once).",
        ),
        "tablets.device": ("设备", "Device"),
        "tablets.window": ("窗口", "Window"),
        "tablets.state": ("状态", "State"),
        "tablets.paired": ("已配对平板", "Paired tablets"),
        "tablets.online": ("在线", "online"),
        "tablets.offline": ("离线", "offline"),
        "tablets.make_code": ("生成配对码", "Make a pairing code"),
        "tablets.unpair": ("解除配对", "Unpair"),
        "tablets.code_is": (
            "{device} 的配对码：{code}（{until} 前有效）",
            "Code for {device}: {code} (valid until {until})",
        ),
        "tablets.none": (
            "hall.toml 中没有由网页控制台托管的评价器。",
            "hall.toml has no pad hosted by the web console.",
        ),
        "tablets.unpaired": ("已解除 {n} 台平板的配对。", "{n} tablet(s) unpaired."),
        "error.tablet_not_asked": (
            "该号码已评价或评价已结束。",
            "This ticket was already rated or its rating has ended.",
        ),
        "error.unknown_tablet": ("没有这个平板设备。", "There is no such tablet device."),
    }
)


class RateBody(BaseModel):
    ticket: str = Field(max_length=16)
    level: int
    reason: str | None = Field(default=None, max_length=16)


def level_names(lang: str) -> list[tuple[int, str]]:
    return [(n, LEVELS_EN[n].capitalize() if lang == "en" else LEVELS[n]) for n in sorted(LEVELS)]


def reason_names(lang: str) -> list[tuple[str, str]]:
    return [(r, r.capitalize() if lang == "en" else REASONS_ZH[r]) for r in REASONS]


def paired_pad(request: Request) -> str:
    """The pad the request's device cookie is paired as, else 401 ``tablet_unpaired``."""
    pad = tablets_of(ctx_of(request)).pairings.device_of(request.cookies.get(DEVICE_COOKIE))
    if pad is None or pad not in tablets_of(ctx_of(request)).pads.pads:
        raise WebError("tablet_unpaired", 401)
    return pad


# ---------------------------------------------------------------------- the tablet (a device, not a person)
@router.get("/tablet")
def tablet_page(request: Request, error: str = "") -> Response:
    web = ctx_of(request)
    tablets = tablets_of(web)
    cookie = request.cookies.get(DEVICE_COOKIE)
    pad = tablets.pairings.device_of(cookie)
    lang = lang_of(request)
    if pad is None or pad not in tablets.pads.pads:
        token = secrets.token_urlsafe(16)
        message = i18n.error_sentence(error, lang) if error in ("pairing_invalid", "tablet_unpaired") else ""
        response = render(request, "tablet-pair.html", None, pair_token=token, error=message)
        response.set_cookie(PAIR_COOKIE, token, httponly=True, samesite="strict")
        return response
    window = tablets.pads.window_of(pad)
    name = window_name(web.config, window, lang)
    response = render(
        request,
        "tablet.html",
        None,
        pad=pad,
        window=window,
        window_name=name,
        levels=level_names(lang),
        reasons=reason_names(lang),
        tablet_csrf=tablets.pairings.csrf_of(cookie),
        services_json=json.dumps(
            {s.id: (s.name_en if lang == "en" and s.name_en else s.name) for s in web.config.services},
            ensure_ascii=False,
        ).replace("</", "<\\/"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/tablet/pair")
def pair(request: Request, code: str = Form(""), pair_token: str = Form("")) -> Response:
    web = ctx_of(request)
    cookie_token = request.cookies.get(PAIR_COOKIE, "")
    if not cookie_token or not secrets.compare_digest(cookie_token, pair_token):
        return RedirectResponse("/tablet?error=pairing_invalid", status_code=303)
    try:
        value, _pad = tablets_of(web).pairings.pair(code)
    except TabletError:
        return RedirectResponse("/tablet?error=pairing_invalid", status_code=303)
    response = RedirectResponse("/tablet", status_code=303)
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=YEARS,
        httponly=True,
        samesite="strict",
        secure=web.settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(PAIR_COOKIE)
    return response


@router.get("/api/tablet/stream")
async def tablet_stream(request: Request) -> StreamingResponse:
    pad = paired_pad(request)
    return StreamingResponse(_tablet_events(request, ctx_of(request), pad), media_type="text/event-stream")


async def _tablet_events(request: Request, web: WebContext, pad: str) -> AsyncIterator[bytes]:
    pads = tablets_of(web).pads
    q = pads.open_feed(pad)
    window = pads.window_of(pad)
    try:
        yield sse.RETRY
        hello = {
            "window": web.live.get(f"window/{window}"),
            "desk": _desk(web, window),
            "asked": pads.asked_view(pad),
        }
        yield sse.event("hello", hello)
        async for item in sse.changes(request, q):  # (a closed page is noticed within a second: the pad goes offline)
            if item is None:
                yield sse.KEEPALIVE
                continue
            event, data = item
            if event == "bye":
                return
            if event == "change" and data["topic"].startswith("desk/"):
                data = {"topic": data["topic"], "data": _desk(web, window)}
            yield sse.event(event, data)
    finally:
        pads.close_feed(pad, q)


def _desk(web: WebContext, window: int) -> dict[str, Any] | None:
    """The clerk at the window for the tablet: name, staff number, whether a photo is configured."""
    desk = web.live.get(f"desk/{window}")
    if not isinstance(desk, dict):
        return None
    staff = web.accounts.staff.get(str(desk.get("staff_no")))
    return {**desk, "photo": bool(staff and staff.photo)}


@router.post("/api/tablet/rate")
def rate(body: RateBody, request: Request) -> Any:
    pad = paired_pad(request)
    tablets = tablets_of(ctx_of(request))
    token = request.headers.get("x-csrf-token") or ""
    if not secrets.compare_digest(token, tablets.pairings.csrf_of(request.cookies.get(DEVICE_COOKIE))):
        raise WebError("csrf", 403)
    try:
        tablets.pads.rate(pad, body.ticket, body.level, body.reason or None)
    except TabletError as exc:
        raise WebError(exc.code, 409) from None
    return {"ok": True, "message": i18n.t("tablet.thanks", lang_of(request))}


@router.get("/api/tablet/photo")
def photo(request: Request) -> Response:
    """The photo of the clerk at the tablet's window (``photo`` of ``[[staff]]``, beside hall.toml)."""
    pad = paired_pad(request)
    web = ctx_of(request)
    desk = web.live.get(f"desk/{tablets_of(web).pads.window_of(pad)}")
    staff = web.accounts.staff.get(str(desk.get("staff_no"))) if isinstance(desk, dict) else None
    if staff is None or not staff.photo:
        raise WebError("not_found", 404)
    path = Path(staff.photo)
    if not path.is_absolute():
        path = Path(web.config.source).parent / path
    if not path.is_file():
        raise WebError("not_found", 404)
    return FileResponse(path, headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------------- the managers' side
def _tablets_view(web: WebContext, tablets: Tablets) -> list[dict[str, Any]]:
    return [
        {
            "id": pad,
            "window": tablets.pads.window_of(pad),
            "online": tablets.pads.connected(pad),
            "paired": len(tablets.pairings.paired(pad)),
        }
        for pad in sorted(tablets.pads.pads)
    ]


@router.get("/tablets")
def tablets_page(request: Request, session: Session = Depends(needs(*MANAGER))) -> Response:
    web = ctx_of(request)
    tablets = tablets_of(web)
    return render(
        request,
        "tablets.html",
        session,
        pads=_tablets_view(web, tablets),
        tablet_url=str(request.base_url).rstrip("/") + "/tablet",
        minutes=web.settings.pairing_code_min,
    )


@router.post("/api/tablets/{device_id}/pairing-code")
def pairing_code(device_id: str, request: Request, session: Session = Depends(needs(*MANAGER))) -> Any:
    web = ctx_of(request)
    tablets = tablets_of(web)
    if device_id not in tablets.pads.pads:
        raise WebError("unknown_tablet", 404)
    code, expires = tablets.pairings.new_code(device_id, web.settings.pairing_code_min, session.staff.staff_no)
    return {"ok": True, "device_id": device_id, "code": code, "expires_at": expires}


@router.post("/api/tablets/{device_id}/unpair")
def unpair(device_id: str, request: Request, session: Session = Depends(needs(*MANAGER))) -> Any:
    tablets = tablets_of(ctx_of(request))
    if device_id not in tablets.pads.pads:
        raise WebError("unknown_tablet", 404)
    n = tablets.pairings.unpair(device_id)
    return {"ok": True, "unpaired": n, "message": i18n.t("tablets.unpaired", lang_of(request), n=n)}
