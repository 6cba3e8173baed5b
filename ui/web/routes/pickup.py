"""The 24-hour pickup page (24小时自助取件, managers): items in the lockers, the overdue ones, return an
item to a window (the controller opens its compartment for the staff member), and put a compartment
whose door failed back into service. Contracts: :mod:`hall_bus.contracts.pickup`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ui.web.accounts import Session
from ui.web.alerts import alerts_of
from ui.web.app import MANAGER, ctx_of, needs, render
from ui.web.i18n import strings

router = APIRouter()

strings(
    {
        "pickup.items": ("柜中物品", "Items in the lockers"),
        "pickup.overdue": ("超期未取", "Overdue"),
        "pickup.overdue_note": ("存放超过 {days} 天未取走的物品。", "Items not collected within {days} days."),
        "pickup.faults": ("停用的柜格", "Compartments out of service"),
        "pickup.free_sizes": (
            "空闲柜格：小格 {S} 个 · 中格 {M} 个 · 大格 {L} 个",
            "Free compartments: small {S} · medium {M} · large {L}",
        ),
        "pickup.case": ("办件编号", "Case"),
        "pickup.item": ("物品", "Item"),
        "pickup.compartment": ("柜格", "Compartment"),
        "pickup.state": ("状态", "State"),
        "pickup.deposited_at": ("存入时间", "Deposited"),
        "pickup.reason": ("原因", "Reason"),
        "pickup.since": ("停用时间", "Since"),
        "pickup.return": ("退回窗口", "Return to window"),
        "pickup.return_reason": ("退回原因（可不填）", "Why (optional)"),
        "pickup.returning": ("柜门已打开，请取出物品并关好柜门。", "The door is open: take the item out and close it."),
        "pickup.clear": ("恢复使用", "Back in service"),
        "pickup.none": ("柜中没有物品。", "The lockers are empty."),
        "pickup.no_overdue": ("没有超期物品。", "Nothing is overdue."),
        "pickup.no_faults": ("所有柜格正常。", "Every compartment works."),
        "pickup.state.depositing": ("正在存入", "being deposited"),
        "pickup.state.deposited": ("待取件", "waiting"),
        "pickup.state.collecting": ("正在取件", "being collected"),
        "pickup.state.returning": ("正在退回窗口", "being returned"),
        "pickup.state.collected": ("已取走", "collected"),
        "pickup.state.returned": ("已退回窗口", "returned"),
        "pickup.state.cancelled": ("已取消", "cancelled"),
    }
)


class ReturnBody(BaseModel):
    reason: str = Field(default="", max_length=200)


@router.get("/pickup")
def pickup_page(request: Request, session: Session = Depends(needs(*MANAGER))) -> Response:
    return render(request, "pickup.html", session)


@router.get("/api/pickup")
def pickup_now(request: Request, session: Session = Depends(needs(*MANAGER))) -> dict[str, Any]:
    web = ctx_of(request)
    listed = web.call("pickup.list", {"limit": 500})
    overdue = web.call("pickup.overdue", {})
    faults = listed.get("faults") or []
    positions = {}
    for item in listed.get("items") or []:
        positions[item["compartment"]["no"]] = item["compartment"].get("position", "")
    alerts_of(web).faults_now({f["compartment"] for f in faults}, positions)
    return {
        "ok": True,
        "items": listed.get("items") or [],
        "faults": faults,
        "free": listed.get("free") or {},
        "overdue": overdue,
    }


@router.post("/api/pickup/{item_id}/return")
def return_item(
    item_id: int, body: ReturnBody, request: Request, session: Session = Depends(needs(*MANAGER))
) -> dict[str, Any]:
    data: dict[str, Any] = {"item_id": item_id, "actor": session.staff.staff_no}
    if body.reason:
        data["reason"] = body.reason
    return {"ok": True, "result": ctx_of(request).call("pickup.return", data, timeout=10.0)}


@router.post("/api/pickup/faults/{compartment}/clear")
def clear_fault(compartment: str, request: Request, session: Session = Depends(needs(*MANAGER))) -> dict[str, Any]:
    web = ctx_of(request)
    result = web.call("pickup.fault.clear", {"compartment": compartment[:16], "actor": session.staff.staff_no})
    alerts_of(web).book.resolve("locker_jammed", compartment)
    return {"ok": True, "result": result}
