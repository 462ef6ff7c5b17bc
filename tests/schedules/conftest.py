"""Members, chat identities and a recording sender for the scheduler's tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.ports import Delivery, Outcome, Outgoing
from schedules.outbox import MARKETING, SERVICE, Message, marketing_text, queue
from schedules.segments import Segment
from storage.members import NewMember, identity, open_membership
from storage.models import Member, OutboundMessage

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEXTS = {"zh": "{name}，会员日全场双倍积分", "en": "{name}, double points on member day"}


def local(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    """A wall-clock time in Shanghai (or `zone`), e.g. local("2026-05-20 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@dataclass
class RecordingSender:
    """A channel that records what it is asked to send and answers `outcome`."""

    channel: str = "telegram"
    idempotent: bool = False
    outcome: Outcome = Outcome.SENT
    detail: str = ""
    retry_after: float | None = None
    sent: list[Outgoing] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: Outgoing) -> Delivery:
        with self.lock:
            self.sent.append(message)
        return Delivery(self.outcome, self.detail, self.retry_after, via="message")

    def texts(self) -> list[str]:
        return [m.text for m in self.sent]


@pytest.fixture
def telegram() -> RecordingSender:
    return RecordingSender()


def external_id(channel: str, member: Member) -> str:
    """The member's id on `channel`: numeric on Telegram, like a real chat id."""
    return str(700000 + member.id) if channel == "telegram" else f"{channel}-{member.member_no}"


@dataclass
class Members:
    db: object
    config: object
    joined: datetime = local("2025-01-10 12:00")

    def add(
        self,
        name: str = "王芳",
        birthday: date | None = date(1990, 7, 15),
        language: str = "zh",
        consent: bool = True,
        channel: str | None = "telegram",
        last_inbound_at: datetime | None = None,
        **fields,
    ) -> Member:
        with self.db.unit_of_work() as session:
            member = open_membership(
                session,
                self.config,
                NewMember(
                    name=name,
                    phone=None,
                    birthday=birthday,
                    language=language,
                    marketing_consent=consent,
                    join_date=fields.pop("join_date", self.joined.date()),
                ),
                self.joined,
                source="test",
                welcome_bonus=False,
            )
            for key, value in fields.items():
                setattr(member, key, value)
            if channel:
                found = identity(session, channel, external_id(channel, member), self.joined)
                found.member_id, found.last_inbound_at = member.id, last_inbound_at
            session.commit()
        return member

    def bind(self, member: Member, channel: str, last_inbound_at: datetime | None = None):
        with self.db.unit_of_work() as session:
            found = identity(session, channel, external_id(channel, member), self.joined)
            found.member_id, found.last_inbound_at = member.id, last_inbound_at
            session.commit()

    def update(self, member: Member, **fields) -> None:
        with self.db.unit_of_work() as session:
            row = session.get(Member, member.id)
            for key, value in fields.items():
                setattr(row, key, value)
            session.commit()


@pytest.fixture
def members(sqlite_db, config) -> Members:
    return Members(sqlite_db, config)


def fetch(db, query) -> list:
    """The records `query` selects, detached, so they can be read after the session."""
    with db.unit_of_work(write=False) as session:
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def outbox(db, **where) -> list[OutboundMessage]:
    query = select(OutboundMessage).order_by(OutboundMessage.id)
    for key, value in where.items():
        query = query.where(getattr(OutboundMessage, key) == value)
    return fetch(db, query)


def put(db, member, key, at, category=SERVICE, text="hello", kind="notice") -> None:
    """Queue one message for `member`, due at `at`."""
    if category == MARKETING:
        text = marketing_text(text, member.language)
    with db.unit_of_work() as session:
        queue(session, [Message(key, member.id, kind, text, at, category=category)], at)
        session.commit()


PROMOTED, OTHER = "coffee_voucher", "free_shipping"


def campaign_with_aftermath(db, config, at: datetime) -> None:
    """Campaign "member-day" promoting the coffee voucher, delivered at `at` to two members
    who each bought before it; the next day one redeems the coffee voucher and the other
    another benefit; the day after both buy (50.00 and 30.50)."""
    from schedules import campaigns
    from schedules.dispatcher import Dispatcher
    from storage.ledger import Ledger
    from storage.models import Benefit
    from storage.rewards import redeem

    everyone = [t.name for t in config.tiers]
    with db.unit_of_work() as session:
        known = set(session.scalars(select(Benefit.code)))
        for code in {PROMOTED, OTHER} - known:  # the demo data has them already
            session.add(
                Benefit(
                    code=code, name_zh=code, name_en=code, cost=100, stock=None, tiers=everyone,
                    per_member_limit=None, voucher_validity_days=None, active=True,
                )
            )  # fmt: skip
        session.commit()
    first, second = Members(db, config).add(), Members(db, config).add(name="李雷")

    def posting(when: datetime, work) -> None:
        with db.unit_of_work() as session:
            work(Ledger(session, config, clock=lambda: when), when)
            session.commit()

    for member, order in ((first, "BEFORE-1"), (second, "BEFORE-2")):
        posting(
            at - timedelta(days=1),
            lambda ledger, when, m=member, o=order: ledger.earn_purchase(
                m.id, o, Decimal("500"), at=when
            ),
        )
    campaigns.create(
        db, config, "member-day", Segment(), TEXTS, at, "tester", at, benefits=[PROMOTED]
    )
    campaigns.run(db, config, "member-day", at)
    Dispatcher(db, config, {"telegram": RecordingSender()}, clock=lambda: at).run()
    next_day = at + timedelta(days=1)
    posting(next_day, lambda ledger, _: redeem(ledger, first.id, PROMOTED, 1, "r-1"))
    posting(next_day, lambda ledger, _: redeem(ledger, second.id, OTHER, 1, "r-2"))
    for member, order, paid in ((first, "AFTER-1", "50.00"), (second, "AFTER-2", "30.50")):
        posting(
            at + timedelta(days=2),
            lambda ledger, when, m=member, o=order, p=paid: ledger.earn_purchase(
                m.id, o, Decimal(p), at=when
            ),
        )
