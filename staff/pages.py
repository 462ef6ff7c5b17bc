"""The workbench's pages: sign-in, the queue, a ticket and its actions, the figures,
canned replies. Each post turns the form into one use case call and redirects back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from core.clock import now
from core.ticket_rules import PRIORITIES
from handlers.desk import (
    canned_replies,
    compensation,
    desk_figures,
    guessing,
    presence,
    staff_accounts,
    ticket_detail,
    vouchers,
)
from handlers.desk import ticket_lifecycle as lifecycle
from handlers.desk import ticket_views as views
from handlers.desk.ticket_lifecycle import STATUSES, Actor, TicketError
from staff import charts, clients, i18n
from staff.auth import COOKIE, SESSION_HOURS, SIGNIN_COOKIE
from staff.web import back, base, desk, guarded, language, render, signed_in, text_field
from storage.models import Voucher

router = APIRouter()
DONE = {"sent": "replied", "queued": "reply_queued"}
MAX_PAGE = 10_000  # a page past the end shows an empty queue, whatever number is asked


# -- signing in and out --------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    return back(request, "/queue")


@router.get("/signin")
def signin_page(request: Request) -> Response:
    return _signin_form(request)


def _signin_form(request: Request, error: str | None = None, status_code: int = 200):
    cookie, token = desk(request).sessions.signin_token()
    response = render(
        request,
        "signin.html",
        None,
        status_code=status_code,
        signin_token=token,
        error=error,
        next=request.query_params.get("next", ""),
    )
    response.set_cookie(
        SIGNIN_COOKIE, cookie, max_age=3600, httponly=True, samesite="strict", path=_path(request)
    )
    return response


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await request.form()
    sessions = desk(request).sessions
    if not sessions.signin_ok(request.cookies.get(SIGNIN_COOKIE), text_field(form, "csrf")):
        # A stale or forged form: refused, with a fresh form to try again.
        return _signin_form(request, error="session_over", status_code=403)
    settings = desk(request).config.sign_in
    tried = await run_in_threadpool(
        guessing.sign_in,
        desk(request).db,
        settings,
        str(form.get("username", "")),
        str(form.get("password", "")),
        clients.address(request, settings.trusted_proxies),
        now(),
    )
    user = tried.user
    if tried.retry_after is not None:
        response = _signin_form(request, error="too_many", status_code=429)
        response.headers["Retry-After"] = str(tried.retry_after)
        return response
    if user is None:
        return _signin_form(request, error="bad_login", status_code=401)
    cookie = await run_in_threadpool(sessions.open, user, now())
    wanted = str(form.get("next") or "")
    target = wanted if wanted.startswith(f"{base(request)}/") else f"{base(request)}/queue"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=_path(request),
    )
    response.delete_cookie(SIGNIN_COOKIE, path=_path(request))
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    await guarded(request)
    await run_in_threadpool(desk(request).sessions.close, request.cookies.get(COOKIE), now())
    response = back(request, "/signin")
    response.delete_cookie(COOKIE, path=_path(request))
    return response


def _path(request: Request) -> str:
    return base(request) or "/"


# -- the queue -----------------------------------------------------------------------------


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name) in ("1", "on", "true")


@router.get("/queue")
def queue_page(request: Request) -> Response:
    staff = signed_in(request)
    q = request.query_params
    wanted = views.QueueFilter(
        status=q.get("status") or "open",
        priority=q.get("priority") or None,
        category=q.get("category") or None,
        assignee=q.get("assignee") or None,
        urgent=_flag(request, "urgent"),
        late=_flag(request, "late"),
        search=q.get("q") or None,
        page=_page(q.get("page", "")),
    )
    at = now()
    with desk(request).db.unit_of_work(write=False) as session:
        page = views.queue(session, wanted, at, staff.id, desk(request).config)
    return render(
        request,
        "queue.html",
        staff,
        page=page,
        wanted=wanted,
        at=at,
        statuses=STATUSES,
        priorities=PRIORITIES,
        categories=desk(request).config.complaints.categories,
        countdown=lambda due: _countdown(request, staff, due, at),
        vip={t.name for t in desk(request).config.tiers if t.vip},
        page_link=lambda n: _page_link(request, n),
    )


def _page(asked: str) -> int:
    """The page number asked for, within 1..MAX_PAGE; anything else is the first page."""
    if not (asked.isascii() and asked.isdigit()):
        return 1
    return max(1, min(int(asked[:9]) if len(asked) <= 9 else MAX_PAGE, MAX_PAGE))


def _countdown(request, staff, due, at) -> str:
    return i18n.countdown(due, at, language(request, staff)) if due else "-"


def _page_link(request: Request, number: int) -> str:
    params = dict(request.query_params)
    params["page"] = str(number)
    return f"{base(request)}/queue?" + "&".join(f"{k}={v}" for k, v in params.items())


# -- one ticket ----------------------------------------------------------------------------


@router.get("/tickets/{ref}")
def ticket_page(request: Request, ref: str) -> Response:
    staff = signed_in(request)
    at = now()
    the = desk(request)
    lang = language(request, staff)
    # Rendered inside the unit of work: the page reads the records it shows.
    with the.db.unit_of_work(write=False) as session:
        try:
            ticket = lifecycle.find(session, ref)
        except TicketError:
            return render(request, "error.html", staff, status_code=404, problem="not_found")
        seen = ticket_detail.detail(session, ticket, at, the.config)
        return render(
            request,
            "ticket.html",
            staff,
            d=seen,
            at=at,
            viewing=presence.others(session, ticket.id, staff.id, at),
            team=staff_accounts.staff_list(session),
            statuses=[s for s in STATUSES if s in lifecycle.MOVES[seen.ticket.status]],
            categories=the.config.complaints.categories,
            tier_label=(the.config.tier(seen.member.tier).label.get(lang) if seen.member else None),
            vip=bool(seen.member and the.config.tier(seen.member.tier).vip),
            countdown=lambda due: _countdown(request, staff, due, at),
            member_lang=seen.member.language if seen.member else the.config.default_language,
            supervisor=staff_accounts.at_least(staff.role, "supervisor"),
            voucher=session.get(Voucher, ticket.voucher_id) if ticket.voucher_id else None,
            done=request.query_params.get("done"),
            detail=request.query_params.get("detail"),
            error=request.query_params.get("error"),
        )


async def _act(
    request: Request,
    ref: str,
    work: Callable[[Actor, FormData], Any],
    done: str | Callable[[Any], tuple[str, str]],
) -> Response:
    """Run one use case for a posted form; back to the ticket with what happened."""
    staff, actor, form = await guarded(request)
    try:
        result = await run_in_threadpool(work, actor, form)
    except TicketError as exc:
        if exc.code == "not_found":
            return back(request, "/queue", error=str(exc))
        return back(request, f"/tickets/{ref}", error=str(exc))
    if callable(done):
        said, detail = done(result)
        return back(request, f"/tickets/{ref}", done=said, detail=detail)
    return back(request, f"/tickets/{ref}", done=done)


def _delivered(result) -> tuple[str, str]:
    if result.status in DONE:
        return DONE[result.status], ""
    return "reply_failed", result.detail or result.status


@router.post("/tickets/{ref}/reply")
async def reply(request: Request, ref: str) -> Response:
    the = desk(request)
    return await _act(
        request,
        ref,
        lambda actor, form: lifecycle.reply(
            the.db, the.config, the.senders, ref, str(form.get("text", "")), actor, now()
        ),
        _delivered,
    )


@router.post("/tickets/{ref}/note")
async def note(request: Request, ref: str) -> Response:
    the = desk(request)
    return await _act(
        request,
        ref,
        lambda actor, form: lifecycle.add_note(
            the.db, ref, str(form.get("text", "")), actor, now()
        ),
        "noted",
    )


@router.post("/tickets/{ref}/assign")
async def assign(request: Request, ref: str) -> Response:
    the = desk(request)
    return await _act(
        request,
        ref,
        lambda actor, form: lifecycle.assign(
            the.db, ref, str(form.get("assignee") or "") or None, actor, now()
        ),
        "assigned",
    )


@router.post("/tickets/{ref}/status")
async def status(request: Request, ref: str) -> Response:
    the = desk(request)
    return await _act(
        request,
        ref,
        lambda actor, form: lifecycle.change_status(
            the.db, ref, str(form.get("status", "")), actor, now()
        ),
        "status",
    )


@router.post("/tickets/{ref}/category")
async def category(request: Request, ref: str) -> Response:
    the = desk(request)
    return await _act(
        request,
        ref,
        lambda actor, form: lifecycle.correct_category(
            the.db, the.config, ref, str(form.get("category", "")), actor, now()
        ),
        "category",
    )


@router.post("/tickets/{ref}/resolve")
async def resolve(request: Request, ref: str) -> Response:
    the = desk(request)
    return await _act(
        request,
        ref,
        lambda actor, form: lifecycle.resolve(
            the.db, the.config, the.senders, ref, actor, now(), str(form.get("note", ""))
        ),
        "resolved",
    )


@router.post("/tickets/{ref}/reopen")
async def reopen(request: Request, ref: str) -> Response:
    the = desk(request)
    return await _act(
        request,
        ref,
        lambda actor, form: lifecycle.reopen(
            the.db, the.config, ref, actor, now(), str(form.get("reason", ""))
        ),
        "reopened",
    )


@router.post("/tickets/{ref}/compensation")
async def grant(request: Request, ref: str) -> Response:
    the = desk(request)

    def work(actor, form):
        points = str(form.get("points", "")).strip()
        if not (points.isascii() and points.isdigit() and len(points) <= 9):
            raise TicketError("bad_input", "points: give a whole number of points")
        return compensation.propose(
            the.db,
            the.config,
            the.senders,
            ref,
            int(points),
            str(form.get("reason", "")),
            actor,
            now(),
        )

    return await _act(
        request, ref, work, lambda d: ("granted" if d.status == "granted" else "pending", "")
    )


@router.post("/tickets/{ref}/compensation/approve")
async def approve(request: Request, ref: str) -> Response:
    the = desk(request)
    return await _act(
        request,
        ref,
        lambda actor, form: compensation.approve(
            the.db, the.config, the.senders, ref, actor, now()
        ),
        "granted",
    )


@router.post("/tickets/{ref}/compensation/reject")
async def reject(request: Request, ref: str) -> Response:
    the = desk(request)
    return await _act(
        request,
        ref,
        lambda actor, form: compensation.reject(
            the.db, ref, actor, now(), str(form.get("reason", ""))
        ),
        "rejected",
    )


@router.post("/tickets/{ref}/extend-voucher")
async def extend_voucher(request: Request, ref: str) -> Response:
    the = desk(request)

    def work(actor, form):
        days = str(form.get("days", "")).strip()
        if not days.isdigit():
            raise TicketError("bad_input", "days: give a whole number of days")
        return vouchers.extend_on_ticket(
            the.db, the.config, the.senders, ref, int(days), actor, now()
        )

    return await _act(request, ref, work, "extended")


# -- figures and canned replies ------------------------------------------------------------


@router.get("/figures")
def figures_page(request: Request) -> Response:
    staff = signed_in(request)
    asked = request.query_params.get("days", "30")
    days = int(asked) if asked in ("7", "30", "90") else 30
    the, at = desk(request), now()
    with the.db.unit_of_work(write=False) as session:
        seen = desk_figures.figures(session, at, days, the.config.zone)
    t = i18n.words(language(request, staff))
    labels = [d.day.strftime("%m-%d") for d in seen.days]
    return render(
        request,
        "figures.html",
        staff,
        f=seen,
        days=days,
        per_day=charts.bars(
            labels,
            [
                (t("fig.opened"), [d.opened for d in seen.days]),
                (t("fig.resolved"), [d.resolved for d in seen.days]),
            ],
            t("fig.per_day"),
        ),
        response_trend=charts.line(
            labels, [d.first_response_hours for d in seen.days], t("fig.response_trend")
        ),
        rating_spread=charts.hbars(
            [(f"{n} ★", seen.ratings[n]) for n in range(5, 0, -1)], t("fig.rating_spread")
        ),
        by_status=charts.hbars(
            [(t(f"status.{s}"), n) for s, n in seen.open_by_status.items()], t("fig.by_status")
        ),
    )


@router.get("/canned")
def canned_page(request: Request) -> Response:
    staff = signed_in(request)
    the = desk(request)
    with the.db.unit_of_work(write=False) as session:
        return render(
            request,
            "canned.html",
            staff,
            replies=canned_replies.listed(session),
            categories=the.config.complaints.categories,
            supervisor=staff_accounts.at_least(staff.role, "supervisor"),
            done=request.query_params.get("done"),
            error=request.query_params.get("error"),
        )


@router.post("/canned")
async def canned_save(request: Request) -> Response:
    _, actor, form = await guarded(request)
    draft = canned_replies.Draft(
        key=str(form.get("key", "")).strip(),
        category=str(form.get("category", "")) or None,
        **{f: str(form.get(f, "")) for f in ("title_zh", "title_en", "body_zh", "body_en")},
    )
    try:
        await run_in_threadpool(canned_replies.save, desk(request).db, draft, actor, now())
    except TicketError as exc:
        return back(request, "/canned", error=str(exc))
    return back(request, "/canned", done="saved")


@router.post("/canned/{key}/retire")
async def canned_retire(request: Request, key: str) -> Response:
    _, actor, _ = await guarded(request)
    try:
        await run_in_threadpool(canned_replies.retire, desk(request).db, key, actor, now())
    except TicketError as exc:
        return back(request, "/canned", error=str(exc))
    return back(request, "/canned", done="retired")
