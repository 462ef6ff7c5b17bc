"""The service desk's own records: staff sign-in sessions, API keys, canned replies and
compensation decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class StaffSession(Base):
    """A signed-in browser; the cookie carries the signed token, the row its hash."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ApiKey(Base):
    """A key for the REST API, stored as a SHA-256 digest; the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    scopes: Mapped[list | None]  # members, purchases, vouchers, tickets; None: all


class CannedReply(Base):
    """A standard answer for a frequent kind of complaint, in both languages."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(50), unique=True)
    category: Mapped[str | None] = mapped_column(String(30))
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def body(self, lang: str) -> str:
        return self.body_en if lang == "en" else self.body_zh


class Compensation(Base):
    """The one compensation of a ticket: proposed, then granted or rejected."""

    __tablename__ = "compensations"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    points: Mapped[int]
    within_policy: Mapped[bool]
    status: Mapped[str] = mapped_column(String(20))  # pending, granted, rejected
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(100))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class StaffAlert(Base):
    """The staff group's outbox: a new urgent ticket, a deadline near or missed, a low
    rating. `key` makes each alert once-only; the notifier sends what is queued."""

    __tablename__ = "staff_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # urgent, near_deadline, breach, low_rating
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # queued, sent, skipped, failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class TicketViewer(Base):
    """An open ticket page: its event stream writes `seen_at` every few seconds and deletes
    the row when the page goes; a row left behind by a killed worker counts only while
    fresh. Kept in the database so that every `serve` worker sees every agent."""

    __tablename__ = "ticket_viewers"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)  # one per open page
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    seen_at: Mapped[datetime]
