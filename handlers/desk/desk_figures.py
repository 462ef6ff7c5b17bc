"""What the desk measures (read only): open tickets, first response and resolution times,
satisfaction, and from the message log the self-service, hand-off and fallback rates.

A conversation is one chat's inbound messages on one local day; it needed a person when
it was handed off, went to staff, or opened a ticket. Self-service is the rest."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.ticket_rules import OPEN_STATUSES
from storage.models import MessageLog, Ticket

NEEDED_A_PERSON = {"handoff", "to_staff"}


@dataclass(frozen=True)
class Day:
    day: date
    opened: int
    resolved: int
    first_response_hours: float | None


@dataclass(frozen=True)
class Figures:
    since: datetime
    until: datetime
    open_by_status: dict[str, int]
    open_urgent: int
    open_late: int
    opened: int
    resolved: int
    first_response_hours: float | None  # median
    first_response_within_sla: float | None
    resolution_hours: float | None  # median
    rating_count: int
    rating_average: float | None
    ratings: dict[int, int]
    conversations: int
    self_service_rate: float | None
    handoff_rate: float | None
    fallback_rate: float | None
    days: list[Day] = field(default_factory=list)

    @property
    def open_total(self) -> int:
        return sum(self.open_by_status.values())


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(session: Session, at: datetime, days: int, zone: ZoneInfo) -> Figures:
    since = at - timedelta(days=days)
    open_by_status = dict(
        session.execute(
            select(Ticket.status, func.count())
            .where(Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.status)
        ).all()
    )
    open_urgent = session.execute(
        select(func.count()).where(Ticket.status.in_(OPEN_STATUSES), Ticket.urgent.is_(True))
    ).scalar_one()
    open_late = session.execute(
        select(func.count()).where(
            Ticket.status.in_(OPEN_STATUSES),
            (Ticket.resolution_due <= at)
            | (Ticket.first_responded_at.is_(None) & (Ticket.first_response_due <= at)),
        )
    ).scalar_one()
    created = session.execute(
        select(
            Ticket.created_at,
            Ticket.first_responded_at,
            Ticket.first_response_due,
            Ticket.identity_id,
        ).where(Ticket.created_at > since, Ticket.created_at <= at)
    ).all()
    resolved = session.execute(
        select(Ticket.created_at, Ticket.resolved_at).where(
            Ticket.resolved_at > since, Ticket.resolved_at <= at
        )
    ).all()
    ratings: Counter[int] = Counter(
        {
            rating: count
            for rating, count in session.execute(
                select(Ticket.rating, func.count())
                .where(Ticket.rating.is_not(None), Ticket.updated_at > since)
                .group_by(Ticket.rating)
            ).all()
            if rating is not None
        }
    )
    answered = [(c, r, d) for c, r, d, _ in created if r is not None]
    response_hours = [_hours(c, r) for c, r, _ in answered]
    rated = sum(ratings.values())
    conversations, person, inbound, fallbacks = _conversations(session, since, at, zone, created)
    return Figures(
        since=since,
        until=at,
        open_by_status={s: open_by_status.get(s, 0) for s in OPEN_STATUSES},
        open_urgent=open_urgent,
        open_late=open_late,
        opened=len(created),
        resolved=len(resolved),
        first_response_hours=_median(response_hours),
        first_response_within_sla=_share(sum(1 for _, r, d in answered if r <= d), len(answered)),
        resolution_hours=_median([_hours(c, r) for c, r in resolved if r is not None]),
        rating_count=rated,
        rating_average=round(sum(k * v for k, v in ratings.items()) / rated, 2) if rated else None,
        ratings={n: ratings.get(n, 0) for n in range(1, 6)},
        conversations=conversations,
        self_service_rate=_share(conversations - person, conversations),
        handoff_rate=_share(person, conversations),
        fallback_rate=_share(fallbacks, inbound),
        days=_days(since, at, zone, created, resolved),
    )


def _conversations(session, since, at, zone, created) -> tuple[int, int, int, int]:
    """(conversations, those that needed a person, inbound messages, fallbacks)."""
    seen: dict[tuple, bool] = {}
    inbound = fallbacks = 0
    rows = session.execute(
        select(MessageLog.identity_id, MessageLog.created_at, MessageLog.outcome)
        .where(
            MessageLog.direction == "in",
            MessageLog.created_at > since,
            MessageLog.created_at <= at,
        )
        .execution_options(yield_per=5000)
    )
    for identity_id, when, outcome in rows:
        key = (identity_id, when.astimezone(zone).date())
        seen[key] = seen.get(key, False) or outcome in NEEDED_A_PERSON
        inbound += 1
        fallbacks += outcome == "fallback"
    for when, _, _, identity_id in created:
        key = (identity_id, when.astimezone(zone).date())
        if key in seen:
            seen[key] = True
    return len(seen), sum(seen.values()), inbound, fallbacks


def _days(since, at, zone, created, resolved) -> list[Day]:
    first, last = since.astimezone(zone).date(), at.astimezone(zone).date()
    span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    opened = Counter(c.astimezone(zone).date() for c, *_ in created)
    closed = Counter(r.astimezone(zone).date() for _, r in resolved)
    response: dict[date, list[float]] = {}
    for c, r, _, _ in created:
        if r is not None:
            response.setdefault(c.astimezone(zone).date(), []).append(_hours(c, r))
    return [Day(d, opened[d], closed[d], _median(response.get(d, []))) for d in span]
