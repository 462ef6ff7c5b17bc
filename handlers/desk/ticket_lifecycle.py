"""The ticket lifecycle on the staff side: assign, reply, note, change status, correct
the category, resolve (the bot takes the conversation back and asks for a rating),
reopen, and the member's rating (1 or 2 reopens and tells a supervisor).

    new -> assigned -> in_progress <-> waiting_member -> resolved -> closed
    (a staff reply makes the ticket wait for the member; the member's answer moves it back)
    (any open status may go straight to resolved or closed; reopen from resolved/closed)

Every change is a TicketEvent with its actor. Opening a ticket is the conversation's
(handlers/desk/tickets.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import catalogue, payloads
from core.config import Config
from core.ticket_rules import OPEN_STATUSES, unassigned_status
from handlers.desk import staff_notices, tickets
from handlers.desk.staff_accounts import by_username
from handlers.desk.ticket_delivery import Delivered, Senders, deliver
from storage.db import Database
from storage.models import Member, StaffUser, Ticket, TicketEvent

STATUSES = (*OPEN_STATUSES, "resolved", "closed")
MOVES = {
    "new": {"assigned", "in_progress", "waiting_member", "resolved", "closed"},
    "assigned": {"new", "in_progress", "waiting_member", "resolved", "closed"},
    "in_progress": {"assigned", "waiting_member", "resolved", "closed"},
    "waiting_member": {"in_progress", "resolved", "closed"},
    "resolved": {"closed"},
    "closed": set(),
}
LOW_RATING = 2  # this or lower reopens the ticket


class TicketError(Exception):
    """A change the rules refuse; `code`: not_found, forbidden, bad_move, bad_input, erased
    (the member's personal data was erased: nothing goes to them any more)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Actor:
    username: str
    role: str


@dataclass(frozen=True)
class Rated:
    number: str
    rating: int
    reopened: bool
    already: bool = False
    escalated: bool = False  # a supervisor has the reopened ticket

    @property
    def reopened_text(self) -> str:
        """The catalogue key telling the member their ticket is open again: a supervisor is
        promised only when one has it."""
        return "rated_low" if self.escalated else "rated_reopened"


# -- rules, free of I/O --------------------------------------------------------------------


def check_move(current: str, wanted: str) -> None:
    if wanted not in STATUSES:
        raise TicketError("bad_input", f"status {wanted!r}: use one of {', '.join(STATUSES)}")
    if wanted not in MOVES[current]:
        raise TicketError("bad_move", f"a {current} ticket cannot become {wanted}")


def next_deadline(ticket: Ticket) -> tuple[str, datetime] | None:
    """The deadline that matters now: first response until answered, then resolution."""
    if ticket.status not in OPEN_STATUSES:
        return None
    if ticket.first_responded_at is None:
        return "first_response", min(ticket.first_response_due, ticket.resolution_due)
    return "resolution", ticket.resolution_due


def text(kind: str, lang: str, **fields) -> str:
    """What the member is told about their ticket, from the message catalogue."""
    return catalogue.text(lang, f"ticket.{kind}", **fields)


# -- loading -------------------------------------------------------------------------------


def find(session: Session, ref: str | int, lock: bool = False) -> Ticket:
    """A ticket by number (T000123) or id; TicketError not_found otherwise."""
    ref = str(ref).strip()
    by_id = ref.isdigit() and len(ref) <= 9  # beyond that no id exists (nor fits an INTEGER)
    query = select(Ticket).where(Ticket.id == int(ref) if by_id else Ticket.number == ref.upper())
    ticket = session.scalar(query.with_for_update() if lock else query)
    if ticket is None:
        raise TicketError("not_found", f"no ticket {ref}")
    return ticket


def _event(session, ticket, kind, actor, at, body=None, **data) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id, kind=kind, actor=actor, body=body, data=data or None, created_at=at
    )
    session.add(event)
    ticket.updated_at = at
    session.flush()
    return event


def refuse_if_erased(session: Session, ticket: Ticket) -> None:
    """Nothing more is written to a member whose personal data was erased: a reply would
    put words, often their name, back into the records and onto a forgotten chat."""
    member = session.get(Member, ticket.member_id) if ticket.member_id else None
    if member is not None and member.erased_at is not None:
        raise TicketError(
            "erased",
            f"ticket {ticket.number} is of {member.member_no}, whose personal data was "
            "erased: nothing can be sent to them",
        )


def close_now(session: Session, ticket: Ticket, actor: str, at: datetime, why: str) -> None:
    """Inside the caller's unit of work, an open ticket closes for a reason said in its
    history: its member was erased (nobody is left to answer), or what it asked for was
    granted another way (a voucher extended on the command line)."""
    before, ticket.status = ticket.status, "closed"
    _event(session, ticket, "status", actor, at, body=why, before=before, to="closed")
    tickets.hand_back(session, ticket, actor, at)


def _language(session: Session, ticket: Ticket, config: Config) -> str:
    member = session.get(Member, ticket.member_id) if ticket.member_id else None
    return member.language if member else config.default_language


def pick_supervisor(session: Session) -> StaffUser | None:
    """The active supervisor (else admin) with the fewest open escalations."""
    load = (
        select(func.count(Ticket.id))
        .where(Ticket.escalated_to_id == StaffUser.id, Ticket.status.in_(OPEN_STATUSES))
        .scalar_subquery()
    )
    for role in ("supervisor", "admin"):
        found = session.scalar(
            select(StaffUser)
            .where(StaffUser.role == role, StaffUser.active.is_(True))
            .order_by(load, StaffUser.id)
            .limit(1)
        )
        if found is not None:
            return found
    return None


def escalate(
    session: Session, config: Config, ticket: Ticket, reason: str, actor: str, at: datetime
) -> StaffUser | None:
    """Hand the ticket to the least-loaded supervisor: it becomes theirs, so it is in their
    queue (and the member's "a supervisor will contact you" is true). With no supervisor
    nor admin it stays where it is."""
    supervisor = pick_supervisor(session)
    ticket.escalated_at = at
    ticket.escalated_to_id = supervisor.id if supervisor else None
    before = _username(session, ticket.assignee_id)
    if supervisor is not None:
        ticket.assignee_id = supervisor.id
        if ticket.status == "new":
            ticket.status = "assigned"
    _event(
        session,
        ticket,
        "escalated",
        actor,
        at,
        to=supervisor.username if supervisor else None,
        reason=reason,
        before=before,
    )
    return supervisor


# -- use cases -----------------------------------------------------------------------------


def assign(db: Database, ref: str, assignee: str | None, actor: Actor, at: datetime) -> Ticket:
    """Give the ticket to a staff member (None: back to the queue)."""
    with db.unit_of_work() as session:
        ticket = find(session, ref, lock=True)
        if ticket.status not in OPEN_STATUSES:
            raise TicketError("bad_move", f"ticket {ticket.number} is {ticket.status}")
        target = by_username(session, assignee) if assignee else None
        if assignee and (target is None or not target.active):
            raise TicketError("bad_input", f"no active staff member {assignee!r}")
        before = ticket.assignee_id
        ticket.assignee_id = target.id if target else None
        if target and ticket.status == "new":
            ticket.status = "assigned"
        elif target is None:
            ticket.status = unassigned_status(ticket.status)
        _event(
            session,
            ticket,
            "assigned",
            actor.username,
            at,
            to=target.username if target else None,
            before=_username(session, before),
            status=ticket.status,
        )
        session.commit()
        return ticket


def change_status(db: Database, ref: str, status: str, actor: Actor, at: datetime) -> Ticket:
    """Move an open ticket along; resolving goes through `resolve` (it messages the member)."""
    if status == "resolved":
        raise TicketError("bad_move", "use resolve: it hands back the chat and asks for a rating")
    with db.unit_of_work() as session:
        ticket = find(session, ref, lock=True)
        check_move(ticket.status, status)
        before, ticket.status = ticket.status, status
        _event(session, ticket, "status", actor.username, at, before=before, to=status)
        if status == "closed":
            tickets.hand_back(session, ticket, actor.username, at)
        session.commit()
        return ticket


def correct_category(
    db: Database, config: Config, ref: str, category: str, actor: Actor, at: datetime
) -> Ticket:
    if category not in config.complaints.categories:
        raise TicketError(
            "bad_input", f"category {category!r}: use one of {config.complaints.categories}"
        )
    with db.unit_of_work() as session:
        ticket = find(session, ref, lock=True)
        if ticket.category != category:
            before, ticket.category = ticket.category, category
            _event(session, ticket, "category", actor.username, at, before=before, to=category)
            session.commit()
        return ticket


def add_note(db: Database, ref: str, note: str, actor: Actor, at: datetime) -> TicketEvent:
    """An internal note: staff see it, the member never does."""
    if not note.strip():
        raise TicketError("bad_input", "the note is empty")
    with db.unit_of_work() as session:
        ticket = find(session, ref, lock=True)
        event = _event(session, ticket, "note", actor.username, at, body=note.strip())
        session.commit()
        return event


def reply(
    db: Database,
    config: Config,
    senders: Senders,
    ref: str,
    message: str,
    actor: Actor,
    at: datetime,
) -> Delivered:
    """Answer the member on their own channel; the first answer stops the response clock."""
    message = message.strip()
    if not message:
        raise TicketError("bad_input", "the reply is empty")
    with db.unit_of_work() as session:
        ticket = find(session, ref, lock=True)
        refuse_if_erased(session, ticket)
        if ticket.status not in OPEN_STATUSES:
            raise TicketError(
                "bad_move", f"ticket {ticket.number} is {ticket.status}: reopen it to reply"
            )
        if ticket.first_responded_at is None:
            ticket.first_responded_at = at
        if ticket.assignee_id is None:
            me = by_username(session, actor.username)
            ticket.assignee_id = me.id if me else None
        # A reply is a question or an answer for the member: the ticket waits for them
        # until they write back (handlers/conversation/ticket_talk.py) or staff move it on.
        if ticket.status != "waiting_member":
            before, ticket.status = ticket.status, "waiting_member"
            _event(session, ticket, "status", actor.username, at, before=before, to=ticket.status)
        ticket.member_wrote_at = None
        event = _event(session, ticket, "reply", actor.username, at, body=message)
        lang = _language(session, ticket, config)
        ticket_id, key = ticket.id, f"ticket:{ticket.id}:reply:{event.id}"
        session.commit()
    return deliver(db, senders, ticket_id, text("reply", lang, text=message), key, at)


def resolve(
    db: Database,
    config: Config,
    senders: Senders,
    ref: str,
    actor: Actor,
    at: datetime,
    note: str | None = None,
) -> Delivered:
    """Resolved: the bot takes the conversation back and the member is asked to rate 1-5."""
    with db.unit_of_work() as session:
        ticket = find(session, ref, lock=True)
        check_move(ticket.status, "resolved")
        before, ticket.status, ticket.resolved_at = ticket.status, "resolved", at
        event = _event(
            session,
            ticket,
            "resolved",
            actor.username,
            at,
            body=(note or "").strip() or None,
            before=before,
        )
        tickets.hand_back(session, ticket, actor.username, at)
        lang = _language(session, ticket, config)
        number, ticket_id, key = ticket.number, ticket.id, f"ticket:{ticket.id}:rate:{event.id}"
        session.commit()
    buttons = [
        (str(n), payloads.intent("rate_ticket", ticket_id=number, rating=str(n)))
        for n in range(1, 6)
    ]
    return deliver(
        db, senders, ticket_id, text("rate", lang, number=number), key, at, buttons=buttons
    )


def _reopen(
    session: Session, config: Config, ticket: Ticket, actor: str, at: datetime, reason: str
) -> None:
    if ticket.status in OPEN_STATUSES:
        raise TicketError("bad_move", f"ticket {ticket.number} is still open")
    refuse_if_erased(session, ticket)
    before = ticket.status
    ticket.status = "in_progress" if ticket.assignee_id else "new"
    ticket.resolved_at = None
    ticket.resolution_due = at + timedelta(hours=config.service_levels.resolution)
    ticket.resolution_breached_at = None
    _event(session, ticket, "reopened", actor, at, body=reason or None, before=before)


def reopen(
    db: Database, config: Config, ref: str, actor: Actor, at: datetime, reason: str = ""
) -> Ticket:
    with db.unit_of_work() as session:
        ticket = find(session, ref, lock=True)
        _reopen(session, config, ticket, actor.username, at, reason.strip())
        session.commit()
        return ticket


def member_reopens(session: Session, config: Config, ref: str, at: datetime) -> bool:
    """The member says a resolved ticket's trouble goes on (`还是没解决`): it is open
    again, in the caller's transaction. False when it was rated or reopened meanwhile."""
    ticket = find(session, ref, lock=True)
    if ticket.status != "resolved":
        return False
    _reopen(session, config, ticket, "member", at, "")
    return True


def record_rating(
    session: Session,
    config: Config,
    ref: str,
    rating: int,
    at: datetime,
    actor: str = "member",
    comment: str | None = None,
) -> Rated:
    """The member's rating in the caller's transaction: 3 to 5 closes the ticket; 1 or 2
    reopens it, escalates it to a supervisor and alerts the staff group."""
    if not 1 <= rating <= 5:
        raise TicketError("bad_input", f"a rating is 1 to 5, not {rating}")
    ticket = find(session, ref, lock=True)
    if ticket.status != "resolved":
        return Rated(ticket.number, ticket.rating or rating, reopened=False, already=True)
    ticket.rating = rating
    _event(session, ticket, "rated", actor, at, body=comment, rating=rating)
    if rating > LOW_RATING:
        ticket.status = "closed"
        _event(session, ticket, "status", "system", at, before="resolved", to="closed")
        return Rated(ticket.number, rating, reopened=False)
    _reopen(session, config, ticket, "system", at, f"rated {rating}")
    # What the member says next (`the new cup never arrived`) is for this ticket, not a
    # second complaint: it counts as having written on it.
    ticket.member_wrote_at = at
    supervisor = escalate(session, config, ticket, "low_rating", "system", at)
    staff_notices.queue(
        session,
        config,
        f"low_rating:{ticket.id}:{rating}:{at.isoformat()}",
        "low_rating",
        ticket,
        at,
        rating=rating,
        supervisor=supervisor.display_name if supervisor else "-",
    )
    return Rated(ticket.number, rating, reopened=True, escalated=supervisor is not None)


def rate(db: Database, config: Config, ref: str, rating: int, at: datetime) -> Rated:
    with db.unit_of_work() as session:
        rated = record_rating(session, config, ref, rating, at)
        session.commit()
        return rated


def on_rating_button(ctx) -> None:
    """Chat handler for the rating buttons (payload i:rate_ticket:ticket_id=..:rating=..):
    route the intent "rate_ticket" here."""
    number, rating = ctx.entity("ticket_id") or "", ctx.entity("rating") or ""
    ctx.handler = "rate_ticket"
    try:
        ticket = find(ctx.session, number)
        mine = ticket.identity_id == ctx.identity.id or (
            ctx.member is not None and ticket.member_id == ctx.member.id
        )
        if not mine or not rating.isdigit():
            raise TicketError("not_found", number)
        rated = record_rating(ctx.session, ctx.config, number, int(rating), ctx.now)
    except TicketError:
        ctx.outcome = "stale"
        ctx.say_text(text("rated_already", ctx.lang, number=number))
        return
    ctx.outcome = "rated"
    kind = "rated_already" if rated.already else rated.reopened_text if rated.reopened else "rated"
    ctx.say_text(text(kind, ctx.lang, number=rated.number))


def _username(session: Session, staff_id: int | None) -> str | None:
    user = session.get(StaffUser, staff_id) if staff_id else None
    return user.username if user else None
