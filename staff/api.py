"""The REST API for the brand's other systems: a point of sale posts purchases, a CRM
reads members and tickets, a till checks and uses vouchers and posts refunds. Every route
needs `Authorization: Bearer <key>` (keys from `memberbot staff api-key`); a key reaches
only the routes of its scopes (members, purchases, vouchers, tickets), others are 403.
Errors are JSON {"error", "message"}; validation errors are 422 and name each field;
unknown routes and server errors answer in the same shape. OpenAPI: /api/openapi.json,
tried out at /api/docs (Swagger UI, its assets served from the swagger-ui-bundle
package, no CDN)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from swagger_ui_bundle import swagger_ui_path

from core.clock import now
from core.send_window import member_zone
from handlers.desk import guessing, member_views, purchases, staff_accounts
from handlers.desk import ticket_views as views
from handlers.desk.purchases import MEMBER_NO, Purchase, PurchaseRefused
from handlers.desk.ticket_lifecycle import TicketError, find
from staff import clients
from storage.members import by_number

OPEN_PATHS = {"/docs", "/openapi.json"}
MAX_OFFSET = 1_000_000  # deeper than any queue; a bigger one is a mistake (422)
ASSETS = "/docs/assets"
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
bearer = HTTPBearer(auto_error=False, description="An API key from `memberbot staff api-key`")


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """FastAPI's own errors (no such route, method not allowed) in the API's shape; the
    server's root answers unknown routes this way too (staff.install)."""
    code = HTTP_CODES.get(exc.status_code, "error")
    message = (
        f"no route {request.method} {request.url.path}: see /api/docs"
        if exc.status_code in (404, 405)
        else str(exc.detail)
    )
    return JSONResponse(
        {"error": code, "message": message}, status_code=exc.status_code, headers=exc.headers
    )


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Problem(BaseModel):
    error: str = Field(description="A stable code: unauthorized, not_found, conflict, ...")
    message: str = Field(description="What went wrong, for a person")


class FieldProblem(BaseModel):
    field: str
    location: str
    message: str


class ValidationProblem(Problem):
    fields: list[FieldProblem]


class Expiring(BaseModel):
    points: int
    expires_at: datetime = Field(description="The first instant these points are gone")
    valid_until: date = Field(
        description="The last day they are valid, in the member's time zone: the day the "
        "bot, the reminders and the workbench name"
    )


class MemberOut(BaseModel):
    member_no: str
    name: str
    phone: str | None
    tier: str
    points: int = Field(description="Spendable balance")
    debt: int = Field(
        description="Points owed from refunds of points already spent: later earnings repay "
        "them first, and nothing can be redeemed until they are"
    )
    points_expiring: list[Expiring] = Field(description="Points expiring within 30 days")
    membership_expires: date
    joined: date
    language: str
    marketing_consent: bool


class PurchaseOut(BaseModel):
    order_id: str
    member_no: str
    points: int = Field(description="Points this purchase earned")
    balance: int
    tier: str
    created: bool = Field(description="False when the order number had been posted before")


class TicketPage(BaseModel):
    items: list[views.TicketSummary]
    total: int
    limit: int
    offset: int


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or wrong API key"},
    403: {"model": Problem, "description": "The key's scopes do not reach this route"},
    422: {"model": ValidationProblem, "description": "A field is missing or wrong"},
}


def create(app) -> FastAPI:
    api = FastAPI(
        title="memberbot API",
        version="1",
        description=__doc__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(bearer)],
        responses=ERRORS,
    )
    from staff import api_till

    api.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @api.middleware("http")
    async def require_key(request: Request, call_next):
        path = request.scope["path"][len(request.scope.get("root_path", "")) :] or "/"
        if path in OPEN_PATHS or path.startswith(ASSETS + "/"):
            return await call_next(request)
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _unauthorized("missing API key: send the header Authorization: Bearer <key>")
        settings = app.config.sign_in
        address = clients.address(request, settings.trusted_proxies)
        tried = await run_in_threadpool(
            guessing.api_key, app.database, settings, key.strip()[:200], address, now()
        )
        if tried.retry_after is not None:
            return JSONResponse(
                {"error": "too_many_requests", "message": "too many wrong API keys: wait"},
                status_code=429,
                headers={"Retry-After": str(tried.retry_after)},
            )
        holder = tried.key
        if holder is None:
            return _unauthorized("the API key is wrong or revoked")
        scope = path.strip("/").split("/", 1)[0]
        if scope in staff_accounts.SCOPES and not holder.may(scope):
            return JSONResponse(
                {
                    "error": "forbidden",
                    "message": f"the key {holder.name!r} may not reach {scope}: "
                    f"its scopes are {', '.join(holder.scopes or ())}",
                },
                status_code=403,
            )
        request.state.api_key = holder.name
        return await call_next(request)

    @api.exception_handler(ApiError)
    async def api_error(_request, exc: ApiError):
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)

    api.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]

    @api.exception_handler(Exception)
    async def server_error(_request, _exc: Exception):
        return JSONResponse(
            {"error": "internal", "message": "the server failed; the error is logged"},
            status_code=500,
        )

    @api.exception_handler(RequestValidationError)
    async def invalid(_request, exc: RequestValidationError):
        fields = [_field_problem(e) for e in exc.errors()]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return JSONResponse(
            {"error": "validation_failed", "message": message, "fields": fields}, status_code=422
        )

    @api.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{api.title} · API documentation",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True, "tryItOutEnabled": True},
        )

    @api.get("/members/{member_no}", response_model=MemberOut, responses={404: {"model": Problem}})
    def member(member_no: Annotated[str, PathParam(pattern=MEMBER_NO)]) -> MemberOut:
        """A member's profile, tier and points."""
        at = now()
        with app.database.unit_of_work(write=False) as session:
            found = by_number(session, member_no)
            if found is None:
                raise ApiError(404, "not_found", f"no member {member_no.upper()}")
            return MemberOut(
                member_no=found.member_no,
                name=found.name,
                phone=found.phone,
                tier=found.tier,
                points=member_views.balance(session, found.id) or 0,
                debt=member_views.debt(session, found.id),
                points_expiring=[
                    Expiring(points=x.points, expires_at=x.expires_at, valid_until=x.last_day)
                    for x in member_views.expiring(
                        session, found.id, at, 30, member_zone(found.timezone, app.config)
                    )
                ],
                membership_expires=found.membership_expires,
                joined=found.join_date,
                language=found.language,
                marketing_consent=found.marketing_consent,
            )

    @api.post(
        "/purchases",
        response_model=PurchaseOut,
        status_code=201,
        responses={
            200: {"model": PurchaseOut, "description": "Posted before: nothing changed"},
            404: {"model": Problem},
            409: {"model": Problem, "description": "The order number was used differently"},
        },
    )
    def purchase(body: Purchase, request: Request) -> JSONResponse:
        """Earn points for a purchase; posting the same order number again changes nothing."""
        try:
            out = purchases.post(
                app.database, app.config, body, f"api:{request.state.api_key}", now()
            )
        except PurchaseRefused as refused:
            if refused.field == "purchased_at":
                raise _field_error("purchased_at", str(refused)) from None
            status = {"not_found": 404, "conflict": 409, "erased": 409}.get(refused.code, 422)
            raise ApiError(status, refused.code, str(refused)) from None
        body_out = PurchaseOut(**vars(out)).model_dump(mode="json")
        return JSONResponse(body_out, status_code=201 if out.created else 200)

    @api.get("/tickets", response_model=TicketPage)
    def ticket_list(
        status: Annotated[
            str,
            Query(pattern=r"^(open|all|new|assigned|in_progress|waiting_member|resolved|closed)$"),
        ] = "open",
        member_no: Annotated[str | None, Query(pattern=MEMBER_NO)] = None,
        priority: Literal["urgent", "high", "normal", "low"] | None = None,
        urgent: bool = False,
        late: bool = False,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> TicketPage:
        """Tickets, urgent first, then by priority and the soonest deadline."""
        with app.database.unit_of_work(write=False) as session:
            page = views.listing(
                session,
                app.config,
                now(),
                status=status,
                priority=priority,
                urgent=urgent,
                late=late,
                member_no=member_no,
                limit=limit,
                offset=offset,
            )
        return TicketPage(
            items=[r.summary() for r in page.rows], total=page.total, limit=limit, offset=offset
        )

    @api.get(
        "/tickets/{ticket}",
        response_model=views.TicketHistory,
        responses={404: {"model": Problem}},
    )
    def ticket_detail(
        ticket: Annotated[str, PathParam(pattern=r"^([Tt][0-9]{6,}|[0-9]{1,12})$")],
    ) -> views.TicketHistory:
        """One ticket by number (T000123) or id, with its history."""
        with app.database.unit_of_work(write=False) as session:
            try:
                found = find(session, ticket)
            except TicketError:
                raise ApiError(404, "not_found", f"no ticket {ticket}") from None
            return views.history(session, found, now(), app.config)

    api.state.app = app
    api.include_router(api_till.router)
    return api


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"error": "unauthorized", "message": message},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _field_problem(error: dict) -> dict[str, str]:
    """One of pydantic's errors as the API names it; a body that is not JSON at all is
    the body's fault (pydantic places it at the character where decoding stopped)."""
    if error["type"] == "json_invalid":
        return {
            "field": "body",
            "location": "body",
            "message": "not valid JSON; send a JSON object",
        }
    return {
        "field": ".".join(str(p) for p in error["loc"][1:]) or error["loc"][0],
        "location": str(error["loc"][0]),
        "message": error["msg"],
    }


def _field_error(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("body", field), "msg": message, "type": "value_error", "input": None}]
    )
