"""Refunding a purchase: the one use case behind the REST API and the refunds import.

A refund takes back the points of the refunded amount (the whole order when no amount is
given), pro rata, once per refund id: posting the same refund again changes nothing
(`created` false); with another amount it is a conflict, as is refunding more than was
bought. Points already spent become a debt (storage/ledger.py). The member is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from core.config import Config
from handlers.desk import member_notices
from handlers.desk.purchases import ORDER_ID, order_number
from storage.db import Database
from storage.ledger import Ledger, LedgerError
from storage.models import Member, PointsAccount

CENT = Decimal("0.01")


class Refund(BaseModel):
    """A refund as a point of sale or an import file states it."""

    model_config = ConfigDict(extra="forbid")

    refund_id: str = Field(pattern=ORDER_ID, description="Unique per order: the refund's number")
    amount: Decimal | None = Field(
        default=None,
        gt=0,
        le=10_000_000,
        decimal_places=2,
        description="Yuan refunded; without it, all of the order not refunded yet",
    )


@dataclass(frozen=True)
class Refunded:
    order_id: str
    refund_id: str
    member_no: str
    amount: Decimal
    points: int  # taken back now
    debt: int  # points due that had been spent: repaid from later earnings
    balance: int
    created: bool  # false: this refund id had been posted before, nothing changed


class RefundRefused(Exception):
    """`code`: not_found (no such order), conflict (the refund id was used with another
    amount), over_refund (more than is left of the order)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def refund(
    database: Database, config: Config, order_id: str, asked: Refund, actor: str, at: datetime
) -> Refunded:
    """Refund in a unit of work of its own."""
    with database.unit_of_work() as session:
        done = record(session, config, order_id, asked, actor, at)
        session.commit()
        return done


def record(
    session: Session, config: Config, order_id: str, asked: Refund, actor: str, at: datetime
) -> Refunded:
    """Refund inside the caller's unit of work (the import posts a file in one)."""
    order_id = order_number(order_id)
    ledger = Ledger(session, config, clock=lambda: at)
    try:
        posted = ledger.clawback(order_id, asked.refund_id, asked.amount, actor)
    except LedgerError as exc:
        code = {"unknown_order": "not_found"}.get(exc.code, exc.code)
        raise RefundRefused(code, str(exc)) from None
    entry = posted.entry
    # Yuan to the cent, as stored: a first answer and its replay say it alike.
    refunded = Decimal(entry.amount or 0).quantize(CENT)
    if not posted.created and asked.amount is not None and refunded != asked.amount:
        raise RefundRefused(
            "conflict",
            f"refund {asked.refund_id} of order {order_id} was posted before "
            f"with amount {entry.amount}",
        )
    member = session.get_one(Member, entry.member_id)
    balance = session.get_one(PointsAccount, member.id).balance
    done = Refunded(
        order_id=order_id,
        refund_id=asked.refund_id,
        member_no=member.member_no,
        amount=refunded,
        points=-entry.points,
        debt=entry.debt or 0,
        balance=balance,
        created=posted.created,
    )
    if posted.created and (done.points or done.debt):
        member_notices.tell(
            session,
            member,
            "refund.notice_debt" if done.debt else "refund.notice",
            f"refund:{order_id}:{asked.refund_id}",
            at,
            order_id=order_id,
            amount=done.amount,
            points=done.points,
            due=done.points + done.debt,
            count=done.points + done.debt,  # the plural follows the points due
            debt=done.debt,
            balance=balance,
        )
    return done
