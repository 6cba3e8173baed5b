"""Scanned materials: the kiosk's upload (for a ticket or a case), the clerk's list of the current
ticket's pages or of a case's, and the pages and PDF themselves, each served view audited
(ui/web/scans.py has the rules; docs/citizen-web.md "Scans at the window").
"""

from __future__ import annotations

import base64
import binascii
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.datastructures import UploadFile

from ui.web import i18n
from ui.web.accounts import Session
from ui.web.app import ANY_STAFF, MANAGER, WebContext, WebError, ctx_of, lang_of, needs
from ui.web.scans import CASE, ScanRefused, WindowScans, hall_day

router = APIRouter()

EXTRA_KEY = "window_scans"
PURGE_EVERY_S = 3600.0


def scans_of(web: WebContext) -> WindowScans:
    """The console's :class:`WindowScans` (made, and purged, on first use; purged again hourly)."""
    found = web.extras.get(EXTRA_KEY)
    if not isinstance(found, WindowScans):
        found = web.extras[EXTRA_KEY] = WindowScans(web.config, web.accounts.db)
        web.extras[EXTRA_KEY + ".purged"] = 0.0
    if time.monotonic() - float(web.extras[EXTRA_KEY + ".purged"]) > PURGE_EVERY_S:
        found.purge()
        web.extras[EXTRA_KEY + ".purged"] = time.monotonic()
    return found


def _basic(request: Request) -> tuple[str, str]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        user, _, password = base64.b64decode(value).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def _refused(request: Request, exc: ScanRefused) -> JSONResponse:
    sentence = i18n.error_sentence(exc.code, lang_of(request))
    return JSONResponse({"ok": False, "code": exc.code, "message": sentence}, status_code=exc.status)


@router.post("/api/scans/upload")
async def upload(request: Request) -> Response:
    """A kiosk's scan session for a ticket or a case (multipart: ``ticket`` or ``case``, ``ref``, files
    ``document.pdf``, ``page-NNN.jpg``), signed in with the kiosk's bus login (HTTP Basic)."""
    store = scans_of(ctx_of(request))
    try:
        kiosk = store.check_kiosk(*_basic(request))
        form = await request.form(max_files=64)
        files: dict[str, bytes] = {}
        for value in form.getlist("file"):
            if isinstance(value, UploadFile) and value.filename:
                files[value.filename] = await value.read()
        ticket, case_no, ref = form.get("ticket"), form.get("case"), form.get("ref")
        if not isinstance(ref, str) or isinstance(ticket, str) == isinstance(case_no, str):  # one of the two
            raise ScanRefused("scan_files", 422)
        if isinstance(case_no, str):
            saved = store.save_case(kiosk, case_no.strip().upper(), ref, files)
        else:
            assert isinstance(ticket, str)
            saved = store.save(kiosk, ticket.strip().upper(), ref, files)
    except ScanRefused as exc:
        return _refused(request, exc)
    answer = {"ok": True, "ticket": saved.ticket, "ref": saved.ref, "pages": len(saved.pages)}
    if saved.case_no:
        answer = {"ok": True, "case_no": saved.case_no, "ref": saved.ref, "pages": len(saved.pages)}
    return JSONResponse(answer)


def current_ticket(web: WebContext, window: int) -> str:
    w = web.live.get(f"window/{window}")
    cur = w.get("current") if isinstance(w, dict) else None
    return str(cur.get("code") or "") if isinstance(cur, dict) else ""


def may_view(web: WebContext, session: Session, day: str, ticket: str) -> bool:
    """A manager; or the clerk at the window where ``ticket`` is the current ticket today."""
    if session.has(*MANAGER):
        return True
    window = session.window
    today = hall_day(web.config, time.time())
    return window is not None and day == today and current_ticket(web, window) == ticket


def may_view_case(web: WebContext, session: Session, case_no: str) -> bool:
    """A manager; or a clerk whose session holds a window that may serve the case's domain (its
    ``skills``: a 社保 clerk does not open a 不动产 citizen's papers). A case number that does not exist
    has nothing to show: the clerk at a window is told so."""
    if session.has(*MANAGER):
        return True
    if session.window is None or not CASE.fullmatch(case_no):
        return False
    try:
        found = web.call("case.lookup", {"case_no": case_no})["cases"]
    except WebError as exc:
        return exc.code == "not_found"
    skills = web.config.window(session.window).skills
    domains = {s.id: s.domain for s in web.config.services}
    return all(domains.get(c["service"]) in skills for c in found)  # none found: nothing to show


@router.get("/api/scans/current")
def current(request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Any:
    """The scan sessions of the ticket now at the session's window."""
    web = ctx_of(request)
    if session.window is None:
        raise WebError("no_window", 409)
    ticket = current_ticket(web, session.window)
    sets = scans_of(web).of_ticket(ticket) if ticket else []
    return {"ok": True, "window": session.window, "ticket": ticket, "scans": [s.as_dict() for s in sets]}


@router.get("/scans/{day}/{ticket}/{ref}/{name}")
def scan_file(
    day: str, ticket: str, ref: str, name: str, request: Request, session: Session = Depends(needs(*ANY_STAFF))
) -> Response:
    web = ctx_of(request)
    store = scans_of(web)
    if not may_view(web, session, day, ticket):  # (before looking: a refusal tells nothing of what exists)
        raise WebError("scan_not_yours", 403)
    path = store.file(day, ticket, ref, name)
    if path is None:
        raise WebError("not_found", 404)
    store.audit(session.staff.staff_no, session.window, day, ticket, ref, name)
    return _served(path, f"{ticket}-{ref}-{name}")


@router.get("/api/scans/case/{case_no}")
def of_case(case_no: str, request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> Any:
    """The scan sessions a kiosk sent for case ``case_no`` (办件编号)."""
    case_no = case_no.strip().upper()
    if not may_view_case(ctx_of(request), session, case_no.strip().upper()):
        raise WebError("scan_case_not_yours", 403)
    if not CASE.fullmatch(case_no):
        raise WebError("bad_case_no", 422)
    sets = scans_of(ctx_of(request)).of_case(case_no)
    return {"ok": True, "case_no": case_no, "scans": [s.as_dict() for s in sets]}


@router.get("/scanned/case/{case_no}/{ref}/{name}")  # (not under /case: the phone pages')
def case_file(
    case_no: str, ref: str, name: str, request: Request, session: Session = Depends(needs(*ANY_STAFF))
) -> Response:
    store = scans_of(ctx_of(request))
    if not may_view_case(
        ctx_of(request), session, case_no.strip().upper()
    ):  # (before looking: a refusal tells nothing of what exists)
        raise WebError("scan_case_not_yours", 403)
    path = store.case_file(case_no, ref, name)
    if path is None:
        raise WebError("not_found", 404)
    store.audit(session.staff.staff_no, session.window, "", "", ref, name, case_no=case_no)
    return _served(path, f"{case_no}-{ref}-{name}")


def _served(path: Path, filename: str) -> FileResponse:
    kind = "application/pdf" if path.name.endswith(".pdf") else "image/jpeg"
    headers = {"Cache-Control": "no-store", "Content-Disposition": f'inline; filename="{filename}"'}
    return FileResponse(path, media_type=kind, headers=headers)
