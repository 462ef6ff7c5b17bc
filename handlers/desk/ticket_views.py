"""The desk's read side: the queue with its filters, and a ticket as a row or its history
(the ticket page's whole picture is handlers/desk/ticket_detail.py). Display only; changes
go through handlers/. Shared by the workbench, the API and the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from core.config import Config
from core.ticket_rules import OPEN_STATUSES, PRIORITIES
from handlers.desk.ticket_lifecycle import STATUSES, next_deadline
from storage.models import (
    Member,
    StaffUser,
    Ticket,
    TicketEvent,
)

PER_PAGE = 50
TICKET_NUMBER = re.compile(r"^[Tt][0-9]{6,}$")


@dataclass(frozen=True)
class QueueFilter:
    status: str = "open"  # open, all, or one status
    priority: str | None = None
    category: str | None = None
    assignee: str | None = None  # "me", "none" or a username
    urgent: bool = False
    late: bool = False
    search: str | None = None
    member_no: str | None = None
    page: int = 1
    per_page: int = PER_PAGE


class TicketSummary(BaseModel):
    """A ticket as a listing shows it outside the workbench: the REST API's shape and
    `tickets list --json`'s."""

    model_config = ConfigDict(frozen=True)

    id: int
    number: str
    kind: str
    category: str
    priority: str
    urgent: bool
    status: str
    description: str
    order_id: str | None = Field(default=None, description="The order the member named")
    member_no: str | None
    member_name: str | None
    tier: str | None
    assignee: str | None
    created_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    first_responded_at: datetime | None
    resolved_at: datetime | None
    rating: int | None
    next_deadline: str | None = Field(description="first_response or resolution, while open")
    next_deadline_at: datetime | None
    late: bool


class Row(TicketSummary):
    """A ticket in the workbench's queue: the summary, and whether its deadline is near."""

    near: bool
    member_wrote: bool = False  # the member wrote since the last staff reply

    def summary(self) -> TicketSummary:
        return TicketSummary.model_validate(self.model_dump(exclude={"near", "member_wrote"}))


class HistoryEvent(BaseModel):
    kind: str
    actor: str
    body: str | None
    data: dict | None
    at: datetime


class TicketHistory(TicketSummary):
    """One ticket for the REST API and `tickets show --json`: internal notes left out."""

    events: list[HistoryEvent] = Field(description="The ticket's history, internal notes left out")


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# -- the queue -----------------------------------------------------------------------------

_rank = case({p: n for n, p in enumerate(PRIORITIES)}, value=Ticket.priority, else_=len(PRIORITIES))
_due = case(
    (Ticket.first_responded_at.is_(None), Ticket.first_response_due),
    else_=Ticket.resolution_due,
)


def _late(at: datetime):
    return or_(
        Ticket.resolution_due <= at,
        Ticket.first_responded_at.is_(None) & (Ticket.first_response_due <= at),
    )


def _where(
    f: QueueFilter, at: datetime, me: int | None, session: Session
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.status == "open":
        where.append(Ticket.status.in_(OPEN_STATUSES))
    elif f.status in STATUSES:
        where.append(Ticket.status == f.status)
    if f.priority in PRIORITIES:
        where.append(Ticket.priority == f.priority)
    if f.category:
        where.append(Ticket.category == f.category)
    if f.assignee == "me":
        where.append(Ticket.assignee_id == me)
    elif f.assignee == "none":
        where.append(Ticket.assignee_id.is_(None))
    elif f.assignee:
        user = session.scalar(select(StaffUser.id).where(StaffUser.username == f.assignee))
        where.append(Ticket.assignee_id == user)
    if f.urgent:
        where.append(Ticket.urgent.is_(True))
    if f.late:
        where.append(Ticket.status.in_(OPEN_STATUSES))
        where.append(_late(at))
    if f.member_no:
        member = select(Member.id).where(Member.member_no == f.member_no.upper())
        where.append(Ticket.member_id.in_(member))
    if f.search and f.search.strip():
        term = f.search.strip()
        if TICKET_NUMBER.match(term):
            where.append(Ticket.number == term.upper())
        else:
            members = select(Member.id).where(
                or_(Member.member_no == term.upper(), Member.phone == term, Member.name == term)
            )
            pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            said = select(TicketEvent.ticket_id).where(
                TicketEvent.kind.in_(("reply", "note")),
                TicketEvent.body.ilike(pattern, escape="\\"),
            )
            where.append(
                or_(
                    Ticket.member_id.in_(members),
                    Ticket.description.ilike(pattern, escape="\\"),
                    Ticket.id.in_(said),
                )
            )
    return where


def queue(
    session: Session,
    f: QueueFilter,
    at: datetime,
    me: int | None,
    config: Config,
    offset: int | None = None,
) -> Page:
    """Open work in the order to do it: urgent first, then priority (VIP high), then the
    soonest deadline. Resolved, closed or all tickets: newest first, for looking back."""
    warn = timedelta(minutes=config.service_levels.warn_before_minutes)
    where = _where(f, at, me, session)
    order: tuple[ColumnElement[Any], ...]
    if f.status == "open" or f.status in OPEN_STATUSES or f.late:
        order = (Ticket.urgent.desc(), _rank, _due, Ticket.id.asc())
    else:
        order = (Ticket.created_at.desc(), Ticket.id.desc())
    total = session.execute(select(func.count()).select_from(Ticket).where(*where)).scalar_one()
    page = max(1, f.page)
    # Order and cut the page on the tickets alone, then fetch the names for those rows.
    ids = list(
        session.scalars(
            select(Ticket.id)
            .where(*where)
            .order_by(*order)
            .limit(f.per_page)
            .offset((page - 1) * f.per_page if offset is None else offset)
        )
    )
    assignee = aliased(StaffUser)
    found = {
        r[0].id: r
        for r in session.execute(
            select(Ticket, Member.member_no, Member.name, Member.tier, assignee.display_name)
            .outerjoin(Member, Member.id == Ticket.member_id)
            .outerjoin(assignee, assignee.id == Ticket.assignee_id)
            .where(Ticket.id.in_(ids))
        )
    }
    rows = [_row(*found[i], at=at, warn=warn) for i in ids]
    return Page(rows, total, page, f.per_page)


def listing(
    session: Session,
    config: Config,
    at: datetime,
    *,
    status: str = "open",
    priority: str | None = None,
    urgent: bool = False,
    late: bool = False,
    assignee: str | None = None,
    member_no: str | None = None,
    limit: int = PER_PAGE,
    offset: int = 0,
) -> Page:
    """The queue as the REST API and `tickets list` give it: the workbench's filters
    without its search, a limit and an offset instead of pages."""
    wanted = QueueFilter(
        status=status,
        priority=priority,
        urgent=urgent,
        late=late,
        assignee=assignee,
        member_no=member_no,
        per_page=limit,
    )
    return queue(session, wanted, at, None, config, offset=offset)


def _row(ticket: Ticket, member_no, name, tier, assignee, at: datetime, warn) -> Row:
    due = next_deadline(ticket)
    return Row(
        id=ticket.id,
        number=ticket.number,
        kind=ticket.kind,
        category=ticket.category,
        priority=ticket.priority,
        urgent=ticket.urgent,
        status=ticket.status,
        description=ticket.description,
        order_id=ticket.order_id,
        member_no=member_no,
        member_name=name,
        tier=tier,
        assignee=assignee,
        created_at=ticket.created_at,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        first_responded_at=ticket.first_responded_at,
        resolved_at=ticket.resolved_at,
        rating=ticket.rating,
        next_deadline=due[0] if due else None,
        next_deadline_at=due[1] if due else None,
        late=bool(due and due[1] <= at),
        near=bool(due and at < due[1] <= at + warn),
        member_wrote=ticket.member_wrote_at is not None,
    )


def ticket_row(session: Session, ticket: Ticket, at: datetime, config: Config) -> Row:
    member = session.get(Member, ticket.member_id) if ticket.member_id else None
    assignee = session.get(StaffUser, ticket.assignee_id) if ticket.assignee_id else None
    warn = timedelta(minutes=config.service_levels.warn_before_minutes)
    return _row(
        ticket,
        member.member_no if member else None,
        member.name if member else None,
        member.tier if member else None,
        assignee.display_name if assignee else None,
        at=at,
        warn=warn,
    )


def history(session: Session, ticket: Ticket, at: datetime, config: Config) -> TicketHistory:
    events = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.not_in(("note", "transcript")))
        .order_by(TicketEvent.created_at, TicketEvent.id)
    )
    return TicketHistory(
        **ticket_row(session, ticket, at, config).summary().model_dump(),
        events=[
            HistoryEvent(kind=e.kind, actor=e.actor, body=e.body, data=e.data, at=e.created_at)
            for e in events
        ],
    )
