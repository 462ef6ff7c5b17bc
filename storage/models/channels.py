"""Channel bookkeeping: inbound claims (each platform message handled once), the WeChat
access token shared by every process, and the buttons last offered on a text-only channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class InboundClaim(Base):
    """A platform message (WeChat MsgId, Telegram update_id) claimed before it is handled:
    the primary key turns a platform's retry into a no-op. How each reply went is in the
    message log."""

    __tablename__ = "inbound_claims"
    __table_args__ = (Index("ix_inbound_claims_time", "claimed_at"),)

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    claimed_at: Mapped[datetime]


class ChannelToken(Base):
    """wechatpy's session storage: the access token every process shares, so one refresh
    serves the server and the scheduler alike."""

    __tablename__ = "channel_tokens"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None]


class SendLimit(Base):
    """One send limit shared by every process (app/channels/shared_limits.py): `next_at`
    is the limit's theoretical arrival time, in seconds since the epoch on the database
    server's clock."""

    __tablename__ = "send_limits"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    next_at: Mapped[float]


class ChannelMenu(Base):
    """The buttons last offered to a user on a channel without real buttons (WeChat text
    links): a click comes back as a numbered menu id and is turned into the payload."""

    __tablename__ = "channel_menus"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    buttons: Mapped[list]  # [[title, payload], ...]
    offered_at: Mapped[datetime]
