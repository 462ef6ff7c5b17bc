"""Upkeep the scheduler does besides messages: expiring due points lots through the ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core.config import Config
from schedules.audience import chunks
from storage.db import Database
from storage.ledger import Ledger
from storage.models import PointsLot


def expire_due_lots(database: Database, config: Config, at: datetime, batch: int = 500) -> int:
    """Expire every due lot, one transaction per batch of members; returns lots expired.
    The ledger makes each expiry once per lot, so a rerun after a crash finishes the rest."""
    with database.unit_of_work(write=False) as session:
        members = session.scalars(
            select(PointsLot.member_id)
            .where(PointsLot.remaining > 0, PointsLot.expires_at <= at)
            .distinct()
            .order_by(PointsLot.member_id)
        ).all()
    expired = 0
    for ids in chunks(list(members), batch):
        with database.unit_of_work() as session:
            ledger = Ledger(session, config, clock=lambda: at)
            expired += sum(ledger.expire_lots(member_id, at) for member_id in ids)
            session.commit()
    return expired
