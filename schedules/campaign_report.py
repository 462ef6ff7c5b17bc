"""How a campaign went: delivered, failed, blocked, opted out, still pending; and what the
members who got it did afterwards: redeemed the campaign's benefits (any benefit when it
names none), bought again. Over time too: per day (programme time zone) from the first
delivery to today, the messages delivered, the recipients' redemptions and their purchases
(count and amount), each counted from the moment the message reached that member."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from sqlalchemy import case, distinct, func, select, true

from schedules.campaigns import find, status
from storage.db import Database
from storage.models import Benefit, LedgerEntry, OutboundMessage, Redemption

OUTCOMES = ("delivered", "failed", "blocked", "opted out", "missed", "pending")
MAX_DAYS = 90  # a report over a longer time shows the first 90 days


@dataclass(frozen=True)
class Day:
    day: date
    delivered: int = 0
    redeemed: int = 0  # redemptions by recipients after their message
    purchases: int = 0  # purchases by recipients after their message
    amount: Decimal = Decimal(0)  # what those purchases came to, in yuan

    def as_json(self) -> dict:
        return asdict(self) | {"day": self.day.isoformat(), "amount": float(self.amount)}


@dataclass(frozen=True)
class Report:
    name: str
    status: str
    scheduled_at: str
    segment: dict
    counts: dict[str, int]  # by OUTCOMES
    redeemed: int  # recipients who redeemed a benefit after the message reached them
    returned: int  # recipients who made a purchase after it
    benefits: list[str] = field(default_factory=list)  # the codes it promotes; none: any
    days: list[Day] = field(default_factory=list)

    @property
    def audience(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict:
        return asdict(self) | {
            "audience": self.audience,
            "days": [d.as_json() for d in self.days],
        }


def outcome():
    """Each outbox row's place in the report, from its status and reason code."""
    error = OutboundMessage.last_error
    return case(
        (OutboundMessage.status == "sent", "delivered"),
        (OutboundMessage.status.in_(("queued", "deferred", "sending")), "pending"),
        (
            (OutboundMessage.status == "failed")
            & (error.like("blocked:%") | error.like("unreachable:%")),
            "blocked",
        ),
        ((OutboundMessage.status == "cancelled") & error.like("opted_out:%"), "opted out"),
        ((OutboundMessage.status == "cancelled") & error.like("missed:%"), "missed"),
        else_="failed",
    )


def report(database: Database, name: str, zone: tzinfo, at: datetime) -> Report:
    """The report as of `at`; days in `zone`."""
    with database.unit_of_work(write=False) as session:
        campaign = find(session, name)
        mine = OutboundMessage.campaign_id == campaign.id
        bucket = outcome().label("bucket")
        counts = dict.fromkeys(OUTCOMES, 0)
        for key, number in session.execute(
            select(bucket, func.count()).where(mine).group_by(bucket)
        ):
            counts[key] = number
        delivered = (
            select(OutboundMessage.member_id, OutboundMessage.sent_at)
            .where(mine, OutboundMessage.status == "sent")
            .subquery()
        )
        after_redemption = (delivered.c.member_id == Redemption.member_id) & (
            Redemption.created_at >= delivered.c.sent_at
        )
        promoted = (
            Redemption.benefit_id.in_(select(Benefit.id).where(Benefit.code.in_(campaign.benefits)))
            if campaign.benefits
            else true()
        )
        after_purchase = (
            (delivered.c.member_id == LedgerEntry.member_id)
            & (LedgerEntry.created_at >= delivered.c.sent_at)
            & (LedgerEntry.kind == "purchase")
        )
        redeemed = session.execute(
            select(func.count(distinct(Redemption.member_id)))
            .join(delivered, after_redemption)
            .where(promoted)
        ).scalar_one()
        returned = session.execute(
            select(func.count(distinct(LedgerEntry.member_id))).join(delivered, after_purchase)
        ).scalar_one()
        first = session.scalar(select(func.min(delivered.c.sent_at)))
        days = []
        if first is not None:
            start = first.astimezone(zone).date()
            end = min(at.astimezone(zone).date(), start + timedelta(days=MAX_DAYS - 1))
            sent = session.scalars(select(delivered.c.sent_at)).all()
            redemptions = session.scalars(
                select(Redemption.created_at).join(delivered, after_redemption).where(promoted)
            ).all()
            purchases = session.execute(
                select(LedgerEntry.created_at, LedgerEntry.amount).join(delivered, after_purchase)
            ).all()
            days = _by_day(zone, start, end, sent, redemptions, purchases)
        return Report(
            campaign.name,
            status(campaign.status, counts["pending"]),
            campaign.scheduled_at.isoformat(),
            campaign.segment,
            counts,
            redeemed or 0,
            returned or 0,
            list(campaign.benefits or []),
            days,
        )


def _by_day(zone, start: date, end: date, sent, redemptions, purchases) -> list[Day]:
    def local(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    delivered = Counter(local(m) for m in sent)
    redeemed = Counter(local(m) for m in redemptions)
    bought: Counter[date] = Counter()
    amount: dict[date, Decimal] = {}
    for moment, paid in purchases:
        bought[local(moment)] += 1
        amount[local(moment)] = amount.get(local(moment), Decimal(0)) + (paid or Decimal(0))
    span = (end - start).days + 1
    return [
        Day(d, delivered[d], redeemed[d], bought[d], amount.get(d, Decimal(0)))
        for d in (start + timedelta(days=n) for n in range(max(span, 0)))
    ]
