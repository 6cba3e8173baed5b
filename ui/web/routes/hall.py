"""The manager's live hall (windows, queues, pause/resume, reassign) and tidal windows (load,
proposals, accept/reject, mode). The pages draw from ``/api/live`` and follow ``/api/stream``; the
hours of each window (its state's ``hours``) and domain (hall.info's mode and hours today) are shown
as they change (延时/错时)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ui.web.accounts import Session
from ui.web.app import MANAGER, WebError, ctx_of, needs, render
from ui.web.i18n import strings

router = APIRouter()

strings(
    {
        "hall.alerts": ("未处理告警", "Open alerts"),
        "hall.queues": ("各业务排队", "Queues"),
        "hall.windows": ("窗口", "Windows"),
        "hall.domain": ("业务", "Domain"),
        "hall.waiting": ("等候人数", "Waiting"),
        "hall.green": ("绿色通道", "Green channel"),
        "hall.wait": ("预计等候", "Expected wait"),
        "hall.longest": ("最长已等", "Longest wait"),
        "hall.windows_open": ("服务窗口", "Windows open"),
        "hall.next": ("即将叫号", "Next"),
        "hall.window": ("窗口", "Window"),
        "hall.domains": ("办理业务", "Domains"),
        "hall.current": ("当前号", "Current ticket"),
        "hall.state": ("状态", "State"),
        "hall.clerk": ("工作人员", "Clerk"),
        "hall.actions": ("操作", "Actions"),
        "hall.assign": ("调整窗口业务", "Reassign window"),
        "hall.reason": ("原因", "Reason"),
        "hall.pause": ("暂停", "Pause"),
        "hall.resume": ("恢复", "Resume"),
        "hall.state.idle": ("空闲", "idle"),
        "hall.state.called": ("已叫号", "called"),
        "hall.state.serving": ("办理中", "serving"),
        "hall.state.paused": ("暂停服务", "paused"),
        "hall.state.offline": ("离线", "offline"),
        "hall.state.closed": ("已下班", "closed"),
        "hall.state.appointments": ("仅办预约", "appointments only"),
        "hall.hours": ("今日时间", "Hours today"),
        "hall.hours.closed": ("今日不开放", "closed today"),
        "hall.hours.appointments": ("预约 {hours}", "appointments {hours}"),
        "hall.mode.appointments": ("仅限预约", "appointments only"),
        "hall.mode.closed": ("停止取号", "no tickets now"),
        "hall.pending": ("本号办完后改为：{to}", "after this ticket: {to}"),
        "hall.no_estimate": ("暂无窗口", "no window open"),
        "tidal.mode": ("潮汐模式", "Tidal mode"),
        "tidal.mode.off": ("关闭", "Off"),
        "tidal.mode.propose": ("建议（需人工确认）", "Propose (a manager decides)"),
        "tidal.mode.auto": ("自动调整", "Automatic"),
        "tidal.proposals": ("调整建议", "Proposals"),
        "tidal.change": ("调整", "Change"),
        "tidal.reason": ("理由", "Reason"),
        "tidal.expect": ("预计效果", "Expected effect"),
        "tidal.none": ("当前没有调整建议。", "No proposals now."),
        "tidal.load": ("业务负荷", "Load"),
        "tidal.util": ("窗口忙碌率", "Utilisation"),
        "tidal.accept": ("采纳", "Accept"),
        "tidal.reject": ("不采纳", "Reject"),
    }
)


class PauseBody(BaseModel):
    reason: str = Field(default="", max_length=100)


class AssignBody(BaseModel):
    domains: list[str] = Field(min_length=1, max_length=20)
    reason: str = Field(default="", max_length=200)


class ModeBody(BaseModel):
    mode: str


def actor(session: Session) -> str:
    """Who the controller audits for a staff action: the logged-in staff member's number."""
    return session.staff.staff_no


@router.get("/hall")
def hall_page(request: Request, session: Session = Depends(needs(*MANAGER))) -> Response:
    web = ctx_of(request)
    return render(request, "hall.html", session, domains=web.config.domains, windows=web.config.windows)


@router.post("/api/windows/{number}/pause")
def pause(number: int, body: PauseBody, request: Request, session: Session = Depends(needs(*MANAGER))) -> Any:
    data: dict[str, Any] = {"window": number, "staff": actor(session)}
    if body.reason:
        data["reason"] = body.reason
    return {"ok": True, "result": ctx_of(request).call("window.pause", data)}


@router.post("/api/windows/{number}/resume")
def resume(number: int, request: Request, session: Session = Depends(needs(*MANAGER))) -> Any:
    return {"ok": True, "result": ctx_of(request).call("window.resume", {"window": number, "staff": actor(session)})}


@router.post("/api/windows/{number}/assign")
def assign(number: int, body: AssignBody, request: Request, session: Session = Depends(needs(*MANAGER))) -> Any:
    web = ctx_of(request)
    known = {d.id for d in web.config.domains}
    if any(d not in known for d in body.domains):
        raise WebError("bad_form", 422)
    data: dict[str, Any] = {"window": number, "domains": body.domains, "actor": actor(session)}
    if body.reason:
        data["reason"] = body.reason
    return {"ok": True, "result": web.call("window.assign", data)}


@router.get("/tidal")
def tidal_page(request: Request, session: Session = Depends(needs(*MANAGER))) -> Response:
    web = ctx_of(request)
    return render(request, "tidal.html", session, domains=web.config.domains, windows=web.config.windows)


@router.post("/api/tidal/proposals/{proposal_id}/accept")
def accept(proposal_id: str, request: Request, session: Session = Depends(needs(*MANAGER))) -> Any:
    result = ctx_of(request).call("tidal.accept", {"proposal_id": proposal_id, "actor": actor(session)})
    return {"ok": True, "result": result}


@router.post("/api/tidal/proposals/{proposal_id}/reject")
def reject(proposal_id: str, request: Request, session: Session = Depends(needs(*MANAGER))) -> Any:
    result = ctx_of(request).call("tidal.reject", {"proposal_id": proposal_id, "actor": actor(session)})
    return {"ok": True, "result": result}


@router.post("/api/tidal/mode")
def mode(body: ModeBody, request: Request, session: Session = Depends(needs(*MANAGER))) -> Any:
    if body.mode not in ("off", "propose", "auto"):
        raise WebError("bad_form", 422)
    return {"ok": True, "result": ctx_of(request).call("tidal.mode", {"mode": body.mode, "actor": actor(session)})}
