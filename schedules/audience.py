"""Who a job may write to, and what day it is for them: members grouped by time zone, so
each zone's "today" becomes plain date comparisons the database can do in bulk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, false, or_, select
from sqlalchemy.orm import Session

from core.config import Config
from core.send_window import member_zone, reminder_time
from storage.models import ChatIdentity, Member

# Who a message is for: the columns every job reads first about each member it writes to.
ADDRESSEE = (Member.id, Member.member_no, Member.name, Member.language)


@dataclass(frozen=True)
class ZoneGroup:
    zone: ZoneInfo
    members: ColumnElement[bool]  # matches the members living in this zone

    def today(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone)

    def send_time(self, day: date, at: datetime, config: Config) -> datetime:
        return reminder_time(day, self.zone, at, config)


def zone_groups(session: Session, config: Config) -> Iterator[ZoneGroup]:
    """One group per effective zone; members without a (valid) zone use the programme's."""
    stored = session.scalars(select(Member.timezone).distinct()).all()
    by_zone: dict[str, list[str]] = {}
    for value in stored:
        if value is not None:
            by_zone.setdefault(str(member_zone(value, config)), []).append(value)
    default = str(config.zone)
    yield ZoneGroup(
        config.zone, or_(Member.timezone.is_(None), Member.timezone.in_(by_zone.pop(default, [])))
    )
    for name, values in by_zone.items():
        yield ZoneGroup(ZoneInfo(name), Member.timezone.in_(values) if values else false())


def reachable() -> ColumnElement[bool]:
    """The member has at least one chat identity we can still write to."""
    return exists().where(ChatIdentity.member_id == Member.id, ChatIdentity.reachable.is_(True))


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
