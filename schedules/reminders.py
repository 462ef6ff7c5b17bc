"""Daily reminders keyed to a member's dates, on the member's local day: birthday (with the
gift), membership expiry, the new-member follow-up and the dormant wake-up offer.

Each job may run any number of times a day: the dedupe key holds the period, so only the
first run of the day queues anything. A job queues only for members with a reachable chat
identity (the birthday gift is given to everyone)."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Row, Select, extract, select

from core.catalogue import language, text
from core.config import Config
from core.membership import renewal_promise
from schedules.audience import ADDRESSEE, ZoneGroup, chunks, reachable, zone_groups
from schedules.outbox import MARKETING, Message, marketing_text, queue, queue_in_batches
from storage.db import Database
from storage.ledger import Ledger
from storage.models import Member, PointsAccount

GIFT_BATCH = 500


def born_on(day: date) -> ColumnElement[bool]:
    """Birthdays celebrated on `day`: 29 February is celebrated on 28 February in other years."""
    month, dom = extract("month", Member.birthday), extract("day", Member.birthday)
    same = (month == day.month) & (dom == day.day)
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        return same | ((month == 2) & (dom == 29))
    return same


def _per_zone(
    database: Database, config: Config, at: datetime, query: Callable[[ZoneGroup, date], Select]
) -> list[tuple[ZoneGroup, date, Row]]:
    """Run `query(group, today)` for each time-zone group; rows come with group and day."""
    found = []
    with database.unit_of_work(write=False) as session:
        for group in zone_groups(session, config):
            today = group.today(at)
            found += [(group, today, row) for row in session.execute(query(group, today))]
    return found


def _brand(config: Config, lang: str) -> str:
    return config.brand["name"].get(language(lang))


def birthdays(database: Database, config: Config, at: datetime) -> int:
    """The birthday gift through the ledger (once a year) and the greeting that announces it."""
    gift = config.points.birthday_gift
    found = _per_zone(
        database,
        config,
        at,
        lambda g, today: select(*ADDRESSEE, reachable().label("reachable")).where(
            g.members, born_on(today)
        ),
    )
    queued = 0
    for batch in chunks(found, GIFT_BATCH):
        with database.unit_of_work() as session:
            ledger = Ledger(session, config, clock=lambda: at)
            # Zones may be in different years on 1 January: one bulk grant per year.
            for year in {today.year for _, today, _ in batch} if gift else ():
                ledger.earn_bonuses(
                    "birthday",
                    {m.id: f"birthday:{m.id}:{year}" for _, day, m in batch if day.year == year},
                    gift,
                    reason=f"birthday gift {year}",
                    actor="scheduler",
                    at=at,
                )
            messages = []
            for group, today, m in batch:
                if m.reachable:
                    key = "reminder.birthday_gift" if gift else "reminder.birthday"
                    body = text(
                        m.language, key, name=m.name, points=gift, brand=_brand(config, m.language)
                    )
                    messages.append(
                        Message(
                            f"birthday:{m.member_no}:{today.year}",
                            m.id,
                            "birthday",
                            body,
                            group.send_time(today, at, config),
                            payload={"gift": gift, "year": today.year},
                        )
                    )
            queued += queue(session, messages, at)
            session.commit()
    return queued


def membership_expiry(database: Database, config: Config, at: datetime) -> int:
    """Reminders the configured numbers of days before the membership expires."""
    offsets = config.reminders.membership_expiry_days

    def query(group: ZoneGroup, today: date) -> Select:
        days = [today + timedelta(days=d) for d in offsets]
        return select(*ADDRESSEE, Member.membership_expires).where(
            group.members, reachable(), Member.membership_expires.in_(days)
        )

    found = _per_zone(database, config, at, query)
    messages = []
    for group, today, m in found:
        days = (m.membership_expires - today).days
        body = text(
            m.language,
            "reminder.membership_expiry",
            name=m.name,
            date=m.membership_expires.isoformat(),
            days=days,
            hint=renewal_promise(config, m.language),
        )
        messages.append(
            Message(
                f"membership_expiry:{m.member_no}:{m.membership_expires}:{days}d",
                m.id,
                "membership_expiry",
                body,
                group.send_time(today, at, config),
            )
        )
    return queue_in_batches(database, messages, at)


def new_member_followup(database: Database, config: Config, at: datetime) -> int:
    """A follow-up on the configured day after joining."""
    after = config.reminders.new_member_followup_days
    found = _per_zone(
        database,
        config,
        at,
        lambda g, today: select(*ADDRESSEE).where(
            g.members, reachable(), Member.join_date == today - timedelta(days=after)
        ),
    )
    messages = [
        Message(
            f"followup:{m.member_no}",
            m.id,
            "followup",
            text(m.language, "reminder.followup", name=m.name, brand=_brand(config, m.language)),
            group.send_time(today, at, config),
        )
        for group, today, m in found
    ]
    return queue_in_batches(database, messages, at)


def dormant(database: Database, config: Config, at: datetime) -> int:
    """One wake-up offer per dormancy: on the day a consenting member reaches the configured
    number of days without a purchase (counted from joining when they never bought)."""
    idle = config.reminders.dormant_days

    def query(group: ZoneGroup, today: date) -> Select:
        since = today - timedelta(days=idle)
        bought_then = (Member.last_purchase_at >= group.midnight(since)) & (
            Member.last_purchase_at < group.midnight(since + timedelta(days=1))
        )
        joined_then = Member.last_purchase_at.is_(None) & (Member.join_date == since)
        return (
            select(*ADDRESSEE, PointsAccount.balance)
            .join(PointsAccount, PointsAccount.member_id == Member.id)
            .where(
                group.members,
                Member.marketing_consent.is_(True),
                reachable(),
                bought_then | joined_then,
            )
        )

    found = _per_zone(database, config, at, query)
    messages = [
        Message(
            f"dormant:{m.member_no}:{today - timedelta(days=idle)}",
            m.id,
            "dormant",
            marketing_text(
                text(m.language, "reminder.dormant", name=m.name, points=m.balance), m.language
            ),
            group.send_time(today, at, config),
            category=MARKETING,
        )
        for group, today, m in found
    ]
    return queue_in_batches(database, messages, at)
