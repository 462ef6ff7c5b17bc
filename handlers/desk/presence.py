"""Who else has a ticket open, so that two agents do not answer the same member at once.

Each open ticket page is one row (`TicketViewer`, its own token): the page's event stream
marks it seen every few seconds and removes it when the page goes. A row not seen for
`FRESH` belongs to a page that went without saying so (a killed worker, a cut network)
and counts no more. The rows live in the database, so agents served by different
`serve` workers see each other."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import StaffUser, Ticket, TicketViewer

FRESH = timedelta(seconds=20)  # several times the stream's refresh interval


def ticket_id(database: Database, number: str) -> int | None:
    with database.unit_of_work(write=False) as session:
        return session.scalar(select(Ticket.id).where(Ticket.number == number))


def seen(database: Database, token: str, ticket: int, staff_id: int, at: datetime) -> None:
    """The page `token` is still open; rows gone stale on this ticket are swept out."""
    with database.unit_of_work() as session:
        session.execute(
            delete(TicketViewer).where(
                TicketViewer.ticket_id == ticket, TicketViewer.seen_at < at - FRESH
            )
        )
        moved = session.execute(
            update(TicketViewer).where(TicketViewer.token == token).values(seen_at=at)
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            session.add(TicketViewer(token=token, ticket_id=ticket, staff_id=staff_id, seen_at=at))
        session.commit()


def left(database: Database, token: str) -> None:
    with database.unit_of_work() as session:
        session.execute(delete(TicketViewer).where(TicketViewer.token == token))
        session.commit()


def others(session: Session, ticket: int, staff_id: int, at: datetime) -> list[str]:
    """The names of the other staff with this ticket open now, alphabetical."""
    names = session.scalars(
        select(StaffUser.display_name)
        .join(TicketViewer, TicketViewer.staff_id == StaffUser.id)
        .where(
            TicketViewer.ticket_id == ticket,
            TicketViewer.staff_id != staff_id,
            TicketViewer.seen_at >= at - FRESH,
        )
        .distinct()
    )
    return sorted(names)


def watching(database: Database, ticket: int, staff_id: int, at: datetime) -> list[str]:
    with database.unit_of_work(write=False) as session:
        return others(session, ticket, staff_id, at)
