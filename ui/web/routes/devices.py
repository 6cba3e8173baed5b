"""The devices page (设备与告警, managers): every device of hall.toml with its health from the bus, and
the alerts (:mod:`ui.web.alerts`) with acknowledge. The page loads ``/api/devices`` once and then follows
``/api/stream`` (``device/*``, ``device-availability/*``, ``alert/*``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ui.web.accounts import Session
from ui.web.alerts import alerts_of
from ui.web.app import MANAGER, WebError, ctx_of, needs, render
from ui.web.i18n import strings

router = APIRouter()

strings(
    {
        "dev.devices": ("设备", "Devices"),
        "dev.alerts": ("告警", "Alerts"),
        "dev.id": ("设备编号", "Device"),
        "dev.kind": ("类型", "Kind"),
        "dev.host": ("所在位置", "Where"),
        "dev.online": ("连接", "Connection"),
        "dev.health": ("状态", "Health"),
        "dev.seen": ("最近更新", "Last heard"),
        "dev.never": ("尚无消息", "never"),
        "dev.yes_online": ("在线", "online"),
        "dev.no_online": ("离线", "offline"),
        "dev.unknown": ("未知", "unknown"),
        "dev.kind.printer": ("打印机", "printer"),
        "dev.kind.idcard": ("身份证阅读器", "ID card reader"),
        "dev.kind.scanner": ("高拍仪", "document camera"),
        "dev.kind.locker": ("智能取件柜", "pickup lockers"),
        "dev.kind.pad": ("评价器", "evaluation pad"),
        "dev.kind.caller": ("呼叫器", "caller"),
        "dev.kind.display": ("窗口屏", "window display"),
        "dev.state.connecting": ("连接中", "connecting"),
        "dev.state.ready": ("正常", "ready"),
        "dev.state.degraded": ("可用，有警告", "working, with a warning"),
        "dev.state.offline": ("离线", "offline"),
        "dev.state.error": ("故障", "fault"),
        "dev.flag.paper_out": ("缺纸", "paper out"),
        "dev.flag.paper_near_end": ("纸将用完", "paper low"),
        "dev.flag.cover_open": ("机盖打开", "cover open"),
        "dev.alert.when": ("发生时间", "Since"),
        "dev.alert.what": ("告警内容", "Alert"),
        "dev.alert.level": ("级别", "Level"),
        "dev.alert.state": ("处理情况", "Status"),
        "dev.alert.critical": ("严重", "critical"),
        "dev.alert.warning": ("提醒", "warning"),
        "dev.alert.open": ("未解除", "open"),
        "dev.alert.closed": ("已解除", "resolved"),
        "dev.alert.ack": ("确认", "Acknowledge"),
        "dev.alert.acked": ("{who} 已确认", "acknowledged by {who}"),
        "dev.alert.none": ("当前没有告警。", "No alerts."),
        "error.alert_unknown": ("没有这条告警。", "There is no such alert."),
    }
)


def device_rows(request: Request) -> list[dict[str, Any]]:
    web = ctx_of(request)
    watcher = alerts_of(web)
    rows = []
    for dev in web.config.devices:
        rows.append(
            {
                "id": dev.id,
                "kind": dev.kind,
                "host": dev.host,
                "window": dev.window,
                "where": watcher.where(dev.id, "zh"),
                "where_en": watcher.where(dev.id, "en"),
                "state": watcher.state.get(dev.id),
                "online": watcher.online.get(dev.id),
                "heard_at": watcher.heard.get(dev.id),
            }
        )
    return rows


@router.get("/devices")
def devices_page(request: Request, session: Session = Depends(needs(*MANAGER))) -> Response:
    alerts_of(ctx_of(request))
    return render(request, "devices.html", session)


@router.get("/api/devices")
def devices_now(request: Request, session: Session = Depends(needs(*MANAGER))) -> dict[str, Any]:
    watcher = alerts_of(ctx_of(request))
    return {
        "ok": True,
        "devices": device_rows(request),
        "alerts": [a.as_dict() for a in watcher.book.recent()],
    }


@router.post("/api/alerts/{alert_id}/ack")
def acknowledge(alert_id: int, request: Request, session: Session = Depends(needs(*MANAGER))) -> dict[str, Any]:
    alert = alerts_of(ctx_of(request)).book.acknowledge(alert_id, session.staff.staff_no)
    if alert is None:
        raise WebError("alert_unknown", 404)
    return {"ok": True, "alert": alert.as_dict()}
