"""The workbench's member page: profile, points history, vouchers; a supervisor's points
correction and an admin's erasure on request. Each post is one use case call."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from core import catalogue
from core.clock import now
from handlers.desk import adjustments, erasure, member_views, staff_accounts, vouchers
from handlers.desk.adjustments import AdjustmentRefused
from handlers.desk.erasure import ErasureRefused
from staff.web import back, desk, guarded, language, render, signed_in
from storage.members import by_number
from storage.models import Benefit, PointsAccount, Voucher

router = APIRouter()
HISTORY = 30


@router.get("/members/{member_no}")
def member_page(request: Request, member_no: str) -> Response:
    staff = signed_in(request)
    the, at = desk(request), now()
    lang = language(request, staff)
    with the.db.unit_of_work(write=False) as session:
        member = by_number(session, member_no)
        if member is None:
            return render(request, "error.html", staff, status_code=404, problem="not_found")
        held = session.execute(
            select(Voucher, Benefit)
            .join(Benefit, Benefit.id == Voucher.benefit_id)
            .where(Voucher.member_id == member.id)
            .order_by(Voucher.issued_at.desc())
        ).all()
        return render(
            request,
            "member.html",
            staff,
            m=member,
            account=session.get(PointsAccount, member.id),
            tier_label=the.config.tier(member.tier).label.get(lang),
            entries=member_views.history(session, member.id, limit=HISTORY),
            kind=lambda k: catalogue.text(lang, f"ledger.{k}"),
            held=[(v, b.name(lang), vouchers.status(v, at)) for v, b in held],
            supervisor=staff_accounts.at_least(staff.role, "supervisor"),
            admin=staff.role == "admin",
            key=secrets.token_urlsafe(12),  # one correction per rendered form
            done=request.query_params.get("done"),
            error=request.query_params.get("error"),
        )


@router.post("/members/{member_no}/adjust")
async def adjust(request: Request, member_no: str) -> Response:
    staff, actor, form = await guarded(request)
    the, page = desk(request), f"/members/{member_no}"
    points = str(form.get("points", "")).strip()
    digits = points.removeprefix("-")
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 18):
        return back(request, page, error="points: give a whole number, e.g. 50 or -50")
    try:
        await run_in_threadpool(
            adjustments.adjust,
            the.db,
            the.config,
            member_no,
            int(points),
            str(form.get("reason", "")),
            actor,
            now(),
            f"staff:{staff.username}:{form.get('key', '')}",
        )
    except AdjustmentRefused as exc:
        return back(request, page, error=str(exc))
    return back(request, page, done="adjusted")


@router.post("/members/{member_no}/erase")
async def erase(request: Request, member_no: str) -> Response:
    _, actor, form = await guarded(request)
    page = f"/members/{member_no}"
    if str(form.get("confirm", "")).strip().upper() != member_no.upper():
        return back(request, page, error=f"type {member_no.upper()} to confirm the erasure")
    try:
        await run_in_threadpool(erasure.erase, desk(request).db, member_no, actor, now())
    except ErasureRefused as exc:
        return back(request, page, error=str(exc))
    return back(request, page, done="erased")
