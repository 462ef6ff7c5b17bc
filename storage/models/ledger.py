from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class PointsAccount(Base):
    """The row every ledger write locks first; `balance` caches the sum of the ledger,
    `debt` the sum of its debt column (refunded points that had been spent already)."""

    __tablename__ = "points_accounts"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("debt >= 0", name="debt_not_negative"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(default=0)
    debt: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime]


class LedgerEntry(Base):
    """Append-only: never updated or deleted; corrections are new entries."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_member_time", "member_id", "created_at"),
        # Order numbers are found in any case (storage/ledger_rows.py, migration 0018).
        Index("ix_ledger_order_upper", text("upper(order_id)")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(30))
    points: Mapped[int]
    qualifying: Mapped[bool] = mapped_column(default=False)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    order_id: Mapped[str | None] = mapped_column(String(40), index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    reference: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    # How the entry changed the member's debt: + the shortfall of a refund whose points
    # were spent already, - what a later earning repaid.
    debt: Mapped[int | None]
    created_at: Mapped[datetime]


class PointsLot(Base):
    """Points from one earning, spent first-to-expire; `remaining` caches its allocations."""

    __tablename__ = "points_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        CheckConstraint("remaining <= points", name="remaining_within_points"),
        Index("ix_lots_member_open", "member_id", "remaining", "expires_at"),
        Index("ix_lots_expiry", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    points: Mapped[int]
    remaining: Mapped[int]
    earned_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


class LotAllocation(Base):
    """Which lots a spending entry drew from (negative) or gave back to (positive)."""

    __tablename__ = "lot_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("points_lots.id"), index=True)
    points: Mapped[int]
