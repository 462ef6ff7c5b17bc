"""How a campaign went: delivered, failed, blocked, opted out, still pending; and what the
members who got it did afterwards (redeemed a benefit, bought again)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import case, distinct, func, select

from schedules.campaigns import find, status
from storage.db import Database
from storage.models import LedgerEntry, OutboundMessage, Redemption

OUTCOMES = ("delivered", "failed", "blocked", "opted out", "pending")


@dataclass(frozen=True)
class Report:
    name: str
    status: str
    scheduled_at: str
    segment: dict
    counts: dict[str, int]  # by OUTCOMES
    redeemed: int  # recipients who redeemed a benefit after the message reached them
    returned: int  # recipients who made a purchase after it

    @property
    def audience(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict:
        return asdict(self) | {"audience": self.audience}


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
        else_="failed",
    )


def report(database: Database, name: str) -> Report:
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
        redeemed = session.execute(
            select(func.count(distinct(Redemption.member_id))).join(
                delivered,
                (delivered.c.member_id == Redemption.member_id)
                & (Redemption.created_at >= delivered.c.sent_at),
            )
        ).scalar_one()
        returned = session.execute(
            select(func.count(distinct(LedgerEntry.member_id)))
            .join(
                delivered,
                (delivered.c.member_id == LedgerEntry.member_id)
                & (LedgerEntry.created_at >= delivered.c.sent_at),
            )
            .where(LedgerEntry.kind == "purchase")
        ).scalar_one()
        return Report(
            campaign.name,
            status(campaign.status, counts["pending"]),
            campaign.scheduled_at.isoformat(),
            campaign.segment,
            counts,
            redeemed or 0,
            returned or 0,
        )
