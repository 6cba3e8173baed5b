"""A case's progress on the phone (办件进度查询), no login: ``/case``.

* ``GET /case`` (``?no=<case number>`` fills the number in, as the message's link does): a form
  asking the case number and the verification code printed on the receipt (``case.receipt``).
* ``POST /case`` (a plain form: ``case_no``, ``code``): ``case.progress``. A good code shows the
  case: its title, its status now and the history of its statuses with their times; nothing
  personal (the case holds only a salted identity token, and the answer not even that). A wrong
  code, and a case number that does not exist, get the same sentence.

Wrong codes are limited twice: the controller locks a case after five wrong codes in 15 minutes
(:mod:`hall_bus.features.cases.codes`, kept in its store), and this page refuses a client address
that sent :data:`MAX_PER_CLIENT` wrong codes within :data:`CLIENT_WINDOW_S` (whatever the case),
so nobody walks through the case numbers either. The form has no session to ride, so it carries no
CSRF token; a POST whose ``Origin`` is another site is refused.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hall_bus.features.cases.store import STATUS_ZH
from ui.web import i18n
from ui.web.app import WebContext, WebError, ctx_of, lang_of, render
from ui.web.citizen import service_name
from ui.web.i18n import error_sentence, strings
from ui.web.limits import ClientWindow, window_of
from ui.web.routes.phone_booking import same_origin

router = APIRouter()

CASE_NO = re.compile(r"[A-Z0-9][A-Z0-9-]{3,31}")
MAX_PER_CLIENT = 10
CLIENT_WINDOW_S = 900.0
EXTRA_KEY = "case_page_failures"
STATUS_EN = {
    "received": "Received",
    "processing": "Being processed",
    "ready": "Done: ready to collect",
    "deposited": "In the 24-hour locker",
    "collected": "Collected",
    "returned": "Returned to the window",
    "closed": "Closed",
}

strings(
    {
        "case.title": ("办件进度查询", "Case progress"),
        "case.intro": (
            "请输入受理回执上的办件编号和查询码。",
            "Enter the case number and the verification code printed on your receipt.",
        ),
        "case.no": ("办件编号", "Case number"),
        "case.code": ("查询码", "Verification code"),
        "case.code_hint": (
            "8 位字母和数字，印在回执上，例如 7K3M‑Q9TX。",
            "8 letters and digits on the receipt, e.g. 7K3M‑Q9TX.",
        ),
        "case.submit": ("查询", "Check"),
        "case.status_now": ("当前状态", "Status now"),
        "case.history": ("办理进度", "History"),
        "case.another": ("查询其他办件", "Check another case"),
        "case.privacy": ("本页不显示任何个人信息。", "This page shows no personal data."),
        "case.detail.deposited": (
            "请到24小时自助取件柜取件。",
            "Collect it from the 24-hour locker.",
        ),
    }
)


def failures_of(web: WebContext) -> ClientWindow:
    return window_of(web, EXTRA_KEY, MAX_PER_CLIENT, CLIENT_WINDOW_S)


def status_name(status: str, status_zh: str, lang: str) -> str:
    return STATUS_EN.get(status, status) if lang == "en" else status_zh


def case_view(web: WebContext, case: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the page shows of a case: no identity token, no actor, no note."""
    tz = web.config.tz()

    def when(at: float) -> str:
        return dt.datetime.fromtimestamp(float(at), tz).strftime("%Y-%m-%d %H:%M")

    return {
        "case_no": case["case_no"],
        "title": service_name(web, str(case["service"]), lang) if lang == "en" else case["title"],
        "status": case["status"],
        "status_name": status_name(case["status"], case["status_zh"], lang),
        "detail": i18n.t("case.detail.deposited", lang) if case["status"] == "deposited" else "",
        "updated": when(case["updated_at"]),
        "steps": [
            {"status": s["status"], "name": status_name(s["status"], STATUS_ZH[s["status"]], lang), "at": when(s["at"])}
            for s in reversed(case["steps"])
        ],
    }


def _form(request: Request, case_no: str = "", error: str | None = None, status: int = 200) -> Response:
    lang = lang_of(request)
    message = error_sentence(error, lang) if error else None
    return render(request, "phone-case.html", None, status, case_no=case_no, error=error, message=message, view=None)


@router.get("/case")
def case_page(request: Request, no: str = "") -> Response:
    case_no = no.strip().upper()[:32]
    response = _form(request, case_no if CASE_NO.fullmatch(case_no) else "")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/case")
async def case_lookup(request: Request) -> Response:
    same_origin(request)
    web = ctx_of(request)
    form = await request.form()
    case_no = str(form.get("case_no") or "").strip().upper()[:32]
    code = str(form.get("code") or "").strip()[:16]
    client = request.client.host if request.client else "?"
    now = time.monotonic()
    failures = failures_of(web)
    if failures.blocked(client, now):
        return _form(request, case_no, "rate_limited", 429)
    if not CASE_NO.fullmatch(case_no) or not code:
        return _form(request, case_no, "case_code", 400)
    try:
        case = web.call("case.progress", {"case_no": case_no, "code": code})["case"]
    except WebError as exc:
        if exc.code == "case_code":
            failures.count(client, now)
        return _form(request, case_no, exc.code, 429 if exc.code == "case_code_locked" else exc.status)
    view = case_view(web, case, lang_of(request))
    response = render(request, "phone-case.html", None, case_no=case_no, error=None, message=None, view=view)
    response.headers["Cache-Control"] = "no-store"
    return response
