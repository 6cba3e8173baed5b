"""The staff web console: a FastAPI application and a bus client of its own (client id ``web``).

Why FastAPI (on Starlette, under uvicorn): it is kept up, typed, small, tests with a plain HTTP client,
serves templates and static files without a build step, and its dependencies express "this page needs
a logged-in manager" once per route. Server-sent events (Starlette's streaming responses) carry the
live hall to the browsers: one direction is all the pages need, and it passes any proxy.

Security, in the order a request meets it (docs/web.md):

1. the session cookie (signed, HttpOnly, SameSite=Strict) names a live session, else 401 for the API
   and the login page for a page;
2. the route's roles (:func:`needs`) admit the session's staff member, else 403;
3. every request that changes something carries the session's CSRF token (header ``X-CSRF-Token`` or
   form field ``csrf``), else 403 ``csrf``;
4. the bus: the web server calls the controller as client ``web`` and names the staff member as the
   actor; the controller checks the ``web`` role again and audits the staff id.

The page modules (``ui.web.routes.*``) each give a ``router`` and are included below.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from hall_bus.bus.client import BusClient
from hall_bus.bus.rpc import BusError, BusTimeout, RequestFailed
from hall_bus.config import HallConfig
from hall_bus.features.evaluation.settings import Staff
from ui.web import i18n, sse
from ui.web.accounts import Accounts, Session
from ui.web.live import HallLive
from ui.web.settings import WebSettings

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
COOKIE = "hallkit_session"
LANG_COOKIE = "hallkit_lang"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class WebContext:
    """What every page needs: the hall, the bus, the accounts and the live hall."""

    config: HallConfig
    bus: BusClient
    accounts: Accounts
    live: HallLive
    settings: WebSettings
    extras: dict[str, Any] = field(default_factory=dict)  # page modules keep their state here (alerts, tablets)

    def call(self, op: str, data: dict[str, Any], timeout: float = 5.0) -> Any:
        """A request to the controller as client ``web``; a refusal raises :class:`WebError` with its code."""
        try:
            return self.bus.request(op, data, timeout=timeout)
        except RequestFailed as exc:
            raise WebError(exc.code, 409 if exc.code not in ("forbidden", "not_found") else 403) from None
        except BusTimeout:
            raise WebError("bus", 503) from None
        except BusError:
            raise WebError("bus", 503) from None


class WebError(Exception):
    """An error a page shows as a sentence: its code, and the HTTP status of an API answer."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


templates = Jinja2Templates(directory=str(HERE / "templates"))


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return lang if lang in i18n.LANGS else "zh"


def ctx_of(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def session_of(request: Request) -> Session | None:
    session: Session | None = ctx_of(request).accounts.session(request.cookies.get(COOKIE))
    return session


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


class LoginRequired(Exception):
    pass


async def csrf_of(request: Request) -> str | None:
    """The CSRF token a request carries: the header of a script's call, or the field of a form."""
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get("csrf")
        token = value if isinstance(value, str) else None
    return token


def needs(*roles: str) -> Callable[[Request], Awaitable[Session]]:
    """A route dependency: a live session whose staff member has one of ``roles``; for requests that
    change something also the session's CSRF token."""

    async def check(request: Request) -> Session:
        session = session_of(request)
        if session is None:
            if is_api(request) or request.method in UNSAFE:
                raise WebError("not_logged_in", 401)
            raise LoginRequired()
        if roles and not session.has(*roles):
            raise WebError("role_forbidden", 403)
        if request.method in UNSAFE:
            token = await csrf_of(request)
            if token is None or not secrets.compare_digest(token, session.csrf):
                raise WebError("csrf", 403)
        return session

    return check


MANAGER = ("manager", "admin")
ANY_STAFF = ("clerk", "manager", "admin")


def render(request: Request, name: str, session: Session | None, status: int = 200, **values: Any) -> HTMLResponse:
    lang = lang_of(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": lambda key, **kw: i18n.t(key, lang, **kw),
            "error_sentence": lambda code: i18n.error_sentence(code, lang),
            "user": session,
            "csrf": session.csrf if session else "",
            "nav": nav_of(session, lang),
            "hall": ctx_of(request).config,
            "strings_json": json.dumps(i18n.all_strings(lang), ensure_ascii=False),
            **values,
        },
        status_code=status,
    )
    return response


def is_phone_page(path: str) -> bool:
    """The citizens' pages (no login): a ticket, booking, a case, a mandate."""
    return path in ("/book", "/case") or path.startswith(("/t/", "/m/", "/book/", "/case/"))


NAV: list[tuple[str, str, tuple[str, ...]]] = [
    ("/hall", "nav.hall", MANAGER),
    ("/tidal", "nav.tidal", MANAGER),
    ("/devices", "nav.devices", MANAGER),
    ("/reports", "nav.reports", MANAGER),
    ("/followups", "nav.followups", MANAGER),
    ("/pickup", "nav.pickup", MANAGER),
    ("/audit", "nav.audit", MANAGER),
    ("/tablets", "nav.tablets", MANAGER),
    ("/bookings", "nav.bookings", MANAGER),
    ("/mandates", "nav.mandates", ANY_STAFF),
    ("/clerk", "nav.clerk", ("clerk",)),
]


def nav_of(session: Session | None, lang: str) -> list[dict[str, str]]:
    if session is None:
        return []
    return [{"href": href, "label": i18n.t(key, lang)} for href, key, roles in NAV if session.has(*roles)]


def home_of(session: Session) -> str:
    return "/hall" if session.has(*MANAGER) else "/clerk"


def create_app(web: WebContext) -> FastAPI:
    app = FastAPI(title="HallKit staff console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = web
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"
        )
        return response

    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError) -> Response:
        lang = lang_of(request)
        if is_api(request) or request.method in UNSAFE:
            return JSONResponse(
                {"ok": False, "code": exc.code, "message": i18n.error_sentence(exc.code, lang)}, status_code=exc.status
            )
        if is_phone_page(request.url.path):  # a citizen's page: the phone's frame, not the staff console's
            return render(request, "phone-error.html", None, status=exc.status, code=exc.code)
        if exc.status == 403:
            return render(request, "forbidden.html", session_of(request), status=403)
        return render(request, "error.html", session_of(request), status=exc.status, code=exc.code)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        why = "&why=expired" if request.cookies.get(COOKIE) else ""  # a cookie whose session is over
        return RedirectResponse(f"/login?next={request.url.path}{why}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        code = {404: "not_found", 405: "invalid_request", 422: "bad_form"}.get(exc.status_code, "failed")
        return JSONResponse(
            {"ok": False, "code": code, "message": i18n.error_sentence(code, lang_of(request))},
            status_code=exc.status_code,
        )

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"ok": True, "bus": web.bus.wait_connected(0)}

    @app.get("/lang/{lang}")
    def set_lang(lang: str, request: Request) -> Response:
        back = request.headers.get("referer") or "/"
        response = RedirectResponse(back if back.startswith(("/", str(request.base_url))) else "/", status_code=303)
        response.set_cookie(LANG_COOKIE, lang if lang in i18n.LANGS else "zh", samesite="strict", max_age=365 * 86400)
        return response

    @app.get("/api/live")
    def live_now(session: Session = Depends(needs(*ANY_STAFF))) -> dict[str, Any]:
        return {"ok": True, "live": web.live.snapshot()}

    @app.get("/api/stream")
    async def stream(request: Request, session: Session = Depends(needs(*ANY_STAFF))) -> StreamingResponse:
        return StreamingResponse(_events(request, web.live), media_type="text/event-stream")

    from ui.web.routes import routers

    for router in routers():
        app.include_router(router)
    return app


async def _events(request: Request, live: HallLive) -> AsyncIterator[bytes]:
    q = live.feed()
    try:
        yield sse.RETRY
        yield sse.event("hello", {"live": live.snapshot()})
        async for item in sse.changes(request, q):
            if item is None:
                yield sse.KEEPALIVE
                continue
            key, data = item
            yield sse.event("change", {"topic": key, "data": data})
    finally:
        live.unfeed(q)


def staff_label(staff: Staff) -> str:
    return f"{staff.name}（{staff.staff_no}）"
