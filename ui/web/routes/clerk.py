"""The clerk's window page (窗口工作台) for the window PC: take a window the clerk may work, then call
next, recall, start, finish, no-show, transfer, pause with a reason and resume, as the Kivy window
terminal does (kiosk/staff.py), with the current ticket's green-channel class and appointment and
the queues of the window's domains, live.

A clerk may take only the windows of ``Staff.windows`` (a manager any window). The window taken is
kept in the session and published to the console as ``desk/<n>`` (``staff_no``, ``staff_name``), so
the live hall and the window's tablet show who is at the window; leaving the window clears it, and so
does the end of the clerk's session without leaving (logging out, or idle past ``[web] idle_timeout_min``:
:func:`install` hooks :func:`free_desk` to the accounts' session end). Every
action names the clerk (``staff``), which the controller audits as ``web/<staff_no>``.

该办件的扫描材料: the clerk at a window (or a manager) types a case number and sees the pages a kiosk
scanned for that case (``/api/scans/case/<case_no>``, ui/web/routes/scans.py), each page opened audited.

打印受理回执: the clerk types a case number and the window's receipt printer prints the case's
acceptance receipt (``case.print_receipt``: the verification code and the phone page's QR); a printer
that cannot print answers with its code (paper out, cover open ...), shown as a sentence. The
controller answers as soon as the job is sent; :func:`print_at_window` then waits (in the request's
worker thread, up to :data:`PRINT_WAIT_S`) for the job's ``print`` event in the live hall
(:meth:`ui.web.live.HallLive.wait_event`), so the clerk still reads 已打印 or the printer's reason.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from hall_bus.config import Domain, HallConfig, Service
from ui.web import i18n
from ui.web.accounts import Session
from ui.web.app import ANY_STAFF, MANAGER, WebContext, WebError, ctx_of, lang_of, needs, render
from ui.web.i18n import strings

router = APIRouter()
log = logging.getLogger(__name__)

strings(
    {
        "clerk.title": ("窗口工作台", "Window desk"),
        "clerk.choose": ("选择您所在的窗口", "Choose your window"),
        "clerk.window": ("窗口", "Window"),
        "clerk.take": ("进入窗口", "Take this window"),
        "clerk.leave": ("离开窗口", "Leave the window"),
        "clerk.none_yours": (
            "您的账号没有可工作的窗口，请联系管理员。",
            "Your account has no window; ask the manager.",
        ),
        "clerk.current": ("当前号", "Current ticket"),
        "clerk.no_current": ("当前没有号码", "No ticket at the window"),
        "clerk.service": ("业务事项：{name}", "Service: {name}"),
        "clerk.window_n": ("{n}号窗口", "Window {n}"),
        "clerk.ticket_state": ("状态", "State"),
        "clerk.state.called": ("已叫号，等候群众到窗口", "Called, waiting for the citizen"),
        "clerk.state.serving": ("办理中", "Serving"),
        "clerk.paused": ("暂停服务中", "Paused"),
        "clerk.hours.appointments": (
            "本窗口现在只为预约市民办理：请叫预约号；取号机不再发放现场号",
            "This window serves appointments only now: the kiosks issue no walk-in tickets for it",
        ),
        "clerk.hours.closed": (
            "本窗口已过服务时间，没有待办的号",
            "This window's hours are over and no ticket of the day waits",
        ),
        "clerk.hours.finishing": (
            "本窗口已过服务时间，请办完下班前取号的市民",
            "This window's hours are over: serve the citizens who took a ticket before it closed",
        ),
        "clerk.green": ("绿色通道：{kind}", "Green channel: {kind}"),
        "clerk.priority.elderly": ("老年人", "elderly"),
        "clerk.priority.disabled": ("残疾人", "disabled"),
        "clerk.priority.pregnant": ("孕妇", "pregnant"),
        "clerk.priority.military": ("军人", "military"),
        "clerk.appointment": ("预约号 {code}，预约时间 {slot}", "Appointment {code} at {slot}"),
        "clerk.transfers": ("已转移 {n} 次", "Transferred {n} time(s)"),
        "clerk.actions": ("操作", "Actions"),
        "clerk.call": ("叫号", "Call next"),
        "clerk.recall": ("重呼", "Recall"),
        "clerk.start": ("开始办理", "Start"),
        "clerk.finish": ("办结", "Finish"),
        "clerk.no_show": ("过号", "No-show"),
        "clerk.transfer": ("转移", "Transfer"),
        "clerk.pause": ("暂停服务", "Pause"),
        "clerk.resume": ("恢复服务", "Resume"),
        "clerk.queue": ("本窗口业务排队", "Queues of this window"),
        "clerk.domain": ("业务", "Domain"),
        "clerk.waiting": ("等候人数", "Waiting"),
        "clerk.next": ("即将叫号", "Next"),
        "clerk.to_domain": ("转到其他业务", "To another domain"),
        "clerk.to_window": ("转到其他窗口（须具备该业务技能）", "To another window (skilled for it)"),
        "clerk.pause_reason": ("暂停原因", "Reason for the pause"),
        "clerk.reason.break": ("休息", "Break"),
        "clerk.reason.meeting": ("会议", "Meeting"),
        "clerk.reason.system": ("系统故障", "System fault"),
        "clerk.reason.other": ("其他", "Other"),
        "clerk.done.called": ("请 {ticket} 号到{window}办理", "{ticket} called to {window}"),
        "clerk.done.nobody": ("当前没有等候的群众。", "Nobody is waiting."),
        "clerk.done.recalled": ("已重呼 {ticket}", "{ticket} recalled"),
        "clerk.done.started": ("{ticket} 开始办理", "{ticket}: service started"),
        "clerk.done.finished": ("{ticket} 已办结", "{ticket} finished"),
        "clerk.done.no_show": ("{ticket} 已过号", "{ticket} marked as a no-show"),
        "clerk.done.transferred": ("{ticket} 已转到 {to}", "{ticket} transferred to {to}"),
        "clerk.done.paused": ("窗口已暂停服务", "The window is paused"),
        "clerk.done.resumed": ("窗口已恢复服务", "The window is open again"),
        "clerk.ok": ("确定", "OK"),
        "clerk.scans": ("扫描材料", "Scanned materials"),
        "clerk.scans.none": ("该号没有自助终端扫描的材料", "No pages were scanned at a kiosk for this ticket"),
        "clerk.scans.pdf": ("打开 PDF（材料编号 {ref}，{n} 页）", "Open the PDF (reference {ref}, {n} pages)"),
        "clerk.scans.page": ("第 {n} 页", "Page {n}"),
        "clerk.case_scans": ("该办件的扫描材料", "Scanned materials of a case"),
        "clerk.case_scans_open": ("查看", "Show"),
        "clerk.case_scans.none": (
            "该办件没有自助终端扫描的材料",
            "No pages were scanned at a kiosk for this case",
        ),
        "clerk.receipt": ("打印受理回执", "Print a case receipt"),
        "clerk.receipt_case": ("办件编号", "Case number"),
        "clerk.receipt_print": ("打印", "Print"),
        "clerk.done.receipt": ("{case} 的受理回执已打印。", "The receipt of {case} was printed."),
        "error.transfer_target": ("请选择转移到的业务或窗口。", "Choose a domain or a window to transfer to."),
        "error.bad_case_no": (
            "办件编号应为 4 到 32 位字母、数字或连字符。",
            "A case number is 4 to 32 letters, digits or dashes.",
        ),
    }
)

ACTIONS = {  # the page's action -> (bus op, the sentence of its success)
    "call": ("window.call", "clerk.done.called"),
    "recall": ("window.recall", "clerk.done.recalled"),
    "start": ("window.start", "clerk.done.started"),
    "finish": ("window.finish", "clerk.done.finished"),
    "no_show": ("window.no_show", "clerk.done.no_show"),
    "resume": ("window.resume", "clerk.done.resumed"),
}
PAUSE_REASONS = ("break", "meeting", "system", "other")
CASE_NO = re.compile(r"[A-Z0-9][A-Z0-9-]{3,31}")  # as hall_bus.contracts.cases.CASE_NO, upper case
PRINT_WAIT_S = 10.0  # how long a page waits for its print job's end (the controller gives a job 8 s)


class TakeBody(BaseModel):
    window: int


class TransferBody(BaseModel):
    to_domain: str | None = Field(default=None, max_length=64)
    to_window: int | None = None


class PauseBody(BaseModel):
    reason: str = Field(default="", max_length=100)


class ReceiptBody(BaseModel):
    case_no: str = Field(min_length=1, max_length=32)


def windows_of(session: Session, config: HallConfig) -> list[int]:
    """The windows this member of staff may work: a clerk's own, every window for a manager."""
    numbers = [w.number for w in config.windows]
    if session.has(*MANAGER):
        return numbers
    return [n for n in numbers if n in session.staff.windows]


def set_desk(web: WebContext, window: int, data: dict[str, str] | None) -> None:
    """Who is at ``window`` (None: nobody), kept as the console's live state ``desk/<n>``."""
    web.live.publish(f"desk/{window}", data)


def window_name(config: HallConfig, number: int, lang: str) -> str:
    """A window's name: hall.toml's (Chinese) name, in English "Window <n>"."""
    name = next((w.name for w in config.windows if w.number == number), None)
    return name if name and lang != "en" else i18n.t("clerk.window_n", lang, n=number)


@router.get("/clerk")
def clerk_page(request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Response:
    web = ctx_of(request)
    lang = lang_of(request)
    mine = windows_of(session, web.config)
    return render(
        request,
        "clerk.html",
        session,
        window=session.window,
        window_name=window_name(web.config, session.window, lang) if session.window else "",
        choices=[(n, window_name(web.config, n, lang)) for n in mine],
        pause_reasons=PAUSE_REASONS,
        case_scans=session.has(*MANAGER) or session.window is not None,  # (ui/web/routes/scans.py may_view_case)
        desk_json=desk_data(web.config, lang),
    )


def desk_data(config: HallConfig, lang: str) -> str:
    """The hall's names the page's script needs (services, domains, windows), as JSON for a script tag."""

    def name(item: Domain | Service) -> str:
        return str(item.name_en if lang == "en" and item.name_en else item.name)

    data = {
        "services": {s.id: name(s) for s in config.services},
        "domains": [{"id": d.id, "name": name(d)} for d in config.domains],
        "windows": {str(w.number): window_name(config, w.number, lang) for w in config.windows},
    }
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


@router.post("/api/desk/take")
def take(body: TakeBody, request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Any:
    web = ctx_of(request)
    if body.window not in windows_of(session, web.config):
        raise WebError("window_not_yours", 403)
    if session.window is not None and session.window != body.window:
        _leave(web, session)
    session.window = body.window
    web.accounts.save(session)
    set_desk(web, body.window, {"staff_no": session.staff.staff_no, "staff_name": session.staff.name})
    return {"ok": True, "window": body.window}


@router.post("/api/desk/leave")
def leave(request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Any:
    _leave(ctx_of(request), session)
    ctx_of(request).accounts.save(session)
    return {"ok": True}


def _leave(web: WebContext, session: Session) -> None:
    if session.window is None:
        return
    desk = web.live.get(f"desk/{session.window}")
    if isinstance(desk, dict) and desk.get("staff_no") == session.staff.staff_no:  # not a colleague's who took over
        set_desk(web, session.window, None)
    session.window = None


def free_desk(web: WebContext, session: Session) -> None:
    """A session ended without 离开窗口: its window shows nobody at the desk any more, unless the same
    clerk is at that window in another live session (a second browser)."""
    window = session.window
    if window is None:
        return
    if any(other.window == window for other in web.accounts.sessions_of(session.staff.staff_no)):
        session.window = None
        return
    _leave(web, session)
    log.info("window %d: the clerk's session ended; the desk is free", window)


def install(web: WebContext) -> None:
    """Show the clerks the console's sessions put at their windows (kept across a restart), and free
    the desk of every session that ends (``WebServer`` calls this once at start)."""
    for session in web.accounts.restored():
        if session.window is not None:
            set_desk(web, session.window, {"staff_no": session.staff.staff_no, "staff_name": session.staff.name})
    web.accounts.on_end.append(lambda session: free_desk(web, session))


def _window(session: Session) -> int:
    if session.window is None:
        raise WebError("no_window", 409)
    return session.window


def _done(request: Request, key: str, result: Any, **values: str) -> dict[str, Any]:
    return {"ok": True, "result": result, "message": i18n.t(key, lang_of(request), **values)}


def _code(result: Any) -> str:
    ticket = result.get("ticket") if isinstance(result, dict) else None
    return str(ticket.get("code", "")) if isinstance(ticket, dict) else ""


@router.post("/api/desk/transfer")
def transfer(body: TransferBody, request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Any:
    web = ctx_of(request)
    lang = lang_of(request)
    window = _window(session)
    data: dict[str, Any] = {"window": window, "staff": session.staff.staff_no}
    if (body.to_domain is None) == (body.to_window is None):
        raise WebError("transfer_target", 422)
    if body.to_domain is not None:
        domain = next((d for d in web.config.domains if d.id == body.to_domain), None)
        if domain is None:
            raise WebError("bad_form", 422)
        data["to_domain"] = domain.id
        to = domain.name_en if lang == "en" and domain.name_en else domain.name
    else:
        assert body.to_window is not None
        data["to_window"] = body.to_window
        to = window_name(web.config, body.to_window, lang)
    result = web.call("window.transfer", data)
    return _done(request, "clerk.done.transferred", result, ticket=_code(result), to=to)


@router.post("/api/desk/pause")
def pause(body: PauseBody, request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Any:
    data: dict[str, Any] = {"window": _window(session), "staff": session.staff.staff_no}
    if body.reason.strip():
        data["reason"] = body.reason.strip()
    return _done(request, "clerk.done.paused", ctx_of(request).call("window.pause", data))


@router.post("/api/desk/receipt")
def print_receipt(body: ReceiptBody, request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Any:
    """The case's 受理回执 at this desk's window printer."""
    case_no = body.case_no.strip().upper()
    if not CASE_NO.fullmatch(case_no):
        raise WebError("bad_case_no", 422)
    data = {"case_no": case_no, "window": _window(session), "lang": lang_of(request), "actor": session.staff.staff_no}
    result = print_at_window(ctx_of(request), "case.print_receipt", data)
    return _done(request, "clerk.done.receipt", result, case=case_no)


def print_at_window(web: WebContext, op: str, data: dict[str, Any]) -> dict[str, Any]:
    """Ask ``op`` (``mandate.print``, ``case.print_receipt``) to print at a window, then wait (blocking:
    call from a worker thread) for the ``print`` event of its job: the event's data when printed, else
    :class:`WebError` with the printer's code (``print_unknown`` when no event came in time)."""
    mark = web.live.event_mark()  # before asking: the event may come before the answer
    queued = web.call(op, data)
    job = queued.get("job") if isinstance(queued, dict) else None
    if not isinstance(job, str):
        raise WebError("print_unknown", 502)

    def of_job(event: Any) -> bool:
        return isinstance(event, dict) and event.get("job") == job

    outcome = web.live.wait_event("event/print", of_job, mark, PRINT_WAIT_S)
    if not isinstance(outcome, dict):
        raise WebError("print_unknown", 504)
    if not outcome.get("printed"):
        raise WebError(str(outcome.get("code") or "printer_error"), 409)
    return outcome


@router.post("/api/desk/{action}")
def act(action: str, request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Any:
    if action not in ACTIONS:
        raise WebError("not_found", 404)
    web = ctx_of(request)
    window = _window(session)
    op, done = ACTIONS[action]
    result = web.call(op, {"window": window, "staff": session.staff.staff_no})
    if action == "call" and not (isinstance(result, dict) and result.get("ticket")):
        return _done(request, "clerk.done.nobody", result)
    name = window_name(web.config, window, lang_of(request))
    return _done(request, done, result, ticket=_code(result), window=name)
