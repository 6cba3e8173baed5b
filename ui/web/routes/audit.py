"""The audit log (操作日志, managers): the controller's audit records (``audit.list``), filtered by actor,
action and day and shown a page at a time. The controller answers at most the latest 1000 records
(:class:`hall_bus.contracts.queue.AuditList`); the filters apply to those."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ui.web.accounts import Session
from ui.web.app import MANAGER, ctx_of, needs, render
from ui.web.i18n import strings

router = APIRouter()

PAGE = 50
FETCH = 1000  # the most audit.list answers

strings(
    {
        "audit.actor": ("操作人", "Who"),
        "audit.action": ("操作", "Action"),
        "audit.date": ("日期", "Day"),
        "audit.at": ("时间", "When"),
        "audit.target": ("对象", "What"),
        "audit.detail": ("详情", "Detail"),
        "audit.filter": ("筛选", "Filter"),
        "audit.reset": ("清除筛选", "Clear filters"),
        "audit.none": ("没有符合条件的记录。", "No records match."),
        "audit.count": (
            "共 {n} 条（最近 {max} 条记录内），第 {page} / {pages} 页",
            "{n} records (of the latest {max}), page {page} of {pages}",
        ),
        "audit.prev": ("上一页", "Previous page"),
        "audit.next": ("下一页", "Next page"),
        "audit.pages": ("分页", "Pages"),
    }
)


def matches(entry: dict[str, Any], actor: str, action: str, day: dt.date | None, tz: dt.tzinfo) -> bool:
    if actor and actor.lower() not in str(entry.get("actor", "")).lower():
        return False
    if action and action.lower() not in str(entry.get("action", "")).lower():
        return False
    return day is None or dt.datetime.fromtimestamp(float(entry.get("at") or 0), tz).date() == day


@router.get("/audit")
def audit_page(
    request: Request,
    actor: str = Query(default="", max_length=64),
    action: str = Query(default="", max_length=64),
    date: str = Query(default="", max_length=10),
    page: int = Query(default=1, ge=1, le=1000),
    session: Session = Depends(needs(*MANAGER)),
) -> Response:
    web = ctx_of(request)
    tz = web.config.tz()
    try:
        day = dt.date.fromisoformat(date) if date else None
    except ValueError:
        day, date = None, ""
    entries = web.call("audit.list", {"limit": FETCH}).get("entries") or []
    found = [e for e in entries if matches(e, actor.strip(), action.strip(), day, tz)]
    pages = max(1, -(-len(found) // PAGE))
    page = min(page, pages)
    rows = [
        {
            "at": dt.datetime.fromtimestamp(float(e.get("at") or 0), tz).strftime("%Y-%m-%d %H:%M:%S"),
            "actor": e.get("actor", ""),
            "action": e.get("action", ""),
            "target": e.get("target", ""),
            "detail": json.dumps(e.get("detail") or {}, ensure_ascii=False)[:300],
        }
        for e in found[(page - 1) * PAGE : page * PAGE]
    ]
    query = {"actor": actor, "action": action, "date": date}
    return render(
        request,
        "audit.html",
        session,
        rows=rows,
        total=len(found),
        page=page,
        pages=pages,
        fetch=FETCH,
        filters=query,
        prev_url=_url(query, page - 1) if page > 1 else None,
        next_url=_url(query, page + 1) if page < pages else None,
    )


def _url(query: dict[str, str], page: int) -> str:
    return "/audit?" + urlencode({**{k: v for k, v in query.items() if v}, "page": page})
