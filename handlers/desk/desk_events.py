"""What changed on the desk since a cursor: new tickets, member messages on an open ticket,
assignments. The workbench's event stream (/staff/events) polls this, so every process
(web workers, channels, the scheduler) is seen through the one database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.ticket_rules import OPEN_STATUSES
from storage.models import MessageLog, Ticket, TicketEvent

ASSIGNING = ("assigned", "escalated")  # an escalation hands the ticket to a supervisor


@dataclass(frozen=True)
class Cursor:
    ticket: int = 0
    message: int = 0
    event: int = 0


@dataclass(frozen=True)
class Change:
    kind: str  # ticket (new), message (from the member), assigned
    number: str


def now_cursor(session: Session) -> Cursor:
    """Where the desk stands: only what happens after this is news."""
    return Cursor(
        ticket=session.scalar(select(func.max(Ticket.id))) or 0,
        message=session.scalar(select(func.max(MessageLog.id))) or 0,
        event=session.scalar(select(func.max(TicketEvent.id))) or 0,
    )


def changes(session: Session, cursor: Cursor) -> tuple[list[Change], Cursor]:
    """The news since `cursor`, oldest first, and the cursor after it."""
    found: list[Change] = []
    new = session.execute(
        select(Ticket.id, Ticket.number).where(Ticket.id > cursor.ticket).order_by(Ticket.id)
    ).all()
    found += [Change("ticket", number) for _, number in new]
    said = session.execute(
        select(MessageLog.id, MessageLog.identity_id)
        .where(
            MessageLog.id > cursor.message,
            MessageLog.direction == "in",
            MessageLog.identity_id.is_not(None),
        )
        .order_by(MessageLog.id)
    ).all()
    for identity in dict.fromkeys(identity for _, identity in said):
        number = session.scalar(
            select(Ticket.number)
            .where(Ticket.identity_id == identity, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        if number is not None:
            found.append(Change("message", number))
    moved = session.execute(
        select(TicketEvent.id, Ticket.number)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.id > cursor.event, TicketEvent.kind.in_(ASSIGNING))
        .order_by(TicketEvent.id)
    ).all()
    found += [Change("assigned", number) for _, number in moved]
    after = Cursor(
        ticket=max([cursor.ticket, *(i for i, _ in new)]),
        message=max([cursor.message, *(i for i, _ in said)]),
        event=max([cursor.event, *(i for i, _ in moved)]),
    )
    return found, after
