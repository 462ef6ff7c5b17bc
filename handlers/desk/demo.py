"""The deterministic demo data of CONTRACTS.md, loaded idempotently."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core.config import Config
from core.validity import end_of_day
from handlers.desk import purchases
from handlers.desk.purchases import Purchase
from storage.db import Database
from storage.ledger import Ledger
from storage.members import NewMember, by_number, identity, open_membership
from storage.models import (
    Benefit,
    ChatIdentity,
    ConsentEvent,
    LedgerEntry,
    Member,
    PointsAccount,
    PointsLot,
)

BENEFITS = [
    # code, zh, en, cost, stock, lowest tier
    ("coffee_voucher", "咖啡券", "Coffee voucher", 200, None, "silver"),
    ("free_shipping", "免运费券", "Free shipping voucher", 100, None, "silver"),
    ("birthday_cake", "生日蛋糕", "Birthday cake", 1000, None, "gold"),
    ("vip_lounge", "贵宾室通行证", "VIP lounge pass", 5000, 5, "platinum"),
]

# member, console user, name, phone, birthday, language, joined (days before seeding)
MEMBERS = [
    ("M000001", "demo", "张伟", "13800000001", date(1990, 5, 20), "zh", 800),
    ("M000002", "demo-en", "Alice Chen", "13800000002", date(1985, 11, 3), "en", 400),
    ("M000003", None, "李娜", "13800000003", date(1995, 2, 14), "zh", 100),
]


def seed(db: Database, config: Config, at: datetime) -> None:
    with db.unit_of_work() as session:
        _benefits(session, config)
        for member_no, user, name, phone, birthday, language, joined_days in MEMBERS:
            member = by_number(session, member_no)
            if member is None:
                member = open_membership(
                    session,
                    config,
                    NewMember(
                        name=name,
                        phone=phone,
                        birthday=birthday,
                        language=language,
                        marketing_consent=True,
                        member_no=member_no,
                        join_date=(at - timedelta(days=joined_days)).date(),
                    ),
                    at - timedelta(days=joined_days),
                    source="demo",
                    welcome_bonus=False,
                )
            if user:
                ident = identity(session, "console", user, at)
                ident.member_id, ident.language = member.id, language
        session.flush()
        _history(Ledger(session, config, clock=lambda: at), session, at)
        session.commit()


def _benefits(session, config: Config) -> None:
    names = [t.name for t in config.tiers]
    for code, zh, en, cost, stock, lowest in BENEFITS:
        if session.scalar(select(Benefit).where(Benefit.code == code)) is None:
            session.add(
                Benefit(
                    code=code,
                    name_zh=zh,
                    name_en=en,
                    cost=cost,
                    stock=stock,
                    tiers=names[names.index(lowest) :],
                    per_member_limit=None,
                    voucher_validity_days=None,
                    active=True,
                )
            )


def _history(ledger: Ledger, session, at: datetime) -> None:
    """Zhang Wei: gold by purchases, 2,680 points, 300 expiring in 20 days.
    Alice: silver, 520 points. Li Na: nothing yet."""
    zhang = _seeded(session, "M000001")
    ledger.earn_bonus(
        zhang,
        "opening",
        "opening:M000001",
        300,
        reason="balance carried over",
        actor="demo",
        at=at - timedelta(days=340),
        valid_until=(at + timedelta(days=20)).astimezone(ledger.config.zone).date(),
    )
    for key, amount, days in (
        ("DEMO-0001", "1200", 200),
        ("DEMO-0002", "900", 60),
        ("DEMO-0003", "234", 10),
    ):
        _purchase(session, ledger.config, "M000001", key, amount, at - timedelta(days=days), at)
    alice = _seeded(session, "M000002")
    ledger.earn_bonus(
        alice,
        "welcome",
        f"welcome:{alice}",
        100,
        reason="welcome bonus",
        actor="demo",
        at=at - timedelta(days=200),
    )
    _purchase(session, ledger.config, "M000002", "DEMO-0101", "420", at - timedelta(days=30), at)


def _seeded(session: Session, member_no: str) -> int:
    member = by_number(session, member_no)
    if member is None:
        raise LookupError(f"demo member {member_no} was not seeded")
    return member.id


def _purchase(session, config: Config, member_no: str, order: str, amount: str, when, at):
    purchase = Purchase(
        order_id=order, member_no=member_no, amount=Decimal(amount), purchased_at=when
    )
    purchases.record(session, config, purchase, "demo", at)


def seed_generated(
    db: Database,
    config: Config,
    at: datetime,
    count: int,
    progress: Callable[[int], None] = lambda n: None,
    batch: int = 5000,
) -> int:
    """`count` generated members (G-numbered) with an opening balance each, for load tests.
    Written in bulk, but each member's balance still equals the sum of their ledger."""
    tiers = [t.name for t in config.tiers]
    with db.unit_of_work() as session:
        existing = session.execute(
            select(func.count()).select_from(Member).where(Member.member_no.like("G%"))
        ).scalar_one()
    made = 0
    last = (at + timedelta(days=30)).astimezone(config.zone).date()  # the soonest last day
    for start in range(existing, count, batch):
        with db.unit_of_work() as session:
            rows = range(start, min(count, start + batch))
            members: list[dict[str, Any]] = [
                dict(
                    member_no=f"G{n:07d}",
                    name=f"Member {n}",
                    phone=f"19{n:09d}",
                    birthday=date(1960 + n % 45, n % 12 + 1, n % 28 + 1),
                    join_date=at.date(),
                    membership_expires=(at + timedelta(days=365 - n % 365)).date(),
                    tier=tiers[n % len(tiers)],
                    tier_since=at,
                    language="en" if n % 5 == 0 else "zh",
                    marketing_consent=n % 3 != 0,
                    created_at=at,
                )
                for n in rows
            ]
            ids = session.scalars(
                insert(Member).returning(Member.id, sort_by_parameter_order=True), members
            ).all()
            points = [100 + (n * 37) % 5000 for n in rows]
            session.execute(
                insert(PointsAccount),
                [
                    dict(member_id=i, balance=p, updated_at=at)
                    for i, p in zip(ids, points, strict=True)
                ],
            )
            session.execute(
                insert(ConsentEvent),
                [
                    dict(
                        member_id=i,
                        kind="marketing",
                        granted=m["marketing_consent"],
                        source="generated",
                        created_at=at,
                    )
                    for i, m in zip(ids, members, strict=True)
                ],
            )
            entry_ids = session.scalars(
                insert(LedgerEntry).returning(LedgerEntry.id, sort_by_parameter_order=True),
                [
                    dict(
                        member_id=i,
                        kind="opening",
                        points=p,
                        qualifying=False,
                        idempotency_key=f"opening:{m['member_no']}",
                        actor="generator",
                        created_at=at,
                    )
                    for i, p, m in zip(ids, points, members, strict=True)
                ],
            ).all()
            session.execute(
                insert(PointsLot),
                [
                    dict(
                        member_id=i,
                        entry_id=e,
                        points=p,
                        remaining=p,
                        earned_at=at,
                        expires_at=end_of_day(last + timedelta(days=n % 400), config.zone),
                    )
                    for i, e, p, n in zip(ids, entry_ids, points, rows, strict=True)
                ],
            )
            session.execute(
                insert(ChatIdentity),
                [
                    dict(
                        channel="console",
                        external_id=m["member_no"].lower(),
                        member_id=i,
                        language=m["language"],
                        reachable=True,
                        bind_failures=0,
                        created_at=at,
                    )
                    for i, m in zip(ids, members, strict=True)
                ],
            )
            session.commit()
        made += len(rows)
        progress(len(rows))
    return made
