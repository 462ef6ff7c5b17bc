from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class ConversationState(Base):
    """Where a conversation stands, so a restart mid-flow resumes it."""

    __tablename__ = "conversation_states"

    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(10), default="bot")  # bot, staff
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    flow: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    slots: Mapped[dict] = mapped_column(default=dict)
    misses: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class MessageLog(Base):
    """Every message in and out, with what the bot understood and how it ended."""

    __tablename__ = "message_log"
    __table_args__ = (
        UniqueConstraint("channel", "external_msg_id"),
        Index("ix_message_log_time", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identities.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    external_msg_id: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float | None]
    handler: Mapped[str | None] = mapped_column(String(40))
    latency_ms: Mapped[float | None]
    outcome: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime]
