"""Campaign segments: who a campaign is for, as one SQL condition on members.

A segment combines tiers, dormancy (no purchase for N days), birthday month, minimum
RFM scores and consent. RFM scores come from the ledger's purchases, 1 to 5 each by
quintile among members who bought: recency (5 = bought most recently), frequency (5 =
most purchases) and monetary value (5 = spent most). Members who never bought have no
RFM score and fall outside any segment that asks for one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, extract, func, or_, select, true

from core.config import Config
from storage.models import LedgerEntry, Member


class SegmentError(ValueError):
    """A segment that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Segment:
    tiers: list[str] = field(default_factory=list)
    dormant_days: int | None = None
    birthday_month: int | None = None
    rfm: dict[str, int] = field(default_factory=dict)  # minimum scores: {"r": 4, "f": 3}
    consent: str = "yes"  # yes: consenting members only; any: everyone (the rest opt out)

    def check(self, config: Config) -> Segment:
        known = [t.name for t in config.tiers]
        if unknown := [t for t in self.tiers if t not in known]:
            raise SegmentError(f"unknown tier {unknown[0]!r}: use one of {', '.join(known)}")
        if self.birthday_month is not None and not 1 <= self.birthday_month <= 12:
            raise SegmentError(f"birthday month must be 1 to 12, not {self.birthday_month}")
        if self.dormant_days is not None and self.dormant_days < 1:
            raise SegmentError(f"dormant days must be at least 1, not {self.dormant_days}")
        for score, least in self.rfm.items():
            if score not in "rfm" or not 1 <= least <= 5:
                raise SegmentError(f"RFM minimum {score}={least}: scores r, f, m go from 1 to 5")
        if self.consent not in ("yes", "any"):
            raise SegmentError(f"consent must be yes or any, not {self.consent!r}")
        return self

    def as_json(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value not in (None, [], {})}

    @classmethod
    def from_json(cls, data: dict) -> Segment:
        return cls(**data)

    def describe(self) -> str:
        parts = []
        if self.tiers:
            parts.append("tier " + "/".join(self.tiers))
        if self.dormant_days:
            parts.append(f"no purchase for {self.dormant_days} days")
        if self.birthday_month:
            parts.append(f"born in month {self.birthday_month}")
        if self.rfm:
            parts.append("RFM " + " ".join(f"{k.upper()}>={v}" for k, v in self.rfm.items()))
        parts.append("consenting members" if self.consent == "yes" else "consent not required")
        return ", ".join(parts)


def rfm_scores():
    """member_id, r, f, m: purchase quintiles from the ledger."""
    bought = (
        select(
            LedgerEntry.member_id,
            func.max(LedgerEntry.created_at).label("last"),
            func.count().label("times"),
            func.sum(LedgerEntry.amount).label("spent"),
        )
        .where(LedgerEntry.kind == "purchase")
        .group_by(LedgerEntry.member_id)
        .subquery()
    )
    return select(
        bought.c.member_id,
        func.ntile(5).over(order_by=(bought.c.last, bought.c.member_id)).label("r"),
        func.ntile(5).over(order_by=(bought.c.times, bought.c.member_id)).label("f"),
        func.ntile(5).over(order_by=(bought.c.spent, bought.c.member_id)).label("m"),
    ).subquery()


def condition(segment: Segment, config: Config, at: datetime) -> ColumnElement[bool]:
    """The members in the segment at `at`."""
    parts: list[ColumnElement[bool]] = []
    if segment.tiers:
        parts.append(Member.tier.in_(segment.tiers))
    if segment.dormant_days:
        since = at - timedelta(days=segment.dormant_days)
        parts.append(
            or_(
                Member.last_purchase_at < since,
                Member.last_purchase_at.is_(None)
                & (Member.join_date <= since.astimezone(config.zone).date()),
            )
        )
    if segment.birthday_month:
        parts.append(extract("month", Member.birthday) == segment.birthday_month)
    if segment.rfm:
        scores = rfm_scores()
        parts.append(
            Member.id.in_(
                select(scores.c.member_id).where(
                    *(scores.c[k] >= v for k, v in segment.rfm.items())
                )
            )
        )
    if segment.consent == "yes":
        parts.append(Member.marketing_consent.is_(True))
    return and_(true(), *parts)
