"""The read side for the bot and staff: what a member has, shown, never changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core import tiers, validity
from core.config import Config
from storage.ledger import Ledger
from storage.models import Benefit, LedgerEntry, Member, PointsAccount, PointsLot, Voucher


@dataclass(frozen=True)
class Expiring:
    points: int
    expires_at: datetime  # the first instant they are gone
    last_day: date  # the day every answer names: valid until the end of it (core/validity)


# The bot's most asked question reads these two: built once.
BALANCE = select(PointsAccount.balance).where(PointsAccount.member_id == bindparam("member"))
EXPIRING = (
    select(PointsLot)
    .where(
        PointsLot.member_id == bindparam("member"),
        PointsLot.remaining > 0,
        PointsLot.expires_at > bindparam("at"),
        PointsLot.expires_at <= bindparam("until"),
    )
    .order_by(PointsLot.expires_at)
)


def balance(session: Session, member_id: int) -> int:
    found = session.scalar(BALANCE, {"member": member_id})
    return found or 0  # no account yet: nothing earned


def debt(session: Session, member_id: int) -> int:
    """Points owed from refunds of points already spent: later earnings repay them first,
    and nothing can be redeemed until they are."""
    found = session.scalar(select(PointsAccount.debt).where(PointsAccount.member_id == member_id))
    return found or 0


def expiring(
    session: Session, member_id: int, at: datetime, days: int, zone: ZoneInfo
) -> list[Expiring]:
    """Unspent points expiring within `days`, summed per last valid day in the member's
    time zone, soonest first."""
    lots = session.scalars(
        EXPIRING, {"member": member_id, "at": at, "until": at + timedelta(days=days)}
    )
    return _per_day(lots, zone)


def next_expiring(
    session: Session, member_id: int, at: datetime, zone: ZoneInfo
) -> Expiring | None:
    """The unspent points expiring first, however far off (their last valid day may hold
    several lots); None when none ever do."""
    first = session.scalar(
        select(PointsLot.expires_at)
        .where(
            PointsLot.member_id == member_id,
            PointsLot.remaining > 0,
            PointsLot.expires_at > at,
        )
        .order_by(PointsLot.expires_at)
        .limit(1)
    )
    if first is None:
        return None
    until = validity.end_of_day(validity.last_day(first, zone), zone)
    lots = session.scalars(EXPIRING, {"member": member_id, "at": at, "until": until})
    return _per_day(lots, zone)[0]


def _per_day(lots, zone: ZoneInfo) -> list[Expiring]:
    totals: dict[date, Expiring] = {}
    for lot in lots:
        if lot.expires_at is None:  # excluded by the query; a lot without a date never expires
            continue
        day = validity.last_day(lot.expires_at, zone)
        earlier = totals.get(day)
        points = lot.remaining + (earlier.points if earlier else 0)
        totals[day] = Expiring(points, earlier.expires_at if earlier else lot.expires_at, day)
    return list(totals.values())


def history(session: Session, member_id: int, limit: int = 10) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.member_id == member_id)
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
            .limit(limit)
        )
    )


def tier_progress(session: Session, config: Config, member: Member, at: datetime) -> tiers.Progress:
    earned = Ledger(session, config).earned_last_year(member.id, at)
    return tiers.progress(member.tier, earned, config)


def eligible_benefits(session: Session, member: Member) -> list[Benefit]:
    """Active benefits the member's tier may redeem, in stock, cheapest first."""
    catalogue = session.scalars(
        select(Benefit).where(Benefit.active.is_(True)).order_by(Benefit.cost)
    )
    return [b for b in catalogue if member.tier in b.tiers and (b.stock is None or b.stock > 0)]


def catalogue(session: Session) -> list[Benefit]:
    return list(
        session.scalars(select(Benefit).where(Benefit.active.is_(True)).order_by(Benefit.cost))
    )


def vouchers(session: Session, member_id: int, at: datetime) -> list[Voucher]:
    """The member's usable vouchers, soonest to expire first."""
    return list(
        session.scalars(
            select(Voucher)
            .where(
                Voucher.member_id == member_id, Voucher.status == "active", Voucher.expires_at > at
            )
            .order_by(Voucher.expires_at)
        )
    )
