"""The workbench's plumbing: the app mounted at /staff, its templates, who is signed in,
and the guard every form post passes (a live session and its CSRF token)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode, urlparse

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import validity
from core.clock import now
from core.config import Config
from core.send_window import member_zone
from handlers.desk.ticket_lifecycle import Actor
from handlers.ports import Sender
from staff import i18n
from staff.auth import COOKIE, Sessions, Staff, csrf_ok
from storage.db import Database

HERE = Path(__file__).parent
LANG_COOKIE = "memberbot_staff_lang"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Setup(Protocol):
    """What the workbench takes from the composition root (app.composition.App)."""

    @property
    def config(self) -> Config: ...

    @property
    def database(self) -> Database: ...


@dataclass
class Desk:
    app: Setup
    senders: Mapping[str, Sender]
    sessions: Sessions
    templates: Jinja2Templates

    @property
    def db(self) -> Database:
        return self.app.database

    @property
    def config(self) -> Config:
        return self.app.config


class SignInNeeded(Exception):
    pass


class Refused(Exception):
    """A post without a live session or a valid CSRF token."""


def create(app: Setup, senders: Mapping[str, Sender], secret: str | None = None) -> FastAPI:
    from staff import account_pages, campaign_pages, events, member_pages, pages

    workbench = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["when"] = pass_context(
        lambda ctx, moment: i18n.when(moment, ctx["lang"], app.config.zone) if moment else "-"
    )
    templates.env.filters["day"] = pass_context(lambda ctx, d: i18n.day(d, ctx["lang"]))
    # A voucher's expiry as the member reads it: the last valid day in their zone.
    templates.env.filters["last_day"] = pass_context(
        lambda ctx, expires_at, timezone: i18n.day(
            validity.last_day(expires_at, member_zone(timezone, app.config)), ctx["lang"]
        )
    )
    templates.env.filters["month_day"] = pass_context(lambda ctx, d: i18n.month_day(d, ctx["lang"]))
    templates.env.filters["number"] = pass_context(lambda ctx, n: i18n.number(n or 0, ctx["lang"]))
    templates.env.filters["money"] = pass_context(lambda ctx, n: i18n.money(n or 0, ctx["lang"]))
    templates.env.filters["names"] = pass_context(lambda ctx, n: i18n.names(n, ctx["lang"]))
    templates.env.filters["event"] = pass_context(
        lambda ctx, e: i18n.event_label(e.kind, e.data, ctx["t"])
    )
    workbench.state.desk = Desk(app, senders, Sessions(app.database, secret), templates)
    workbench.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    workbench.include_router(pages.router)
    workbench.include_router(campaign_pages.router)
    workbench.include_router(member_pages.router)
    workbench.include_router(account_pages.router)
    workbench.include_router(events.router)

    @workbench.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @workbench.exception_handler(SignInNeeded)
    async def sign_in_first(request: Request, _exc):
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"{base(request)}/signin?{urlencode({'next': wanted})}", status_code=303
        )

    @workbench.exception_handler(Refused)
    async def refused(request: Request, _exc):
        # Signed out (or a form from an ended session) and signed in without the role read
        # differently: one needs signing in again, the other someone with the right role.
        staff = await run_in_threadpool(current, request)
        problem = "error.no_permission" if staff else "error.signed_out"
        return render(
            request, "error.html", staff, 403, problem=problem, hint=f"{problem}_hint", next=""
        )

    @workbench.exception_handler(StarletteHTTPException)
    async def not_here(request: Request, exc: StarletteHTTPException):
        staff = await run_in_threadpool(current, request)
        return render(request, "error.html", staff, exc.status_code, problem="error.not_found")

    return workbench


def desk(request: Request) -> Desk:
    return request.app.state.desk


def base(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def language(request: Request, staff: Staff | None) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in i18n.LANGUAGES:
        return chosen
    if staff is not None:
        return staff.language
    return desk(request).config.default_language


def current(request: Request) -> Staff | None:
    return desk(request).sessions.current(request.cookies.get(COOKIE), now())


def signed_in(request: Request) -> Staff:
    staff = current(request)
    if staff is None:
        raise SignInNeeded()
    return staff


async def guarded(request: Request) -> tuple[Staff, Actor, FormData]:
    """A form post from a signed-in browser carrying its session's CSRF token."""
    form = await request.form()
    staff = await run_in_threadpool(current, request)
    if staff is None or not csrf_ok(staff, text_field(form, "csrf")) or not _same_origin(request):
        raise Refused()
    return staff, Actor(staff.username, staff.role), form


def text_field(form: FormData, key: str) -> str | None:
    """A form field typed in, not a file."""
    value = form.get(key)
    return value if isinstance(value, str) else None


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlparse(origin).netloc == request.headers.get("host")


def render(
    request: Request, name: str, staff: Staff | None, status_code: int = 200, **context
) -> Response:
    lang = language(request, staff)
    response = desk(request).templates.TemplateResponse(
        request,
        name,
        {
            "t": i18n.words(lang),
            "lang": lang,
            "base": base(request),
            "staff": staff,
            "csrf": staff.csrf if staff else "",
            "path": request.url.path,
            "query": request.url.query,
            "server_now": now().isoformat(),
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, path=base(request) or "/", samesite="lax"
        )
    return response


def back(request: Request, path: str, **params) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{base(request)}{path}{'?' + query if query else ''}", 303)
