"""Canned replies: standard answers for frequent complaints, in Chinese and English.
Every agent uses them; supervisors (and admins) write, change and retire them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.desk.staff_accounts import at_least
from handlers.desk.ticket_lifecycle import Actor, TicketError
from storage.db import Database
from storage.models import AuditEvent, CannedReply

KEY = re.compile(r"^[a-z0-9_]{2,50}$")


@dataclass(frozen=True)
class Draft:
    key: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    category: str | None = None


def listed(session: Session, category: str | None = None) -> list[CannedReply]:
    """Active replies, those for `category` first, then the general ones."""
    replies = session.scalars(
        select(CannedReply).where(CannedReply.active.is_(True)).order_by(CannedReply.key)
    ).all()
    return sorted(replies, key=lambda r: (r.category != category, r.category is not None))


def save(db: Database, draft: Draft, actor: Actor, at: datetime) -> CannedReply:
    """Create or change the reply with this key."""
    if not at_least(actor.role, "supervisor"):
        raise TicketError("forbidden", "only supervisors edit canned replies")
    if not KEY.match(draft.key):
        raise TicketError("bad_input", f"key {draft.key!r}: use 2 to 50 of a-z, 0-9 and _")
    for field in ("title_zh", "title_en", "body_zh", "body_en"):
        if not getattr(draft, field).strip():
            raise TicketError("bad_input", f"{field} is empty: a canned reply needs both languages")
    with db.unit_of_work() as session:
        reply = session.scalar(select(CannedReply).where(CannedReply.key == draft.key))
        action = "canned_reply_changed" if reply else "canned_reply_added"
        if reply is None:
            reply = CannedReply(key=draft.key)
            session.add(reply)
        reply.category = draft.category or None
        reply.title_zh, reply.title_en = draft.title_zh.strip(), draft.title_en.strip()
        reply.body_zh, reply.body_en = draft.body_zh.strip(), draft.body_en.strip()
        reply.active, reply.updated_by, reply.updated_at = True, actor.username, at
        _audit(session, actor, action, draft.key, at)
        session.commit()
        return reply


def retire(db: Database, key: str, actor: Actor, at: datetime) -> None:
    if not at_least(actor.role, "supervisor"):
        raise TicketError("forbidden", "only supervisors edit canned replies")
    with db.unit_of_work() as session:
        reply = session.scalar(select(CannedReply).where(CannedReply.key == key))
        if reply is None:
            raise TicketError("not_found", f"no canned reply {key!r}")
        reply.active, reply.updated_by, reply.updated_at = False, actor.username, at
        _audit(session, actor, "canned_reply_retired", key, at)
        session.commit()


def _audit(session: Session, actor: Actor, action: str, key: str, at: datetime) -> None:
    session.add(
        AuditEvent(
            actor=actor.username,
            action=action,
            entity="canned_reply",
            entity_id=key,
            data=None,
            created_at=at,
        )
    )
