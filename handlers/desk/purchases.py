"""Posting a purchase: the one use case behind every door that earns points for an order
(the REST API, the CSV import, the demo data), so each answers a repost the same way.

An order number earns once, whatever its case (`ord-1001` is `ORD-1001`, as member numbers
and voucher codes are): it is kept in upper case. Posting it again with the same member and amount changes
nothing (`created` false); with another member or amount it is a conflict. A time
without an offset is in the programme's time zone; a time in the future is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.config import Config
from core.points import lot_expiry
from core.validity import last_day
from handlers.desk import member_views
from storage.db import Database
from storage.ledger import Ledger, LedgerError
from storage.members import by_number
from storage.models import Member

MEMBER_NO = r"^[A-Za-z][0-9]{6,9}$"
ORDER_ID = r"^[A-Za-z0-9_.:-]{1,40}$"
EARLIEST = date(2000, 1, 1)  # older purchases are typing mistakes, not history
# A till's clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)


def order_number(text: str) -> str:
    """The order number as kept and compared: tills and files type it in either case."""
    return text.strip().upper()


class Purchase(BaseModel):
    """A purchase as a point of sale or an import file states it."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(pattern=ORDER_ID, description="Unique order number")
    member_no: str = Field(pattern=MEMBER_NO, examples=["M000001"])
    amount: Decimal = Field(gt=0, le=10_000_000, decimal_places=2, description="Yuan")
    purchased_at: datetime | None = Field(
        default=None,
        description="ISO 8601; without an offset the programme's time zone; "
        "not before 2000, not in the future",
    )

    @field_validator("order_id")
    @classmethod
    def _upper_case(cls, value: str) -> str:
        return order_number(value)

    @field_validator("purchased_at")
    @classmethod
    def _not_before_2000(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.date() < EARLIEST:
            raise ValueError(f"must not be before {EARLIEST}")
        return value


@dataclass(frozen=True)
class Posted:
    order_id: str
    member_no: str
    points: int
    balance: int
    tier: str
    created: bool  # false: the order number had been posted before, nothing changed


class PurchaseRefused(Exception):
    """Why a purchase cannot be posted: `code` is not_found, conflict, erased, in_future,
    points_expired or a ledger code (bad_amount); `field` names the input at fault, when one
    is."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.field = code, field


def post(
    database: Database, config: Config, purchase: Purchase, actor: str, at: datetime
) -> Posted:
    """Post in a unit of work of its own; a simultaneous post of the same order is read
    back as the repost it is."""
    for attempt in range(2):
        try:
            with database.unit_of_work() as session:
                posted = record(session, config, purchase, actor, at)
                session.commit()
                return posted
        except IntegrityError:  # the same order posted twice at once: the other won
            if attempt:
                raise
    raise AssertionError("unreachable")


def _check_member_and_day(member: Member, when: datetime, config: Config, at: datetime) -> None:
    """An erased member's account takes nothing more; a purchase so old that its points
    would have expired already earns nothing (a 2024 purchase showed 500 points in the
    balance that the next redemption could not spend, and they expired unannounced)."""
    if member.erased_at is not None:
        raise PurchaseRefused(
            "erased", f"member {member.member_no} was erased on request and takes no purchases"
        )
    expiry = lot_expiry(when, config)
    if expiry is not None and expiry <= at:
        last = last_day(expiry, config.zone)
        raise PurchaseRefused(
            "points_expired",
            f"too old: its points would have expired on {last}",
            "purchased_at",
        )


def record(
    session: Session, config: Config, purchase: Purchase, actor: str, at: datetime
) -> Posted:
    """Post inside the caller's unit of work (the demo seeds several in one)."""
    when = purchase.purchased_at or at
    if when.tzinfo is None:
        when = when.replace(tzinfo=config.zone)
    if when > at + CLOCK_SKEW:
        raise PurchaseRefused("in_future", "must not be in the future", "purchased_at")
    member = by_number(session, purchase.member_no)
    if member is None:
        raise PurchaseRefused("not_found", f"no member {purchase.member_no.upper()}")
    _check_member_and_day(member, when, config, at)
    ledger = Ledger(session, config, clock=lambda: at)
    try:
        result = ledger.earn_purchase(
            member.id, purchase.order_id, purchase.amount, at=when, actor=actor
        )
    except LedgerError as exc:
        raise PurchaseRefused(exc.code, str(exc), "amount") from None
    entry = result.entry
    if not result.created and (entry.member_id != member.id or entry.amount != purchase.amount):
        raise PurchaseRefused(
            "conflict",
            f"order {purchase.order_id} was posted before with another member or amount",
        )
    return Posted(
        order_id=purchase.order_id,
        member_no=member.member_no,
        points=entry.points,
        balance=member_views.balance(session, member.id),
        tier=member.tier,
        created=result.created,
    )
