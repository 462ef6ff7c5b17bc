"""What the doors remember about callers: signed requests already seen (a replayed
WeChat query is refused) and failed guesses at a secret (binding birthdays, staff
passwords, API keys), counted per subject within a window so guessing is locked out.
Both are shared by every process through the database and pruned when old."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class SignedRequest(Base):
    """A signed platform request seen: its signature, and a digest of the body it came
    with. The same signed query again with the same body is the platform's retry; with
    another body it is a replay."""

    __tablename__ = "signed_requests"
    __table_args__ = (Index("ix_signed_requests_time", "seen_at"),)

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_digest: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime]


class FailedAttempt(Base):
    """One failed guess: `scope` says at what (bind_number, bind_all, signin_account,
    signin_address, api_address), `subject` whose (a member number, a username, an
    address)."""

    __tablename__ = "failed_attempts"
    __table_args__ = (
        Index("ix_failed_attempts_subject", "scope", "subject", "at"),
        Index("ix_failed_attempts_time", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
