"""Messages from the desk to a member (staff replies, rating requests, compensation
notices): written to the outbox first, then sent at once through the sender of the
member's channel. A send that must wait (rate limit, platform busy, no sender for the
channel in this process) stays queued for the scheduler's dispatcher; nothing is lost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core.scrub import scrub
from handlers.ports import Outcome, Outgoing, Sender
from storage.db import Database
from storage.models import ChatIdentity, OutboundMessage, Ticket

Senders = Mapping[str, Sender]
CLAIMANT = "staff-desk"


@dataclass(frozen=True)
class Delivered:
    status: str  # sent, queued, failed, unreachable, no_channel
    detail: str = ""
    via: str | None = None


def recipient(session, ticket: Ticket) -> ChatIdentity | None:
    """The chat the ticket came from, else the member's most recently active one."""
    if ticket.identity_id is not None:
        return session.get(ChatIdentity, ticket.identity_id)
    if ticket.member_id is None:
        return None
    return session.scalar(
        select(ChatIdentity)
        .where(ChatIdentity.member_id == ticket.member_id)
        .order_by(ChatIdentity.last_inbound_at.desc().nulls_last(), ChatIdentity.id.desc())
        .limit(1)
    )


def deliver(
    db: Database,
    senders: Senders,
    ticket_id: int,
    text: str,
    key: str,
    at: datetime,
    buttons: list[tuple[str, str]] | None = None,
) -> Delivered:
    """Send `text` to the ticket's member once per `key`, whatever is retried."""
    buttons = buttons or []
    with db.unit_of_work() as session:
        if seen := session.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == key)):
            return Delivered(seen.status, seen.last_error or "")
        ticket = session.get_one(Ticket, ticket_id)
        ident = recipient(session, ticket)
        if ident is None:
            return Delivered("no_channel", "the ticket has no chat to answer on")
        sender = senders.get(ident.channel)
        sendable = sender is not None and ident.reachable
        row = OutboundMessage(
            dedupe_key=key,
            member_id=ticket.member_id,
            identity_id=ident.id,
            channel=ident.channel,
            kind="ticket_update",
            category="service",
            text=text,
            payload={"ticket": ticket.number, "buttons": [list(b) for b in buttons]},
            status="sending" if sendable else "queued",
            not_before=at,
            attempts=0,
            claimed_by=CLAIMANT if sendable else None,
            claimed_at=at if sendable else None,
            created_at=at,
        )
        if not ident.reachable:
            row.status, row.last_error = "failed", f"unreachable: {ident.unreachable_reason}"
        session.add(row)
        session.commit()
        row_id = row.id
        outgoing = Outgoing(
            external_id=ident.external_id,
            text=text,
            buttons=list(buttons),
            kind="ticket_update",
            last_inbound_at=ident.last_inbound_at,
        )
    if not ident.reachable:
        return Delivered("unreachable", ident.unreachable_reason or "")
    if sender is None:
        return Delivered("queued", f"no {ident.channel} sender here: the dispatcher sends it")
    try:
        result = sender.send(outgoing)
        outcome, detail, wait, via = result.outcome, result.detail, result.retry_after, result.via
    except Exception as exc:  # a network fault is the dispatcher's to retry, not a crash
        detail = scrub(f"{type(exc).__name__}: {exc}")
        outcome, wait, via = Outcome.RETRY, None, None
    with db.unit_of_work() as session:
        row = session.get_one(OutboundMessage, row_id)
        row.attempts, row.claimed_by, row.claimed_at = 1, None, None
        if outcome == Outcome.SENT:
            row.status, row.sent_at = "sent", at
            status = "sent"
        elif outcome == Outcome.RETRY:
            row.status, row.last_error = "queued", detail[:500]
            row.not_before = at + timedelta(seconds=wait or 30)
            status = "queued"
        else:
            row.status, row.last_error = "failed", f"{outcome}: {detail}"[:500]
            status = "unreachable" if outcome == Outcome.UNREACHABLE else "failed"
        session.commit()
    return Delivered(status, detail, via)
