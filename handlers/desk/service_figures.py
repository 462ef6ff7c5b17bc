"""What the service's monitoring reads from the database at each scrape of /metrics: the
outbox's backlog, tickets by status, ledger entries by kind (append-only, so a count is a
counter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.desk.ticket_lifecycle import STATUSES
from storage.models import LedgerEntry, OutboundMessage, Ticket

WAITING = ("queued", "deferred", "sending")


@dataclass(frozen=True)
class Backlog:
    status: str
    count: int
    oldest_seconds: float  # age of the oldest message in this status, 0 when none


def outbox_backlog(session: Session, at: datetime) -> list[Backlog]:
    rows = session.execute(
        select(OutboundMessage.status, func.count(), func.min(OutboundMessage.created_at))
        .where(OutboundMessage.status.in_(WAITING))
        .group_by(OutboundMessage.status)
    ).all()
    found = {status: (count, oldest) for status, count, oldest in rows}
    backlog = []
    for status in WAITING:
        count, oldest = found.get(status, (0, None))
        age = max(0.0, (at - oldest).total_seconds()) if oldest is not None else 0.0
        backlog.append(Backlog(status, count, age))
    return backlog


def tickets_by_status(session: Session) -> dict[str, int]:
    """Every status, none at 0: a series that only appears with its first ticket cannot
    be alerted on."""
    rows = session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all()
    return dict.fromkeys(STATUSES, 0) | {status: count for status, count in rows}


def ledger_entries_by_kind(session: Session) -> dict[str, int]:
    rows = session.execute(select(LedgerEntry.kind, func.count()).group_by(LedgerEntry.kind)).all()
    return {kind: count for kind, count in rows}
