"""The outbox: jobs write messages here and nothing else; the dispatcher sends them.

Each message has a unique dedupe key (member, kind, period, e.g. `birthday:M000001:2026`)
and is inserted with ON CONFLICT DO NOTHING, so a rerun or a second scheduler never
queues it twice.

Statuses: queued, deferred (quiet hours or a holiday: waits for `not_before`), sending
(handed to a channel), sent, failed, cancelled. `last_error` starts with a reason code
(`REASONS`), then the detail: `blocked: Forbidden: bot was blocked by the user`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.catalogue import text
from storage.models import Member, OutboundMessage

# A reply is a live answer the platform put off: it goes to the chat it answers, at any hour.
SERVICE, MARKETING, REPLY = "service", "marketing", "reply"
PENDING = ("queued", "deferred", "sending")

REASONS = {
    "opted_out": "marketing to a member who has not consented or unsubscribed (cancelled)",
    "no_member": "the member no longer exists (cancelled)",
    "unreachable": "no reachable chat identity (failed)",
    "blocked": "the channel says the member blocked us or left (failed)",
    "refused": "the channel refused the message as it is (failed)",
    "gave_up": "still failing after outbound.max_attempts tries (failed)",
    "interrupted": "the dispatcher stopped mid-send on a channel that cannot be asked "
    "again safely; not resent, needs review (failed)",
    "error": "the sender raised instead of answering; not resent (failed)",
    "retry": "a try failed; tried again after the back-off (queued)",
    "quiet_hours": "deferred to the end of the quiet hours (deferred)",
    "holiday": "marketing deferred past a public holiday (deferred)",
    "missed": "a campaign message that could not go out on the campaign's day (cancelled)",
    "stale": "a put-off reply still unsent long after the message it answers (cancelled)",
    "superseded": "a newer notice on the same subject was queued before it went out "
    "(cancelled; handlers/desk/member_notices.py)",
}


@dataclass(frozen=True)
class Message:
    dedupe_key: str
    member_id: int | None  # None: a reply to a chat not yet bound to a member
    kind: str
    text: str
    not_before: datetime
    category: str = SERVICE
    campaign_id: int | None = None
    payload: dict = field(default_factory=dict)
    identity_id: int | None = None  # the one chat it goes to (a reply); else the member's choice
    channel: str | None = None  # known in advance for a reply; else set when it is sent


def marketing_text(body: str, lang: str) -> str:
    """Every marketing message says how to stop them."""
    footer = text(lang, "marketing.unsubscribe")
    return body if body.endswith(footer) else f"{body}\n{footer}"


def queue(session: Session, messages: Iterable[Message], at: datetime) -> int:
    """Insert the messages not queued before; returns how many are new."""
    rows = [
        dict(
            dedupe_key=m.dedupe_key,
            member_id=m.member_id,
            identity_id=m.identity_id,
            channel=m.channel,
            kind=m.kind,
            category=m.category,
            text=m.text,
            payload=m.payload or None,
            campaign_id=m.campaign_id,
            status="queued",
            not_before=m.not_before,
            attempts=0,
            created_at=at,
        )
        for m in messages
    ]
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = OutboundMessage.__table__  # Core: the ORM's bulk path costs more than the insert
    statement = (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    )
    return len(session.scalars(statement, rows).all())


def reason(row: OutboundMessage) -> str | None:
    """The reason code of a row's last_error, if any."""
    return row.last_error.split(":", 1)[0] if row.last_error else None


def listing(member_no: str | None = None, limit: int | None = None) -> Select:
    """Outbox rows with their member number, newest first (a read: bypasses the domain)."""
    query = (
        select(OutboundMessage, Member.member_no)
        .join(Member, Member.id == OutboundMessage.member_id, isouter=True)
        .order_by(OutboundMessage.id.desc())
    )
    if member_no:
        query = query.where(Member.member_no == member_no.upper())
    return query.limit(limit) if limit else query


def queue_in_batches(database, messages: list[Message], at: datetime, size: int = 1000) -> int:
    """Queue many messages, one commit per batch; a rerun after a crash queues the rest."""
    total = 0
    for start in range(0, len(messages), size):
        with database.unit_of_work() as session:
            total += queue(session, messages[start : start + size], at)
            session.commit()
    return total
