"""The books: every member's cached balance equals the sum of their ledger entries and the
remainder of their lots, and none is negative. What a race or a benchmark must leave true."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import LedgerEntry, PointsAccount, PointsLot


def unbalanced(session: Session) -> list[int]:
    """The members whose books do not balance (empty when all is well)."""
    cached = dict(session.execute(select(PointsAccount.member_id, PointsAccount.balance)).all())
    ledger = dict(
        session.execute(
            select(LedgerEntry.member_id, func.sum(LedgerEntry.points)).group_by(
                LedgerEntry.member_id
            )
        ).all()
    )
    lots = dict(
        session.execute(
            select(PointsLot.member_id, func.sum(PointsLot.remaining)).group_by(PointsLot.member_id)
        ).all()
    )
    return sorted(
        member
        for member, balance in cached.items()
        if balance < 0 or balance != ledger.get(member, 0) or balance != lots.get(member, 0)
    )
