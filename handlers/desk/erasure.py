"""Erasing a member's personal data on request (PIPL).

Erased: name, phone, birthday, every chat identity (the platform id is replaced, the
chat unbound), the texts of every message in and out, the member's words on their
tickets (descriptions, transcripts, messages, replies and notes) and the staff alerts
quoting them. Kept, anonymised: the ledger (append-only: its sums and figures stand),
vouchers, tickets with their numbers, categories, times and ratings, the member number.
Open tickets close (nobody is left to answer) and nothing queued to the member is sent;
staff can no longer reply to, reopen or compensate on their tickets.
An erased member refers no one: members who named them are left without a referrer.
The admin's erasure is an audit event; the member's own one is a consent record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from core.ticket_rules import OPEN_STATUSES
from handlers.desk.ticket_lifecycle import Actor, close_now
from storage.db import Database
from storage.members import by_number, set_marketing_consent
from storage.models import (
    AuditEvent,
    ChannelMenu,
    ChatIdentity,
    Compensation,
    ConversationState,
    Member,
    MessageLog,
    OutboundMessage,
    StaffAlert,
    Ticket,
    TicketEvent,
)

PENDING = ("queued", "deferred")


class ErasureRefused(Exception):
    """`code`: forbidden, not_found."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Erased:
    member_no: str
    already: bool  # erased before: nothing was left to erase


def erase(db: Database, member_no: str, actor: Actor, at: datetime) -> Erased:
    """An admin erases a member's personal data at the member's request."""
    if actor.role != "admin":
        raise ErasureRefused("forbidden", "only admins erase a member's personal data")
    with db.unit_of_work() as session:
        member = by_number(session, member_no.strip())
        if member is None:
            raise ErasureRefused("not_found", f"no member {member_no.strip().upper()}")
        if member.erased_at is not None:
            return Erased(member.member_no, already=True)
        erase_personal_data(session, member, f"staff:{actor.username}", at)
        session.add(
            AuditEvent(
                actor=actor.username,
                action="member_erased",
                entity="member",
                entity_id=member.member_no,
                data=None,
                created_at=at,
            )
        )
        session.commit()
        return Erased(member.member_no, already=False)


def erase_personal_data(session: Session, member: Member, source: str, at: datetime) -> None:
    """Inside the caller's unit of work (the desk's, or the member's own conversation)."""
    identities = list(
        session.scalars(select(ChatIdentity).where(ChatIdentity.member_id == member.id))
    )
    chats = [i.id for i in identities]
    mine = or_(MessageLog.member_id == member.id, MessageLog.identity_id.in_(chats))
    _blank(session, update(MessageLog).where(mine).values(text="", buttons=None))
    _blank(
        session,
        update(OutboundMessage)
        .where(or_(OutboundMessage.member_id == member.id, OutboundMessage.identity_id.in_(chats)))
        .values(text="", payload=None),
    )
    _blank(
        session,
        update(OutboundMessage)
        .where(
            or_(OutboundMessage.member_id == member.id, OutboundMessage.identity_id.in_(chats)),
            OutboundMessage.status.in_(PENDING),
        )
        .values(status="cancelled", last_error="erased: the member's data was erased"),
    )
    tickets = select(Ticket.id).where(
        or_(Ticket.member_id == member.id, Ticket.identity_id.in_(chats))
    )
    _blank(session, update(Ticket).where(Ticket.id.in_(tickets)).values(description=""))
    _blank(
        session,
        update(TicketEvent).where(TicketEvent.ticket_id.in_(tickets)).values(body=None),
    )
    _blank(
        session,
        update(TicketEvent)
        .where(TicketEvent.ticket_id.in_(tickets), TicketEvent.kind == "transcript")
        .values(data=None),
    )
    _blank(session, update(StaffAlert).where(StaffAlert.ticket_id.in_(tickets)).values(text=""))
    actor = source.removeprefix("staff:")
    still_open = select(Ticket).where(Ticket.id.in_(tickets), Ticket.status.in_(OPEN_STATUSES))
    for ticket in session.scalars(still_open).all():
        close_now(session, ticket, actor, at, "closed: the member's personal data was erased")
    _blank(
        session, update(Compensation).where(Compensation.member_id == member.id).values(reason="")
    )
    # Who named them as referrer is theirs no more, and a first purchase to come pays no
    # referral into an erased account (storage/ledger.py pays whoever referrer_id names).
    _blank(session, update(Member).where(Member.referrer_id == member.id).values(referrer_id=None))
    for identity in identities:
        forget_chat(session, identity)
    member.name, member.phone, member.birthday, member.timezone = "", None, None, None
    if member.marketing_consent:
        set_marketing_consent(session, member, False, source, at)
    member.erased_at = at


def forget_chat(session: Session, identity: ChatIdentity) -> None:
    """The chat no longer names its platform account nor belongs to the member."""
    session.execute(
        delete(ChannelMenu).where(
            ChannelMenu.channel == identity.channel,
            ChannelMenu.external_id == identity.external_id,
        )
    )
    state = session.get(ConversationState, identity.id)
    if state is not None:
        state.flow = state.step = state.confirmation = None
        state.slots, state.confirmed = {}, []
    identity.external_id = f"erased:{identity.id}"
    identity.display_name = None
    identity.member_id, identity.member = None, None
    identity.last_inbound_at = None


def _blank(session: Session, statement) -> None:
    session.execute(statement, execution_options={"synchronize_session": False})
