"""Log in, log out, and the way home."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ui.web import i18n
from ui.web.accounts import AccountError
from ui.web.app import COOKIE, csrf_of, ctx_of, home_of, lang_of, render, session_of

router = APIRouter()
LOGIN_COOKIE = "hallkit_login"  # double-submit token of the login form (there is no session yet)


@router.get("/")
def home(request: Request) -> Response:
    session = session_of(request)
    return RedirectResponse(home_of(session) if session else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "", why: str = "") -> Response:
    token = secrets.token_urlsafe(16)
    message = i18n.t(f"login.{why}", lang_of(request)) if why in ("logged_out", "expired") else ""
    response = render(request, "login.html", None, next=_local(next), login_token=token, message=message, error="")
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict")
    return response


@router.post("/login")
def login(
    request: Request,
    staff_no: str = Form(""),
    password: str = Form(""),
    login_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    web = ctx_of(request)
    lang = lang_of(request)
    cookie_token = request.cookies.get(LOGIN_COOKIE, "")
    error = ""
    if not cookie_token or not secrets.compare_digest(cookie_token, login_token):
        error = i18n.error_sentence("csrf", lang)
    else:
        try:
            staff = web.accounts.authenticate(staff_no.strip(), password)
        except AccountError as exc:
            error = i18n.error_sentence(exc.code, lang)
        else:
            value, session = web.accounts.open_session(staff)
            home = RedirectResponse(_local(next) or home_of(session), status_code=303)
            home.set_cookie(
                COOKIE, value, httponly=True, samesite="strict", secure=web.settings.secure_cookies, path="/"
            )
            home.delete_cookie(LOGIN_COOKIE)
            return home
    token = secrets.token_urlsafe(16)
    response = render(
        request, "login.html", None, status=401, next=_local(next), login_token=token, message="", error=error
    )
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    web = ctx_of(request)
    session = session_of(request)
    token = await csrf_of(request)
    if session is not None and token is not None and secrets.compare_digest(token, session.csrf):
        web.accounts.close_session(request.cookies.get(COOKIE))
    response = RedirectResponse("/login?why=logged_out", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _local(path: str) -> str:
    """Only a path of this site to go on to after the login (never another site)."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else ""
