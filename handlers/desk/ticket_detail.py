"""Everything about one ticket for the person answering it: the ticket's row; the member's
profile (tier, points and expiring lots, vouchers, recent points, other tickets, whether the
membership has lapsed); the transcript scoped to this ticket, with pressed buttons shown by
their titles; the history, compensation and canned replies. Display only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import Config
from core.send_window import member_zone
from handlers.desk import canned_replies, compensation, member_views
from handlers.desk.compensation import Policy
from handlers.desk.ticket_lifecycle import text
from handlers.desk.ticket_views import Row, ticket_row
from storage.models import (
    Benefit,
    ChatIdentity,
    Compensation,
    LedgerEntry,
    Member,
    MessageLog,
    StaffUser,
    Ticket,
    TicketEvent,
    Voucher,
)

TRANSCRIPT_LIMIT = 200
PRESSED = "[button] "  # how bot/message_log.py records a pressed button
OTHER_TICKETS = 10


@dataclass(frozen=True)
class Said:
    at: datetime
    direction: str  # in, out
    text: str
    who: str  # member, bot, staff
    pressed: bool = False  # a button the member pressed; text is its title


@dataclass
class Detail:
    row: Row
    ticket: Ticket
    member: Member | None
    balance: int | None
    expiring: list
    identities: list[ChatIdentity]
    transcript: list[Said]
    events: list[TicketEvent]
    compensation: Compensation | None
    policy: Policy
    escalated_to: str | None
    canned: list = field(default_factory=list)
    vouchers: list[tuple[Voucher, Benefit]] = field(default_factory=list)
    history: list[LedgerEntry] = field(default_factory=list)
    other_tickets: list[Ticket] = field(default_factory=list)
    membership_expired: bool = False


def detail(session: Session, ticket: Ticket, at: datetime, config: Config) -> Detail:
    member = session.get(Member, ticket.member_id) if ticket.member_id else None
    events = list(
        session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.created_at, TicketEvent.id)
        )
    )
    escalated = session.get(StaffUser, ticket.escalated_to_id) if ticket.escalated_to_id else None
    seen = Detail(
        row=ticket_row(session, ticket, at, config),
        ticket=ticket,
        member=member,
        balance=None,
        expiring=[],
        identities=[],
        transcript=transcript(session, ticket, events),
        events=[e for e in events if e.kind != "transcript"],
        compensation=compensation.for_ticket(session, ticket.id),
        policy=compensation.policy(session, config, ticket),
        escalated_to=escalated.display_name if escalated else None,
        canned=canned_replies.listed(session, ticket.category),
    )
    if member is not None:
        seen.balance = member_views.balance(session, member.id)
        seen.expiring = member_views.expiring(
            session, member.id, at, 30, member_zone(member.timezone, config)
        )
        seen.identities = list(
            session.scalars(select(ChatIdentity).where(ChatIdentity.member_id == member.id))
        )
        seen.vouchers = _vouchers(session, member.id, at)
        seen.history = member_views.history(session, member.id, limit=8)
        seen.other_tickets = list(
            session.scalars(
                select(Ticket)
                .where(Ticket.member_id == member.id, Ticket.id != ticket.id)
                .order_by(Ticket.created_at.desc())
                .limit(OTHER_TICKETS)
            )
        )
        seen.membership_expired = member.membership_expires < _local_day(at, config)
    return seen


def _local_day(at: datetime, config: Config) -> date:
    return at.astimezone(config.zone).date()


def _vouchers(session: Session, member_id: int, at: datetime) -> list[tuple[Voucher, Benefit]]:
    held = member_views.vouchers(session, member_id, at)
    benefits = {b.id: b for b in session.scalars(select(Benefit))} if held else {}
    return [(v, benefits[v.benefit_id]) for v in held]


def transcript(session: Session, ticket: Ticket, events: list[TicketEvent]) -> list[Said]:
    """What was said before the ticket (attached when it opened), then what was said on the
    ticket's chat while it was this ticket's: until it was resolved, or until the member's
    next ticket on that chat opened. Pressed buttons read as their titles."""
    said: list[Said] = []
    for event in events:
        if event.kind == "transcript" and event.data:
            for m in event.data.get("messages", []):
                who = "member" if m["direction"] == "in" else "bot"
                said.append(Said(datetime.fromisoformat(m["at"]), m["direction"], m["text"], who))
    if ticket.identity_id is None:
        return _with_titles(session, ticket, said)
    from_staff = {
        text("reply", lang, text=e.body)
        for e in events
        if e.kind == "reply"
        for lang in ("zh", "en")
    }
    since = said[-1].at if said else ticket.created_at - timedelta(seconds=1)
    scope = [MessageLog.identity_id == ticket.identity_id, MessageLog.created_at > since]
    until = _scope_end(session, ticket)
    if until is not None:
        scope.append(MessageLog.created_at <= until)
    for log in session.scalars(
        select(MessageLog)
        .where(*scope)
        .order_by(MessageLog.created_at, MessageLog.id)
        .limit(TRANSCRIPT_LIMIT)
    ):
        staff = log.direction == "out" and log.text in from_staff
        who = "member" if log.direction == "in" else "staff" if staff else "bot"
        said.append(Said(log.created_at, log.direction, log.text, who))
    return _with_titles(session, ticket, said)


def _scope_end(session: Session, ticket: Ticket) -> datetime | None:
    """When this ticket's part of the chat ends: resolved (and the rating asked), or the
    next ticket on the same chat opened."""
    next_opened = session.scalar(
        select(func.min(Ticket.created_at)).where(
            Ticket.identity_id == ticket.identity_id, Ticket.id > ticket.id
        )
    )
    ends = [m for m in (next_opened, _rating_window(ticket)) if m is not None]
    return min(ends) if ends else None


def _rating_window(ticket: Ticket) -> datetime | None:
    # After resolving, the member rates the service: that answer still belongs here.
    return ticket.resolved_at + timedelta(hours=1) if ticket.resolved_at else None


def _with_titles(session: Session, ticket: Ticket, said: list[Said]) -> list[Said]:
    """A pressed button is logged as its payload (`c:7cc5e49d:y`); show the title the member
    saw on it, from the buttons the bot last sent before the press."""
    if ticket.identity_id is None or not any(s.text.startswith(PRESSED) for s in said):
        return [_pressed(s, None) if s.text.startswith(PRESSED) else s for s in said]
    offered = session.execute(
        select(MessageLog.created_at, MessageLog.buttons)
        .where(
            MessageLog.identity_id == ticket.identity_id,
            MessageLog.direction == "out",
            MessageLog.buttons.is_not(None),
            MessageLog.created_at <= said[-1].at,
        )
        .order_by(MessageLog.created_at.desc(), MessageLog.id.desc())
        .limit(TRANSCRIPT_LIMIT * 2)
    ).all()
    shown = []
    for s in said:
        if not s.text.startswith(PRESSED):
            shown.append(s)
            continue
        payload = s.text.removeprefix(PRESSED)
        title = next(
            (
                b["title"]
                for when, buttons in offered
                if when <= s.at
                for b in buttons or ()
                if b.get("payload") == payload
            ),
            None,
        )
        shown.append(_pressed(s, title))
    return shown


def _pressed(said: Said, title: str | None) -> Said:
    return Said(said.at, said.direction, title or "", said.who, pressed=True)
