"""好差评: reports over any date range (grouped by day, week, month, window, clerk, domain, service or
hour) with a chart, CSV and XLSX export; beside them, when the booking feature runs, appointments kept
(预约履约: booked, checked in, no-shows, cancelled, the no-show rate) for the same range by day, week,
month or service (``booking.report``; the other groupings show it by day); and the 差评 follow-up
workflow (assign, note, return visit, rectification, close), overdue highlighted. The figures come from
the controller (``report.range``, ``booking.report``, ``followup.list`` ...); the exports are made from
the very answer the page shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from hall_bus.config import HallConfig
from hall_bus.features.booking import export as kept_export
from hall_bus.features.evaluation.export import report_csv, report_xlsx
from hall_bus.features.evaluation.settings import load as staff_settings
from ui.web.accounts import Session
from ui.web.app import MANAGER, WebError, ctx_of, needs, render
from ui.web.i18n import strings

router = APIRouter()

GROUPS = ("day", "week", "month", "window", "clerk", "domain", "service", "hour")
KEPT_GROUPS = ("day", "week", "month", "service")  # what booking.report groups by
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

strings(
    {
        "reports.title": ("好差评统计", "Evaluation reports"),
        "reports.from": ("开始日期", "From"),
        "reports.to": ("结束日期", "To"),
        "reports.group": ("统计维度", "Group by"),
        "reports.show": ("查询", "Show"),
        "reports.csv": ("导出 CSV", "Export CSV"),
        "reports.xlsx": ("导出 Excel", "Export XLSX"),
        "reports.group.day": ("按日", "day"),
        "reports.group.week": ("按周", "week"),
        "reports.group.month": ("按月", "month"),
        "reports.group.window": ("按窗口", "window"),
        "reports.group.clerk": ("按工作人员", "clerk"),
        "reports.group.domain": ("按业务", "domain"),
        "reports.group.service": ("按事项", "service"),
        "reports.group.hour": ("按时段", "hour"),
        "reports.key": ("项目", "Item"),
        "reports.finished": ("办结", "Served"),
        "reports.evaluated": ("已评价", "Rated"),
        "reports.not_evaluated": ("未评价", "Not rated"),
        "reports.very_rate": ("非常满意率", "Very satisfied"),
        "reports.not_rated_rate": ("未评价率", "Not rated rate"),
        "reports.bad": ("差评", "Bad reviews"),
        "reports.channels": ("评价器 / 自助机 / 扫码", "Pad / kiosk / QR"),
        "reports.total": ("合计", "Total"),
        "reports.target": ("非常满意率目标 {p}", "Target very satisfied {p}"),
        "reports.below": ("低于目标", "below target"),
        "reports.chart": ("非常满意率与目标", "Very satisfied rate against the target"),
        "reports.empty": ("所选时间段内没有办结的业务。", "No tickets were served in that period."),
        "kept.title": ("预约履约", "Appointments kept"),
        "kept.total": ("预约总数", "Bookings"),
        "kept.booked": ("待签到", "To come"),
        "kept.checked_in": ("已签到", "Checked in"),
        "kept.no_show": ("爽约", "No-shows"),
        "kept.cancelled": ("已取消", "Cancelled"),
        "kept.no_show_rate": ("爽约率", "No-show rate"),
        "kept.rate_note": (
            "爽约率 = 爽约 ÷（已签到 + 爽约）；待签到和已取消的预约不计入。",
            "No-show rate = no-shows / (checked in + no-shows); bookings still to come or cancelled do not count.",
        ),
        "kept.by_day": (
            "预约不按窗口、工作人员、业务或时段统计，此处按日显示。",
            "Appointments are not counted by window, clerk, domain or hour; they are shown by day here.",
        ),
        "kept.empty": ("所选时间段内没有预约。", "No appointments in that period."),
        "followups.title": ("差评整改跟踪", "Bad-review follow-up"),
        "followups.state": ("状态", "State"),
        "followups.all": ("全部", "all"),
        "followups.overdue_only": ("只看逾期", "overdue only"),
        "followups.ticket": ("号码", "Ticket"),
        "followups.assignee": ("责任人", "Assigned to"),
        "followups.visit_due": ("回访期限", "Return visit due"),
        "followups.rectify_due": ("整改期限", "Rectify by"),
        "followups.history": ("处理记录", "History"),
        "followups.assign": ("指派", "Assign"),
        "followups.note": ("备注", "Note"),
        "followups.visit": ("登记回访", "Return visit"),
        "followups.rectify": ("登记整改", "Rectification"),
        "followups.close": ("办结", "Close"),
        "followups.overdue": ("已逾期", "overdue"),
        "followups.real_name": ("实名", "real name"),
        "followups.summary": (
            "共 {total} 条，未办结 {open} 条，逾期 {overdue} 条；实名差评办结率 {rate}",
            "{total} in all, {open} open, {overdue} overdue; real-name bad reviews closed {rate}",
        ),
        "followups.none": ("没有符合条件的差评。", "No bad reviews match."),
        "followups.state.open": ("待回访", "to visit"),
        "followups.state.visited": ("已回访", "visited"),
        "followups.state.rectified": ("已整改", "rectified"),
        "followups.state.closed": ("已办结", "closed"),
        "followups.state.appealed": ("申诉中", "appealed"),
        "followups.result.satisfied": ("满意", "satisfied"),
        "followups.result.basically_satisfied": ("基本满意", "basically satisfied"),
        "followups.result.dissatisfied": ("不满意", "dissatisfied"),
        "followups.result.unreachable": ("未联系上", "unreachable"),
        "followups.what": ("内容", "What"),
        "followups.update": ("状态变更", "state changed"),
    }
)


def hall_today(request: Request) -> dt.date:
    """Today in the hall's time zone (not the server's, not the browser's)."""
    return dt.datetime.now(ctx_of(request).config.tz()).date()


def _range(today: dt.date, from_day: str | None, to_day: str | None, group: str) -> dict[str, Any]:
    start = from_day or (today - dt.timedelta(days=6)).isoformat()
    end = to_day or today.isoformat()
    if group not in GROUPS:
        raise WebError("bad_form", 422)
    try:
        if dt.date.fromisoformat(start) > dt.date.fromisoformat(end):
            raise WebError("bad_form", 422)
    except ValueError:
        raise WebError("bad_form", 422) from None
    return {"from_day": start, "to_day": end, "group": group}


def report_of(request: Request, from_day: str | None, to_day: str | None, group: str) -> dict[str, Any]:
    asked = _range(hall_today(request), from_day, to_day, group)
    answer: dict[str, Any] = ctx_of(request).call("report.range", asked, timeout=15)
    return answer


def booking_on(config: HallConfig) -> bool:
    """Whether the controller runs the booking feature (``[features] enabled``; all when left out)."""
    return config.features is None or "booking" in config.features


def kept_of(request: Request, from_day: str | None, to_day: str | None, group: str) -> dict[str, Any]:
    """``booking.report`` for the page's range; a grouping it does not have (window, clerk ...) by day."""
    web = ctx_of(request)
    if not booking_on(web.config):
        raise WebError("not_found", 404)
    asked = _range(hall_today(request), from_day, to_day, group)
    asked["group"] = group if group in KEPT_GROUPS else "day"
    answer: dict[str, Any] = web.call("booking.report", asked, timeout=15)
    return answer


def _download(body: bytes, fmt: str, name: str) -> Response:
    media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/reports")
def reports_page(request: Request, session: Session = Depends(needs(*MANAGER))) -> Response:
    today = hall_today(request)
    week_ago = (today - dt.timedelta(days=6)).isoformat()
    kept = booking_on(ctx_of(request).config)
    return render(
        request, "reports.html", session, groups=GROUPS, today=today.isoformat(), week_ago=week_ago, kept=kept
    )


Answer = Callable[[Request, str | None, str | None, str], dict[str, Any]]
Files = tuple[Callable[[dict[str, Any]], bytes], Callable[[dict[str, Any]], bytes]]


def _report_routes(path: str, answer_of: Answer, files: Files, file_name: str) -> None:
    """A report's answer as JSON (``path``) and as CSV or XLSX (``path/export.csv|xlsx``), for managers."""

    @router.get(path, name=f"{file_name}-json")
    def as_json(
        request: Request,
        from_day: str | None = None,
        to_day: str | None = None,
        group: str = "day",
        session: Session = Depends(needs(*MANAGER)),
    ) -> Any:
        return {"ok": True, "report": answer_of(request, from_day, to_day, group)}

    @router.get(path + "/export.{fmt}", name=f"{file_name}-file")
    def as_file(
        fmt: Literal["csv", "xlsx"],
        request: Request,
        from_day: str | None = None,
        to_day: str | None = None,
        group: str = "day",
        session: Session = Depends(needs(*MANAGER)),
    ) -> Response:
        answer = answer_of(request, from_day, to_day, group)
        name = f"{file_name}-{answer['from_day']}-{answer['to_day']}-{answer['group']}.{fmt}"
        return _download((files[0] if fmt == "csv" else files[1])(answer), fmt, name)


_report_routes("/api/reports", report_of, (report_csv, report_xlsx), "haochaping")
_report_routes("/api/reports/bookings", kept_of, (kept_export.report_csv, kept_export.report_xlsx), "yuyue")


# ---------------------------------------------------------------------- follow-up
class StepBody(BaseModel):
    action: Literal["assign", "note", "visit", "rectify", "close"]
    note: str = Field(default="", max_length=500)
    assignee: str = Field(default="", max_length=16)
    result: str = Field(default="", max_length=32)


@router.get("/followups")
def followups_page(request: Request, session: Session = Depends(needs(*MANAGER))) -> Response:
    staff = staff_settings(ctx_of(request).config).staff
    return render(request, "followups.html", session, staff=staff)


@router.get("/api/followups")
def followups(
    request: Request, state: str = "", overdue: bool = False, session: Session = Depends(needs(*MANAGER))
) -> Any:
    data: dict[str, Any] = {"overdue": overdue}
    if state:
        data["state"] = state
    return {"ok": True, **ctx_of(request).call("followup.list", data)}


@router.post("/api/followups/{followup_id}")
def step(followup_id: int, body: StepBody, request: Request, session: Session = Depends(needs(*MANAGER))) -> Any:
    data: dict[str, Any] = {"id": followup_id, "actor": session.staff.staff_no}
    if body.note:
        data["note"] = body.note
    if body.action == "assign":
        data["assignee"] = body.assignee
    if body.action == "visit":
        data["result"] = body.result
    return {"ok": True, **ctx_of(request).call(f"followup.{body.action}", data)}
