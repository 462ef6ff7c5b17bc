from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    # Wrong answers to the current form step, counted against dialogue.max_reasks.
    reasks: Mapped[int] = mapped_column(default=0)
    # The pending confirmation's id: confirm buttons carry it, so a stale or repeated
    # press is recognised; `confirmed` keeps the last few done ones for "already done".
    confirmation: Mapped[str | None] = mapped_column(String(16))
    confirmed: Mapped[list] = mapped_column(default=list)
    # Inbound messages seen, counted up to dialogue.language_guess_messages: the
    # language is guessed from those first few.
    messages_in: Mapped[int] = mapped_column(default=0)
    # True once the member asked for a language: guesses no longer override it.
    language_chosen: Mapped[bool] = mapped_column(default=False)
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
    # Outbound rows point at the inbound message they answer, with the buttons sent,
    # so a channel's retry of the same message gets the same replies back.
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("message_log.id"), index=True)
    buttons: Mapped[list | None]
    created_at: Mapped[datetime]

    # Lets one flush insert a message and its replies together.
    reply_to: Mapped[MessageLog | None] = relationship(remote_side=[id])
