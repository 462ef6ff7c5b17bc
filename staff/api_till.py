"""The REST API's till routes: refunds of a purchase, and vouchers checked and used at the
point of sale. Thin: each route is one use case call, its refusals mapped to statuses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from core.clock import now
from handlers.desk import refunds, vouchers
from handlers.desk.purchases import ORDER_ID
from handlers.desk.refunds import Refund, RefundRefused
from handlers.desk.vouchers import VoucherRefused
from staff.api import ApiError, Problem

router = APIRouter()
CODE = r"^[A-Za-z0-9-]{4,40}$"
OrderId = Annotated[str, PathParam(pattern=ORDER_ID)]
Code = Annotated[str, PathParam(pattern=CODE, examples=["ABCDE-FGHJK"])]


class RefundOut(BaseModel):
    order_id: str
    refund_id: str
    member_no: str
    amount: Decimal = Field(description="Yuan refunded")
    points: int = Field(description="Points taken back")
    debt: int = Field(description="Points due that had been spent: repaid from later earnings")
    balance: int
    created: bool = Field(description="False when this refund id had been posted before")


class VoucherOut(BaseModel):
    code: str
    status: str = Field(description="active, used, expired or void")
    benefit: str
    member_no: str
    expires_at: datetime = Field(description="The first instant it is no longer valid")
    valid_until: date = Field(
        description="The last day it is valid, in the member's time zone: the day the bot, "
        "the reminders and the workbench name"
    )
    used_at: datetime | None
    order_id: str | None = Field(description="The order it was used on")
    store: str | None


class VoucherProblem(Problem):
    voucher: VoucherOut = Field(description="The voucher as it is: when and where it was used")
    same_order: bool = Field(
        description="True when it was used by the order_id of this request: a retried use "
        "that had succeeded"
    )


class VoucherUse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str | None = Field(default=None, pattern=ORDER_ID)
    store: str | None = Field(default=None, min_length=1, max_length=100)


@router.post(
    "/purchases/{order_id}/refunds",
    response_model=RefundOut,
    status_code=201,
    responses={
        200: {"model": RefundOut, "description": "Posted before: nothing changed"},
        404: {"model": Problem, "description": "No such order"},
        409: {"model": Problem, "description": "More than was bought, or the id reused"},
    },
)
def refund(order_id: OrderId, body: Refund, request: Request) -> JSONResponse:
    """Take back the points of a refunded amount (no amount: the whole order), once per
    refund id."""
    app = request.app.state.app
    try:
        out = refunds.refund(
            app.database, app.config, order_id, body, f"api:{request.state.api_key}", now()
        )
    except RefundRefused as refused:
        status = 404 if refused.code == "not_found" else 409
        raise ApiError(status, refused.code, str(refused)) from None
    body_out = RefundOut(**vars(out)).model_dump(mode="json")
    return JSONResponse(body_out, status_code=201 if out.created else 200)


@router.get("/vouchers/{code}", response_model=VoucherOut, responses={404: {"model": Problem}})
def voucher(code: Code, request: Request) -> VoucherOut:
    """A voucher as the till sees it: whose, for what, until when, and whether usable."""
    app = request.app.state.app
    with app.database.unit_of_work(write=False) as session:
        try:
            return VoucherOut(**vars(vouchers.look_up(session, app.config, code, now())))
        except VoucherRefused as refused:
            raise ApiError(404, refused.code, str(refused)) from None


@router.post(
    "/vouchers/{code}/use",
    response_model=VoucherOut,
    responses={
        404: {"model": Problem},
        409: {
            "model": VoucherProblem,
            "description": "Used, expired or void: `error` says which, `same_order` whether "
            "this order used it",
        },
    },
)
def use(code: Code, request: Request, body: VoucherUse | None = None) -> VoucherOut | JSONResponse:
    """Use the voucher, once: a second use (even at the same moment) is 409."""
    app = request.app.state.app
    body = body or VoucherUse()
    try:
        return VoucherOut(
            **vars(vouchers.use(app.database, app.config, code, body.order_id, body.store, now()))
        )
    except VoucherRefused as refused:
        if refused.code == "not_found" or refused.seen is None:
            raise ApiError(404, refused.code, str(refused)) from None
        problem = VoucherProblem(
            error=refused.code,
            message=str(refused),
            voucher=VoucherOut(**vars(refused.seen)),
            same_order=refused.same_order,
        )
        return JSONResponse(problem.model_dump(mode="json"), status_code=409)
