"""Service messages the desk's use cases owe a member (a refund taken back, a voucher
extended): queued in the outbox inside the use case's unit of work, once per key, for the
scheduler's dispatcher to send on the member's channel within the channel's rules. A newer
message on the same subject cancels an older one not yet sent (`supersede`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
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


def supersede(session: Session, member_id: int, prefix: str, why: str) -> None:
    """Cancel the member's messages keyed under `prefix` that no dispatcher has taken yet
    (queued or deferred): what they say is out of date. A message being sent is left
    alone (the dispatcher takes a row only while it is queued or deferred, so of the two
    exactly one wins); cancelled rows keep their keys, so none is ever queued again."""
    session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.member_id == member_id,
            OutboundMessage.dedupe_key.startswith(prefix, autoescape=True),
            OutboundMessage.status.in_(("queued", "deferred")),
        )
        .values(
            status="cancelled",
            last_error=f"superseded: {why}"[:500],
            claimed_by=None,
            claimed_at=None,
        )
        .execution_options(synchronize_session=False)
    )
