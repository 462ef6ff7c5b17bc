"""Rules over time on SQLite and PostgreSQL: a purchase renews the membership through the
one purchase use case (API, import and demo all post through it), every door names the
same last day for what expires, and the database refuses to rewrite history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from handlers.desk import demo, imports, purchases
from handlers.desk import member_views as views
from handlers.desk.purchases import Purchase, PurchaseRefused
from handlers.desk.tickets import open_ticket
from schedules import expiry_notices
from storage.ledger import Ledger
from storage.members import NewMember, by_number, identity, open_membership
from storage.models import (
    ConsentEvent,
    LedgerEntry,
    LotAllocation,
    Member,
    OutboundMessage,
    PointsLot,
    TicketEvent,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)


def join(db, config, member_no, joined=date(2024, 9, 20), timezone=None) -> Member:
    with db.unit_of_work() as session:
        member = open_membership(
            session,
            config,
            NewMember(
                name="王芳", phone=None, birthday=None, member_no=member_no, join_date=joined
            ),
            datetime.combine(joined, datetime.min.time(), tzinfo=SHANGHAI),
            source="test",
            welcome_bonus=False,
        )
        member.timezone = timezone
        ident = identity(session, "telegram", f"tg-{member_no}", T0)
        ident.member_id = member.id
        session.commit()
        return member


def expires(db, member_no) -> date:
    with db.unit_of_work(write=False) as session:
        return by_number(session, member_no).membership_expires


def buy(db, config, member_no, order, amount="100", when=None, at=T0):
    purchase = Purchase(
        order_id=order, member_no=member_no, amount=Decimal(amount), purchased_at=when
    )
    return purchases.post(db, config, purchase, "test", at)


# -- renewal ---------------------------------------------------------------------------


def test_a_lapsed_member_who_buys_is_renewed_for_a_term_from_the_purchase_day(db, config):
    join(db, config, "M100001")  # joined 2024-09-20: lapsed on 2025-09-20
    assert expires(db, "M100001") == date(2025, 9, 20)

    buy(db, config, "M100001", "R-1")

    assert expires(db, "M100001") == date(2027, 3, 10)


def test_a_purchase_extends_an_active_membership_from_its_expiry(db, config):
    join(db, config, "M100001", joined=date(2025, 9, 20))

    buy(db, config, "M100001", "R-1")

    assert expires(db, "M100001") == date(2027, 9, 20)


def test_posting_the_same_order_again_does_not_renew_twice(db, config):
    join(db, config, "M100001")
    buy(db, config, "M100001", "R-1")

    again = buy(db, config, "M100001", "R-1")

    assert again.created is False
    assert expires(db, "M100001") == date(2027, 3, 10)


def test_a_refused_purchase_renews_nothing(db, config):
    join(db, config, "M100001")
    join(db, config, "M100002")
    buy(db, config, "M100001", "R-1")

    with pytest.raises(PurchaseRefused):
        buy(db, config, "M100002", "R-1")

    assert expires(db, "M100002") == date(2025, 9, 20)


def test_the_purchase_day_is_the_members_own_day(db, config):
    join(db, config, "M100001")
    join(db, config, "M100002", timezone="Europe/London")
    just_after_midnight = datetime(2026, 4, 1, 0, 30, tzinfo=SHANGHAI)  # 31 March in London

    buy(db, config, "M100001", "R-1", when=just_after_midnight, at=just_after_midnight)
    buy(db, config, "M100002", "R-2", when=just_after_midnight, at=just_after_midnight)

    assert expires(db, "M100001") == date(2027, 4, 1)
    assert expires(db, "M100002") == date(2027, 3, 31)


def test_a_purchases_import_renews_like_the_api(db, config, tmp_path: Path):
    join(db, config, "M100001")
    join(db, config, "M100002")
    buy(db, config, "M100001", "R-1", when=datetime(2026, 3, 1, 12, tzinfo=SHANGHAI))
    path = tmp_path / "purchases.csv"
    path.write_text(
        "order_id,member_no,amount,purchased_at\nR-2,M100002,100,2026-03-01T12:00:00+08:00\n",
        encoding="utf-8",
    )

    report = imports.import_file("purchases", db, config, path, T0)

    assert (report.imported, report.errors) == (1, [])
    assert expires(db, "M100002") == expires(db, "M100001") == date(2027, 3, 1)


def test_the_demo_member_who_bought_ten_days_ago_is_a_member_today(db, config):
    demo.seed(db, config, T0)

    assert expires(db, "M000001") > T0.date()
    assert expires(db, "M000002") > T0.date()
    assert expires(db, "M000003") > T0.date()  # joined 100 days ago, no purchase


# -- one expiry day --------------------------------------------------------------------


def test_every_lot_of_the_demo_data_expires_at_a_local_midnight(db, config):
    demo.seed(db, config, T0)
    demo.seed_generated(db, config, T0, 20)

    with db.unit_of_work(write=False) as session:
        ends = session.scalars(select(PointsLot.expires_at)).all()
        soon = views.expiring(session, by_number(session, "M000001").id, T0, 30, SHANGHAI)

    local = [end.astimezone(SHANGHAI) for end in ends]
    assert local and all(end.time() == datetime.min.time() for end in local), local
    assert [(x.points, x.last_day) for x in soon] == [(300, date(2026, 3, 30))]


def test_points_expiring_at_1_june_midnight_are_named_31_may_by_every_door(db, config):
    member = join(db, config, "M100001")
    at = datetime(2026, 5, 10, 10, 0, tzinfo=SHANGHAI)
    with db.unit_of_work() as session:
        Ledger(session, config, clock=lambda: at).earn_bonus(
            member.id,
            "opening",
            "opening:1",
            300,
            "test",
            "test",
            at=at,
            valid_until=date(2026, 5, 31),
        )
        session.commit()

    expiry_notices.points_expiry(db, config, at)
    with db.unit_of_work(write=False) as session:
        notice = session.scalar(select(OutboundMessage.text))
        shown = views.expiring(session, member.id, at, 30, SHANGHAI)
        ledger = Ledger(session, config)
        last_moment = ledger.spendable(
            member.id, datetime(2026, 5, 31, 23, 59, 59, tzinfo=SHANGHAI)
        )
        midnight = ledger.spendable(member.id, datetime(2026, 6, 1, tzinfo=SHANGHAI))

    assert "2026-05-31" in notice and "06-01" not in notice
    assert [(x.points, x.last_day) for x in shown] == [(300, date(2026, 5, 31))]
    assert (last_moment, midnight) == (300, 0)


def test_a_london_members_points_expire_at_the_end_of_the_day_in_london(db, config):
    member = join(db, config, "M100001", timezone="Europe/London")
    earned = datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI)  # 31 March 16:30 in London
    with db.unit_of_work() as session:
        Ledger(session, config, clock=lambda: earned).earn_purchase(
            member.id, "R-1", Decimal("100"), at=earned
        )
        session.commit()
    at = datetime(2027, 3, 10, 10, tzinfo=LONDON)
    expiry_notices.points_expiry(db, config, at)

    with db.unit_of_work(write=False) as session:
        notice = session.scalar(select(OutboundMessage.text))
        ledger = Ledger(session, config)
        before = ledger.spendable(member.id, datetime(2027, 3, 31, 23, 59, tzinfo=LONDON))
        after = ledger.spendable(member.id, datetime(2027, 4, 1, 0, 0, tzinfo=LONDON))

    assert "2027-03-31" in notice
    assert (before, after) == (100, 0)


# -- append-only, enforced by the database ---------------------------------------------


def _history(db, config) -> int:
    member = join(db, config, "M100001")
    buy(db, config, "M100001", "R-1")
    with db.unit_of_work() as session:
        Ledger(session, config, clock=lambda: T0).spend(
            member.id, "redeem", 50, "redeem:1", "member", "coffee", at=T0
        )
        session.commit()
    return member.id


@pytest.mark.parametrize(
    "statement",
    [
        update(LedgerEntry).values(points=1_000_000),
        delete(LedgerEntry),
        update(LotAllocation).values(points=0),
        delete(LotAllocation),
        update(ConsentEvent).values(granted=True),
        delete(ConsentEvent),
    ],
    ids=[
        "update entries",
        "delete entries",
        "update allocations",
        "delete allocations",
        "update consent",
        "delete consent",
    ],
)
def test_the_database_refuses_to_rewrite_the_ledger(db, config, statement):
    _history(db, config)

    with db.unit_of_work() as session, pytest.raises(DBAPIError, match="append-only"):
        session.execute(statement)


def test_raw_sql_cannot_rewrite_the_ledger_either(db, config):
    _history(db, config)

    for sql in ("UPDATE ledger_entries SET points = 0", "DELETE FROM ledger_entries"):
        with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(sql))
    with db.unit_of_work(write=False) as session:
        assert (
            session.scalar(select(LedgerEntry.points).where(LedgerEntry.kind == "purchase")) == 100
        )


def test_ticket_events_may_lose_their_text_to_an_erasure_but_not_their_facts(db, config):
    with db.unit_of_work() as session:
        ticket = open_ticket(
            session,
            config,
            kind="complaint",
            category="other",
            description="我的手机号 13900000001 收不到短信",
            at=T0,
            member=None,
            identity=None,
        )
        session.commit()
        ticket_id = ticket.id

    with db.unit_of_work() as session:
        session.execute(
            update(TicketEvent).where(TicketEvent.ticket_id == ticket_id).values(body=None)
        )
        session.commit()
    for statement in (
        update(TicketEvent).values(actor="someone else"),
        delete(TicketEvent),
    ):
        with db.unit_of_work() as session, pytest.raises(DBAPIError, match="append-only"):
            session.execute(statement)

    with db.unit_of_work(write=False) as session:
        assert session.scalars(select(TicketEvent.body)).all() == [None]
