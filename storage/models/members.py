from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    birthday: Mapped[date | None]
    join_date: Mapped[date]
    membership_expires: Mapped[date]
    tier: Mapped[str] = mapped_column(String(20))
    tier_since: Mapped[datetime]
    language: Mapped[str] = mapped_column(String(5), default="zh")
    timezone: Mapped[str | None] = mapped_column(String(40))
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    last_purchase_at: Mapped[datetime | None]
    # Set when the member's personal data was erased on request (PIPL).
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    identities: Mapped[list[ChatIdentity]] = relationship(back_populates="member")


class ChatIdentity(Base):
    """One chat account (WeChat openid, Telegram user id, console user); bound or not."""

    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(5))
    display_name: Mapped[str | None] = mapped_column(String(100))
    reachable: Mapped[bool] = mapped_column(default=True)
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    last_inbound_at: Mapped[datetime | None]
    bind_failures: Mapped[int] = mapped_column(default=0)
    bind_locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]

    member: Mapped[Member | None] = relationship(back_populates="identities")


class ConsentEvent(Base):
    """Append-only history of consent changes; Member.marketing_consent caches the latest."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool]
    source: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime]


class TierEvaluation(Base):
    """Append-only: the yearly evaluation of one member, once per year (the unique key)."""

    __tablename__ = "tier_evaluations"
    __table_args__ = (UniqueConstraint("member_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    year: Mapped[int]
    tier_before: Mapped[str] = mapped_column(String(20))
    tier_after: Mapped[str] = mapped_column(String(20))
    earned: Mapped[int]  # qualifying points in the 12 months before the evaluation day
    evaluated_at: Mapped[datetime]
