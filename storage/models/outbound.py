from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    segment: Mapped[dict]
    messages: Mapped[dict]  # language -> text
    benefits: Mapped[list | None]  # codes of the benefits it promotes (None: not said)
    scheduled_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))  # scheduled, missed, queued
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class OutboundMessage(Base):
    """The outbox: jobs write here, the dispatcher sends; dedupe_key makes queuing idempotent."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identities.id"))
    channel: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))  # service, marketing, reply
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict | None]
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # queued deferred sending sent failed cancelled
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
