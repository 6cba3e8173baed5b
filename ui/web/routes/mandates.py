"""帮办代办 on the web console: ``/mandates`` for clerks and managers (record a mandate, move it, the
ledger with CSV/XLSX export) and ``/m/<token>``, the citizen's phone page the 回执's QR opens.

* The clerk types the citizen's ID number into the form; this server turns it into the hall's salted
  identity token (:func:`devices.identity.identity_token`) at once: the number goes neither on the
  bus nor into any store or log. The staff member signed in is the actor of every change.
* 打印回执: the 回执 of a mandate still in hand (not done or returned) is printed on a window's
  receipt printer (``mandate.print``): a clerk's at the window the clerk took on /clerk, a manager's
  at the window chosen in the row. The controller answers once the job is sent; the page waits for
  the job's ``print`` event (:func:`ui.web.routes.clerk.print_at_window`). A printer that cannot print
  (paper out, cover open, offline) is told in a sentence keyed by its error code.
* ``/m/<token>`` needs no login: the token is checked with the hall's key before the bus is asked
  anything (:mod:`hall_bus.features.mandates.link`), and a guessed or altered one gets the same
  "not found" page as a mandate that does not exist. The page shows the mandate's number, service,
  promised date and the states with their times: no identity token, no names, no notes. It stays
  live: ``/m/<token>/events`` (server-sent events) listens to the live hall for the ``mandate``
  event of this mandate only, reads it again and sends the page's view of it (``mandate``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from devices.identity import hall_salt, identity_token
from hall_bus.controller.ticket_link import link_secret
from hall_bus.controller.window_print import window_printers
from hall_bus.features.evaluation.settings import load as staff_settings
from hall_bus.features.mandates import link
from hall_bus.features.mandates.export import ledger_csv, ledger_xlsx
from hall_bus.features.mandates.store import MOVES, STATES
from ui.web import sse
from ui.web.accounts import Session
from ui.web.app import ANY_STAFF, MANAGER, WebContext, WebError, ctx_of, lang_of, needs, render
from ui.web.citizen import service_name
from ui.web.i18n import error_sentence, strings, t
from ui.web.routes.clerk import print_at_window, window_name

router = APIRouter()

ID_NUMBER = re.compile(r"\d{17}[\dX]|\d{15}")
SECRET_KEY = "mandate_link_secret"

strings(
    {
        "mandates.title": ("帮办代办", "Assisted service"),
        "mandates.new": ("登记委托单", "Record a mandate"),
        "mandates.service": ("办理事项", "Service"),
        "mandates.id_number": ("委托人证件号码", "Citizen's ID number"),
        "mandates.id_hint": (
            "只用于生成身份标识，不保存、不显示。",
            "Only turned into the identity token; never stored or shown.",
        ),
        "mandates.agent": ("代办员", "Agent"),
        "mandates.materials": ("已收材料（每行一项）", "Materials received (one a line)"),
        "mandates.promised": ("承诺办结日期", "Promised by"),
        "mandates.note": ("备注", "Note"),
        "mandates.create": ("登记并生成回执", "Record and make the receipt"),
        "mandates.made": ("已登记委托单", "Mandate recorded:"),
        "mandates.made_link": ("回执二维码链接：", "the receipt's QR link:"),
        "mandates.ledger": ("台账", "Ledger"),
        "mandates.all": ("全部", "all"),
        "mandates.state": ("状态", "State"),
        "mandates.from": ("受理自", "From"),
        "mandates.to": ("至", "To"),
        "mandates.overdue_only": ("只看逾期", "overdue only"),
        "mandates.show": ("查询", "Show"),
        "mandates.csv": ("导出 CSV", "Export CSV"),
        "mandates.xlsx": ("导出 Excel", "Export XLSX"),
        "mandates.no": ("委托单号", "Mandate"),
        "mandates.history": ("办理记录", "History"),
        "mandates.move": ("变更", "Move"),
        "mandates.move_to": ("变更为", "Move to"),
        "mandates.overdue": ("已逾期", "overdue"),
        "mandates.none": ("没有符合条件的委托单。", "No mandates match."),
        "mandates.state.received": ("已受理", "Received"),
        "mandates.state.processing": ("办理中", "Being handled"),
        "mandates.state.escalated": ("已上报", "Referred to a higher level"),
        "mandates.state.done": ("已办结", "Done"),
        "mandates.state.returned": ("已退回", "Returned"),
        "mandates.receipt": ("回执", "Receipt"),
        "mandates.print": ("打印回执", "Print receipt"),
        "mandates.print_window": ("打印窗口", "Print at window"),
        "mandates.printed": ("{no} 的回执已在{window}打印。", "The receipt of {no} was printed at {window}."),
        "mandate.phone_title": ("帮办代办进度", "Assisted service progress"),
        "mandate.live": ("实时更新中", "Live"),
        "mandate.reconnecting": ("正在重新连接…", "Reconnecting…"),
        # a window's receipt printer (mandate.print, case.print_receipt): the codes it answers with
        "error.paper_out": (
            "窗口打印机缺纸，请装纸后重新打印。",
            "The window's printer is out of paper: load paper and print again.",
        ),
        "error.cover_open": (
            "窗口打印机的盖子没有关好，请关好后重新打印。",
            "The window's printer cover is open: close it and print again.",
        ),
        "error.printer_offline": (
            "窗口打印机未连接，请检查电源和连线后重试。",
            "The window's printer is not connected: check its power and cable, then try again.",
        ),
        "error.printer_timeout": (
            "窗口打印机没有响应，请检查后重新打印。",
            "The window's printer did not answer: check it and print again.",
        ),
        "error.printer_error": ("窗口打印机出错，未能打印。", "The window's printer failed: nothing was printed."),
        "error.printer_busy": (
            "窗口打印机正忙，未打印，请稍后重试。",
            "The window's printer is busy: nothing printed; try again.",
        ),
        "error.print_unknown": (
            "打印结果未知：请先看打印机是否已出纸，再决定是否重新打印。",
            "The printer did not report: look whether the receipt came out before printing again.",
        ),
        "error.no_printer": ("该窗口没有配置回执打印机。", "That window has no receipt printer."),
        "mandate.status_now": ("当前状态", "Status now"),
        "mandate.promised": ("承诺办结", "Promised by"),
        "mandate.history": ("办理进度", "History"),
        "error.bad_id_number": (
            "证件号码应为 18 位（末位可为 X）或 15 位数字。",
            "An ID number is 18 characters (the last may be X) or 15 digits.",
        ),
    }
)


def _filters(
    state: str = "", agent: str = "", from_day: str = "", to_day: str = "", overdue: bool = False
) -> dict[str, Any]:
    asked: dict[str, Any] = {"overdue": overdue}
    if state:
        if state not in STATES:
            raise WebError("bad_form", 422)
        asked["state"] = state
    for key, value in (("agent", agent), ("from_day", from_day), ("to_day", to_day)):
        if value:
            asked[key] = value
    return asked


def _ledger(request: Request, asked: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ctx_of(request).call("mandate.list", asked, timeout=10)["mandates"]
    return found


def _page(request: Request, session: Session, asked: dict[str, Any], status: int = 200, **values: Any) -> Response:
    web = ctx_of(request)
    tz = web.config.tz()
    today = dt.datetime.now(tz).date()
    mandates = _ledger(request, asked)
    for m in mandates:
        m["moves"] = MOVES.get(m["state"], ())
        m["steps"] = [
            {**s, "when": dt.datetime.fromtimestamp(s["at"], tz).strftime("%m-%d %H:%M")} for s in m["history"]
        ]
    lang = lang_of(request)
    printers = sorted(window_printers(web.config)) or [w.number for w in web.config.windows]
    return render(
        request,
        "mandates.html",
        session,
        status,
        mandates=mandates,
        print_windows=[(n, window_name(web.config, n, lang)) for n in printers],
        chooses_window=session.has(*MANAGER),
        asked=asked,
        query=urlencode({k: v for k, v in asked.items() if v}),
        states=STATES,
        services=web.config.services,
        staff=staff_settings(web.config).staff,
        promised_default=(today + dt.timedelta(days=5)).isoformat(),
        today=today.isoformat(),
        **values,
    )


@router.get("/mandates")
def mandates_page(
    request: Request,
    state: str = "",
    agent: str = "",
    from_day: str = "",
    to_day: str = "",
    overdue: bool = False,
    made: str = "",
    printed: str = "",
    at: int = 0,
    session: Session = Depends(needs(*ANY_STAFF)),
) -> Response:
    made_mandate = None
    if made:
        made_mandate = ctx_of(request).call("mandate.get", {"mandate_no": made})["mandate"]
    done = None
    if printed and at:
        done = t(
            "mandates.printed",
            lang_of(request),
            no=printed[:32],
            window=window_name(ctx_of(request).config, at, lang_of(request)),
        )
    asked = _filters(state, agent, from_day, to_day, overdue)
    return _page(request, session, asked, made=made_mandate, printed=done, error=None)


@router.post("/mandates")
async def create(request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Response:
    web = ctx_of(request)
    form = await request.form()
    fields = {k: str(form.get(k) or "").strip() for k in ("service", "id_number", "agent", "materials", "promised")}
    note = str(form.get("note") or "").strip()[:200]
    try:
        id_number = fields["id_number"].upper()
        if not ID_NUMBER.fullmatch(id_number):
            raise WebError("bad_id_number", 400)
        data: dict[str, Any] = {
            "service": fields["service"],
            "identity_token": identity_token(id_number, hall_salt(web.config.data_dir)),
            "agent": fields["agent"] or session.staff.staff_no,
            "materials": [m.strip() for m in fields["materials"].splitlines() if m.strip()],
            "promised_date": fields["promised"],
            "actor": session.staff.staff_no,
            **({"note": note} if note else {}),
        }
        made = web.call("mandate.create", data)["mandate"]
    except WebError as exc:
        return _page(
            request, session, _filters(), exc.status, made=None, error=error_sentence(exc.code, lang_of(request))
        )
    return RedirectResponse(f"/mandates?made={made['mandate_no']}", status_code=303)


@router.post("/mandates/{mandate_no}/move")
async def move(mandate_no: str, request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Response:
    form = await request.form()
    data: dict[str, Any] = {
        "mandate_no": mandate_no,
        "state": str(form.get("state") or ""),
        "actor": session.staff.staff_no,
    }
    note = str(form.get("note") or "").strip()[:200]
    if note:
        data["note"] = note
    try:
        ctx_of(request).call("mandate.update", data)
    except WebError as exc:
        return _page(
            request, session, _filters(), exc.status, made=None, error=error_sentence(exc.code, lang_of(request))
        )
    return RedirectResponse("/mandates", status_code=303)


@router.post("/mandates/{mandate_no}/print")
async def print_receipt(mandate_no: str, request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Response:
    """The 回执 at a window's printer: the manager's chosen window, the clerk's own (taken on /clerk)."""
    form = await request.form()
    web = ctx_of(request)
    try:
        if session.has(*MANAGER):
            chosen = str(form.get("window") or "")
            if not chosen.isdigit() or all(w.number != int(chosen) for w in web.config.windows):
                raise WebError("bad_form", 422)
            window = int(chosen)
        elif session.window is None:
            raise WebError("no_window", 409)
        else:
            window = session.window
        data = {
            "mandate_no": mandate_no[:32],
            "window": window,
            "lang": lang_of(request),
            "actor": session.staff.staff_no,
        }
        await asyncio.to_thread(print_at_window, web, "mandate.print", data)  # waits for the job's end
    except WebError as exc:
        return _page(
            request, session, _filters(), exc.status, made=None, error=error_sentence(exc.code, lang_of(request))
        )
    return RedirectResponse(f"/mandates?printed={mandate_no}&at={window}", status_code=303)


@router.get("/api/mandates/export.{fmt}")
def export(
    fmt: Literal["csv", "xlsx"],
    request: Request,
    state: str = "",
    agent: str = "",
    from_day: str = "",
    to_day: str = "",
    overdue: bool = False,
    session: Session = Depends(needs(*ANY_STAFF)),
) -> Response:
    tz = ctx_of(request).config.tz()
    mandates = _ledger(request, _filters(state, agent, from_day, to_day, overdue))
    name = f"daiban-taizhang-{dt.datetime.now(tz):%Y%m%d}.{fmt}"
    if fmt == "csv":
        body, media = ledger_csv(mandates, tz), "text/csv; charset=utf-8"
    else:
        body, media = ledger_xlsx(mandates, tz), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---------------------------------------------------------------------- the citizen's phone page
def _secret(web: WebContext) -> bytes:
    found = web.extras.get(SECRET_KEY)
    if not isinstance(found, bytes):
        found = web.extras[SECRET_KEY] = link_secret(web.config.data_dir)
    return found


def phone_view(web: WebContext, m: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the phone shows of a mandate: no identity token, no names, no notes."""
    tz = web.config.tz()

    def when(at: float) -> str:
        return dt.datetime.fromtimestamp(float(at), tz).strftime("%Y-%m-%d %H:%M")

    return {
        "mandate_no": m["mandate_no"],
        "service_name": service_name(web, str(m["service"]), lang),
        "state": m["state"],
        "state_name": t(f"mandates.state.{m['state']}", lang),
        "promised_date": m["promised_date"],
        "updated": when(m["updated_at"]),
        "steps": [
            {"state": s["state"], "name": t(f"mandates.state.{s['state']}", lang), "at": when(s["at"])}
            for s in reversed(m["history"])
        ],
    }


@router.get("/m/{token}")
def follow(token: str, request: Request) -> Response:
    web = ctx_of(request)
    lang = lang_of(request)
    view = None
    mandate_no = link.verify(_secret(web), web.config.hall_id, token[:64])
    if mandate_no is not None:
        try:
            view = phone_view(web, web.call("mandate.get", {"mandate_no": mandate_no})["mandate"], lang)
        except WebError as exc:
            if exc.code != "not_found" and exc.status != 403:
                raise
    response = render(request, "mandate-phone.html", None, 200 if view else 404, view=view, token=token[:64])
    response.headers["Cache-Control"] = "no-store"
    return response


def _read(web: WebContext, mandate_no: str, lang: str) -> dict[str, Any] | None:
    try:
        return phone_view(web, web.call("mandate.get", {"mandate_no": mandate_no})["mandate"], lang)
    except WebError as exc:
        if exc.code == "not_found" or exc.status == 403:
            return None
        raise


@router.get("/m/{token}/events")
async def follow_events(token: str, request: Request) -> Response:
    web = ctx_of(request)
    lang = lang_of(request)
    mandate_no = link.verify(_secret(web), web.config.hall_id, token[:64])
    view = await asyncio.to_thread(_read, web, mandate_no, lang) if mandate_no is not None else None
    if mandate_no is None or view is None:
        return JSONResponse(
            {"ok": False, "code": "ticket_link", "message": error_sentence("ticket_link", lang)}, status_code=404
        )

    def touches(key: str, data: Any, _view: Any) -> bool:  # its own mandate event only
        return key == "event/mandate" and isinstance(data, dict) and data.get("mandate_no") == mandate_no

    stream = sse.follow(request, web.live, "mandate", view, touches, lambda: _read(web, mandate_no, lang))
    return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})
