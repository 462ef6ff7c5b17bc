"""Service messages the desk's use cases owe a member (a refund taken back, a voucher
extended): queued in the outbox inside the use case's unit of work, once per key, for the
scheduler's dispatcher to send on the member's channel within the channel's rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import catalogue
from storage.models import Member, OutboundMessage


def tell(session: Session, member: Member, kind: str, key: str, at: datetime, **fields) -> None:
    """Queue the catalogue's `kind` text in the member's language, unless `key` was queued."""
    if session.scalar(select(OutboundMessage.id).where(OutboundMessage.dedupe_key == key)):
        return
    session.add(
        OutboundMessage(
            dedupe_key=key,
            member_id=member.id,
            kind=kind.replace(".", "_"),
            category="service",
            text=catalogue.text(member.language, kind, **fields),
            status="queued",
            not_before=at,
            attempts=0,
            created_at=at,
        )
    )
