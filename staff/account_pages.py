"""The admins' accounts page: staff accounts (add, deactivate, new password) and API keys
(create with scopes, shown once; revoke), with the audit trail of who did what when."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from core.clock import now
from handlers.desk import staff_accounts
from handlers.desk.staff_accounts import ROLES, SCOPES, StaffError
from staff.auth import Staff
from staff.web import Refused, back, desk, guarded, render, signed_in

router = APIRouter()


def _admin(staff: Staff) -> Staff:
    if staff.role != "admin":
        raise Refused()
    return staff


@router.get("/accounts")
def accounts_page(request: Request) -> Response:
    return _page(request)


def _page(request: Request, new_key: str | None = None) -> Response:
    staff = _admin(signed_in(request))
    with desk(request).db.unit_of_work(write=False) as session:
        return render(
            request,
            "accounts.html",
            staff,
            users=staff_accounts.staff_list(session, active_only=False),
            keys=staff_accounts.api_keys(session),
            trail=staff_accounts.audit_trail(session),
            roles=ROLES,
            scopes=SCOPES,
            new_key=new_key,
            done=request.query_params.get("done"),
            error=request.query_params.get("error"),
        )


async def _admin_post(request: Request, work, done: str) -> Response:
    """One account use case for a posted form, by a signed-in admin."""
    staff, _, form = await guarded(request)
    _admin(staff)
    try:
        await run_in_threadpool(work, staff.username, form)
    except StaffError as exc:
        return back(request, "/accounts", error=str(exc))
    return back(request, "/accounts", done=done)


@router.post("/accounts/staff")
async def add(request: Request) -> Response:
    def work(admin, form):
        staff_accounts.add_staff(
            desk(request).db,
            str(form.get("username", "")),
            str(form.get("display_name", "")),
            str(form.get("password", "")),
            str(form.get("role", "")),
            str(form.get("language", "")),
            now(),
            actor=admin,
        )

    return await _admin_post(request, work, "account_added")


@router.post("/accounts/staff/{username}/deactivate")
async def deactivate(request: Request, username: str) -> Response:
    return await _admin_post(
        request,
        lambda admin, _: staff_accounts.deactivate(desk(request).db, username, admin, now()),
        "deactivated",
    )


@router.post("/accounts/staff/{username}/password")
async def password(request: Request, username: str) -> Response:
    return await _admin_post(
        request,
        lambda admin, form: staff_accounts.set_password(
            desk(request).db, username, str(form.get("password", "")), admin, now()
        ),
        "password_set",
    )


@router.post("/accounts/keys")
async def create_key(request: Request) -> Response:
    staff, _, form = await guarded(request)
    _admin(staff)
    try:
        made = await run_in_threadpool(
            staff_accounts.create_api_key,
            desk(request).db,
            str(form.get("name", "")),
            staff.username,
            now(),
            [str(s) for s in form.getlist("scope")],
        )
    except StaffError as exc:
        return back(request, "/accounts", error=str(exc))
    # Shown once, on this answer only: never in a URL, never stored.
    return await run_in_threadpool(_page, request, made.key)


@router.post("/accounts/keys/{name}/revoke")
async def revoke(request: Request, name: str) -> Response:
    return await _admin_post(
        request,
        lambda admin, _: staff_accounts.revoke_key(desk(request).db, name, admin, now()),
        "revoked",
    )
