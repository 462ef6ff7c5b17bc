"""Ticket use cases the conversation needs: open a ticket, hand the conversation to
staff and back, and put what the member says meanwhile on the ticket.

Staff tooling (issue 6) builds on these: resolving a ticket calls `hand_back`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from core import ticket_rules
from core.config import Config
from storage.models import ChatIdentity, ConversationState, Member, MessageLog, Ticket, TicketEvent

TRANSCRIPT_MESSAGES = 20


def open_ticket(
    session: Session,
    config: Config,
    *,
    kind: str,
    category: str,
    description: str,
    at: datetime,
    member: Member | None,
    identity: ChatIdentity | None,
    order_id: str | None = None,
    actor: str = "member",
) -> Ticket:
    """A complaint, hand-off or request, with its priority and deadlines from config."""
    urgent = kind == "complaint" and ticket_rules.is_urgent(
        description, config.complaints.urgent_keywords
    )
    vip = member is not None and config.tier(member.tier).vip
    due = ticket_rules.deadlines(at, urgent, vip, config.service_levels)
    ticket = Ticket(
        # The number comes from the id, known only after the insert.
        number=f"new-{uuid.uuid4().hex[:12]}",
        member_id=member.id if member else None,
        identity_id=identity.id if identity else None,
        kind=kind,
        category=category,
        priority=ticket_rules.priority(kind, urgent, vip),
        urgent=urgent,
        status="new",
        description=description,
        order_id=order_id or None,
        first_response_due=due.first_response,
        resolution_due=due.resolution,
        created_at=at,
        updated_at=at,
    )
    session.add(ticket)
    session.flush()
    ticket.number = ticket_rules.number(ticket.id)
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind="opened",
            actor=actor,
            body=description,
            data={"category": category, "priority": ticket.priority, "urgent": urgent, "vip": vip},
            created_at=at,
        )
    )
    if identity is not None:
        _attach_transcript(session, ticket, identity, at)
    session.flush()
    return ticket


def _attach_transcript(
    session: Session, ticket: Ticket, identity: ChatIdentity, at: datetime
) -> None:
    """The conversation so far travels with the ticket, so staff need not ask again."""
    recent = session.scalars(
        select(MessageLog)
        .where(MessageLog.identity_id == identity.id)
        .order_by(MessageLog.id.desc())
        .limit(TRANSCRIPT_MESSAGES)
    ).all()
    messages = [
        {"direction": m.direction, "text": m.text, "at": m.created_at.isoformat()}
        for m in reversed(recent)
    ]
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind="transcript",
            actor="bot",
            data={"messages": messages},
            created_at=at,
        )
    )


def open_handoff(
    session: Session,
    config: Config,
    state: ConversationState,
    identity: ChatIdentity,
    member: Member | None,
    said: str,
    at: datetime,
) -> Ticket:
    """Hand the conversation to staff: reuse the member's open hand-off ticket or open one."""
    ticket = session.scalar(
        select(Ticket)
        .where(
            Ticket.identity_id == identity.id,
            Ticket.kind == "handoff",
            Ticket.status.in_(ticket_rules.OPEN_STATUSES),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    if ticket is None:
        ticket = open_ticket(
            session,
            config,
            kind="handoff",
            category="other",
            description=said,
            at=at,
            member=member,
            identity=identity,
        )
    state.owner, state.ticket_id = "staff", ticket.id
    session.add(
        TicketEvent(ticket_id=ticket.id, kind="handoff", actor="member", body=said, created_at=at)
    )
    return ticket


def record_member_message(
    session: Session, state: ConversationState, text: str, at: datetime
) -> None:
    """While staff own the conversation, what the member says lands on the ticket."""
    add_member_message(session, session.get_one(Ticket, state.ticket_id), text, at)


def add_member_message(session: Session, ticket: Ticket, text: str, at: datetime) -> None:
    """The member wrote on their ticket: an event staff see, the queue's marker, and a
    ticket that was waiting for the member is back in progress."""
    session.add(
        TicketEvent(
            ticket_id=ticket.id, kind="member_message", actor="member", body=text, created_at=at
        )
    )
    if ticket.status == "waiting_member":
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                kind="status",
                actor="member",
                data={"before": "waiting_member", "to": "in_progress"},
                created_at=at,
            )
        )
        ticket.status = "in_progress"
    ticket.member_wrote_at = ticket.member_wrote_at or at
    ticket.updated_at = at


def mark_missing(session: Session, ticket: Ticket, missing: list[str], at: datetime) -> None:
    """Filed before the member gave everything: staff see what to ask for."""
    if missing:
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                kind="incomplete",
                actor="bot",
                data={"missing": missing},
                created_at=at,
            )
        )


# The chat's tickets that expect something from the member: asked on every message, so
# built once. A chat without a member compares member_id with NULL, which is never true.
TALKING = (
    select(Ticket)
    .where(
        (Ticket.identity_id == bindparam("identity")) | (Ticket.member_id == bindparam("member")),
        (Ticket.status == "waiting_member")
        | ((Ticket.status == "resolved") & Ticket.rating.is_(None))
        | (Ticket.member_wrote_at.is_not(None) & Ticket.status.in_(ticket_rules.OPEN_STATUSES)),
    )
    .order_by(Ticket.id.desc())
    .limit(5)
)


def talking(session: Session, member: Member | None, identity: ChatIdentity) -> list[Ticket]:
    """The chat's tickets that expect something from the member, newest first: an answer
    to staff (waiting_member, or still being answered since the member wrote) or a rating
    (resolved, not rated yet)."""
    member_id = member.id if member is not None else None
    return list(session.scalars(TALKING, {"identity": identity.id, "member": member_id}))


def chat_unlinked(session: Session, member: Member, identity: ChatIdentity) -> None:
    """A chat unlinked from its member no longer speaks for the member's tickets: staff
    replies go to the member's other chats (ticket_delivery.recipient), and the chat's
    next words are the bot's (a shared phone must not receive the member's complaints)."""
    session.execute(
        update(Ticket)
        .where(Ticket.member_id == member.id, Ticket.identity_id == identity.id)
        .values(identity_id=None)
    )


def staff_spoke_since(session: Session, expecting: list[Ticket], since: datetime) -> list[Ticket]:
    """Those of the tickets staff replied on or resolved after `since`."""
    spoke = set(
        session.scalars(
            select(TicketEvent.ticket_id).where(
                TicketEvent.ticket_id.in_([t.id for t in expecting]),
                TicketEvent.kind.in_(("reply", "resolved")),
                TicketEvent.created_at > since,
            )
        )
    )
    return [t for t in expecting if t.id in spoke]


def staff_replied(session: Session, ticket_id: int) -> bool:
    return session.get_one(Ticket, ticket_id).first_responded_at is not None


def member_left(
    session: Session, state: ConversationState, at: datetime, withdraws: bool = False
) -> Ticket | None:
    """The member went back to the bot (cancel, menu); the ticket stays open for staff,
    unless the member calls off (`withdraws`, `取消转人工`) a hand-off nobody has answered
    yet: that one is closed, and returned, so it does not wait in the queue for no one."""
    ticket = session.get_one(Ticket, state.ticket_id)
    session.add(TicketEvent(ticket_id=ticket.id, kind="member_left", actor="member", created_at=at))
    state.owner, state.ticket_id = "bot", None
    if not (
        withdraws
        and ticket.kind == "handoff"
        and ticket.first_responded_at is None
        and ticket.status in ("new", "assigned")
    ):
        return None
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind="status",
            actor="member",
            body="withdrawn by the member",
            data={"before": ticket.status, "to": "closed"},
            created_at=at,
        )
    )
    ticket.status, ticket.updated_at = "closed", at
    return ticket


def hand_back(session: Session, ticket: Ticket, actor: str, at: datetime) -> int:
    """Staff are done (resolved, or handing back): the bot answers this member again.
    Returns how many conversations were handed back (0 when the member had left)."""
    states = session.scalars(
        select(ConversationState)
        .where(ConversationState.ticket_id == ticket.id, ConversationState.owner == "staff")
        .with_for_update()
    ).all()
    for state in states:
        state.owner, state.ticket_id = "bot", None
        state.flow = state.step = state.confirmation = None
        state.slots, state.reasks, state.updated_at = {}, 0, at
    if states:
        session.add(
            TicketEvent(ticket_id=ticket.id, kind="handed_back", actor=actor, created_at=at)
        )
    return len(states)


def for_member(
    session: Session,
    member: Member | None,
    identity: ChatIdentity,
    open_only: bool = True,
    limit: int = 5,
) -> list[Ticket]:
    """The member's tickets (or this chat's, before binding), newest first."""
    mine = Ticket.identity_id == identity.id
    if member is not None:
        mine = mine | (Ticket.member_id == member.id)
    query = select(Ticket).where(mine)
    if open_only:
        query = query.where(Ticket.status.in_(ticket_rules.OPEN_STATUSES))
    return list(session.scalars(query.order_by(Ticket.id.desc()).limit(limit)))
