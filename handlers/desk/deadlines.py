"""The deadline job: tell the staff group of new urgent tickets, escalate tickets near a
deadline to a supervisor, flag missed deadlines. Each mark is set once on the ticket, so a
rerun (or a second scheduler) alerts nobody twice. The scheduler calls `check`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.config import Config
from core.ticket_rules import OPEN_STATUSES
from handlers.desk import staff_notices
from handlers.desk.staff_notices import StaffNotifier
from handlers.desk.ticket_lifecycle import escalate
from storage.db import Database
from storage.models import Ticket, TicketEvent

BATCH = 500


@dataclass(frozen=True)
class Checked:
    urgent: int = 0
    escalated: int = 0
    breached: int = 0
    alerts_sent: int = 0


# -- rules, free of I/O --------------------------------------------------------------------


def state(ticket: Ticket, at: datetime, warn: timedelta) -> str:
    """ "late", "near" or "ok": how the ticket stands against its next deadline."""
    if ticket.status not in OPEN_STATUSES:
        return "ok"
    due = [ticket.resolution_due]
    if ticket.first_responded_at is None:
        due.append(ticket.first_response_due)
    soonest = min(due)
    if soonest <= at:
        return "late"
    return "near" if soonest - at <= warn else "ok"


# -- the job -------------------------------------------------------------------------------


def _open():
    return Ticket.status.in_(OPEN_STATUSES)


def _unanswered_by(moment: datetime):
    return and_(Ticket.first_responded_at.is_(None), Ticket.first_response_due <= moment)


def _batch(session: Session, *where) -> list[Ticket]:
    query = select(Ticket).where(_open(), *where).order_by(Ticket.id).limit(BATCH)
    return list(session.scalars(query.with_for_update(skip_locked=True)))


def check(
    db: Database, config: Config, at: datetime, notifier: StaffNotifier | None = None
) -> Checked:
    warn = timedelta(minutes=config.service_levels.warn_before_minutes)
    urgent = escalated = breached = 0
    with db.unit_of_work() as session:
        for ticket in _batch(session, Ticket.urgent.is_(True), Ticket.alerted_at.is_(None)):
            ticket.alerted_at = at
            staff_notices.queue(session, config, f"urgent:{ticket.id}", "urgent", ticket, at)
            urgent += 1
        near = or_(_unanswered_by(at + warn), Ticket.resolution_due <= at + warn)
        for ticket in _batch(session, Ticket.escalated_at.is_(None), near):
            which, due = _soonest(ticket)
            # A check coming after the deadline (the scheduler was down) escalates all the
            # same, and says the deadline was missed rather than near.
            reason = f"near_{which}" if due > at else f"missed_{which}"
            supervisor = escalate(session, config, ticket, reason, "system", at)
            if due > at:
                staff_notices.queue(
                    session,
                    config,
                    f"near:{ticket.id}",
                    "near_deadline",
                    ticket,
                    at,
                    deadline=which,
                    due=due,
                    supervisor=supervisor.display_name if supervisor else "-",
                )
            escalated += 1
        for ticket in _batch(session, Ticket.response_breached_at.is_(None), _unanswered_by(at)):
            ticket.response_breached_at = at
            _breach(session, config, ticket, "first_response", ticket.first_response_due, at)
            breached += 1
        for ticket in _batch(
            session, Ticket.resolution_breached_at.is_(None), Ticket.resolution_due <= at
        ):
            ticket.resolution_breached_at = at
            _breach(session, config, ticket, "resolution", ticket.resolution_due, at)
            breached += 1
        session.commit()
    sent = notifier.flush(db, at) if notifier is not None else 0
    return Checked(urgent, escalated, breached, sent)


def _soonest(ticket: Ticket) -> tuple[str, datetime]:
    if ticket.first_responded_at is None and ticket.first_response_due <= ticket.resolution_due:
        return "first_response", ticket.first_response_due
    return "resolution", ticket.resolution_due


def _breach(session, config, ticket: Ticket, which: str, due: datetime, at: datetime) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind="deadline_missed",
            actor="system",
            data={"deadline": which, "due": due.isoformat()},
            created_at=at,
        )
    )
    staff_notices.queue(
        session,
        config,
        f"breach:{which}:{ticket.id}:{due.isoformat()}",
        "breach",
        ticket,
        at,
        deadline=which,
        due=due,
    )
