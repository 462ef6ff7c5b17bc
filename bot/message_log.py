"""The message log: every message in and out, with what the bot understood and how the
turn ended (outcome), for the desk's self-service, fallback and hand-off rates.

Outcomes: answered, form, reask, gave_up, fallback, out_of_scope, needs_binding,
refused, cancelled, menu, handoff, to_staff, repeat, stale, error."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.messages import Button, Inbound, Reply
from handlers.conversation.context import Context
from storage.models import ChatIdentity, MessageLog

TABLE = MessageLog.__table__  # the table, not the entity: no ORM bulk machinery
INBOUND = insert(TABLE).returning(TABLE.c.id)
OUTBOUND = insert(TABLE)


def _said(message: Inbound) -> str:
    return message.text if message.text is not None else f"[button] {message.button}"


def record(session: Session, message: Inbound, ctx: Context, latency_ms: float) -> None:
    """The message and its replies, written at the end of the turn. The unique
    (channel, message id) makes a concurrent retry fail here, and the engine then
    answers it from the log (see `earlier`). Core inserts built once: this runs on every
    turn."""
    member_id = ctx.member.id if ctx.member is not None else None
    common = {
        "identity_id": ctx.identity.id,
        "member_id": member_id,
        "channel": message.channel,
        "handler": ctx.handler,
        "outcome": ctx.outcome,
        "created_at": ctx.now,
    }
    inbound_id = session.execute(
        INBOUND,
        {
            **common,
            "direction": "in",
            "external_msg_id": message.message_id,
            "text": _said(message),
            "intent": (ctx.understood.intent or "")[:40] or None,
            "confidence": ctx.understood.confidence,
            "latency_ms": latency_ms,
        },
    ).scalar_one()
    if ctx.replies:
        session.execute(
            OUTBOUND,
            [
                {
                    **common,
                    "direction": "out",
                    "text": reply.text,
                    "reply_to_id": inbound_id,
                    "buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons]
                    or None,
                }
                for reply in ctx.replies
            ],
        )


def failed(
    session: Session, message: Inbound, identity: ChatIdentity, reply: Reply, at: datetime
) -> None:
    inbound = MessageLog(
        identity_id=identity.id,
        member_id=identity.member_id,
        channel=message.channel,
        direction="in",
        external_msg_id=message.message_id,
        text=_said(message),
        outcome="error",
        created_at=at,
    )
    session.add_all(
        [
            inbound,
            MessageLog(
                identity_id=identity.id,
                channel=message.channel,
                direction="out",
                text=reply.text,
                outcome="error",
                reply_to=inbound,
                created_at=at,
            ),
        ]
    )


def earlier(session: Session, message: Inbound) -> tuple[MessageLog, list[Reply]] | None:
    """The first handling of a message the channel sent again (same message id)."""
    if message.message_id is None:
        return None
    first = session.scalar(
        select(MessageLog).where(
            MessageLog.channel == message.channel,
            MessageLog.external_msg_id == message.message_id,
            MessageLog.direction == "in",
        )
    )
    if first is None:
        return None
    sent = session.scalars(
        select(MessageLog).where(MessageLog.reply_to_id == first.id).order_by(MessageLog.id)
    )
    return first, [
        Reply(r.text, tuple(Button(b["title"], b["payload"]) for b in r.buttons or ()))
        for r in sent
    ]
