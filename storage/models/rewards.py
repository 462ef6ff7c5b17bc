from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Benefit(Base):
    __tablename__ = "benefits"
    __table_args__ = (CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    cost: Mapped[int]
    stock: Mapped[int | None]
    tiers: Mapped[list]
    per_member_limit: Mapped[int | None]
    voucher_validity_days: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


class Redemption(Base):
    __tablename__ = "redemptions"
    # One index, led by the member: this month's count of a benefit reads a handful of
    # rows. An index on the benefit alone tempted PostgreSQL's generic plan into reading
    # every redemption of a popular benefit on each new one.
    __table_args__ = (
        Index("ix_redemptions_member_benefit_time", "member_id", "benefit_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    benefit_id: Mapped[int] = mapped_column(ForeignKey("benefits.id"))
    quantity: Mapped[int]
    points: Mapped[int]
    request_key: Mapped[str] = mapped_column(String(200), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    status: Mapped[str] = mapped_column(String(20), default="done")
    created_at: Mapped[datetime]


class Voucher(Base):
    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    benefit_id: Mapped[int] = mapped_column(ForeignKey("benefits.id"))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    extension_requested_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    used_order_id: Mapped[str | None] = mapped_column(String(40))
    used_store: Mapped[str | None] = mapped_column(String(100))
