"""Races: many threads, each in its own unit of work, redeem at the same moment.

On PostgreSQL every ledger write locks the member's account row first (then the benefit
row), so the threads queue up and each sees what the one before it committed. On SQLite
BEGIN IMMEDIATE serialises the writers; the double-spend race runs there too.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.desk import member_views as views
from storage import books
from storage.ledger import Ledger, LedgerError
from storage.members import NewMember, open_membership
from storage.models import Benefit, PointsAccount, PointsLot, Redemption, Voucher
from storage.rewards import redeem

T0 = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ALL_TIERS = ["silver", "gold", "platinum", "diamond"]


def join(db, config, points, *more_lots) -> int:
    """A member with an opening lot of `points`, and more lots of (points, valid_until)."""
    with db.unit_of_work() as session:
        new = NewMember(name="Racer", phone=None, birthday=None)
        member = open_membership(session, config, new, T0, source="test", welcome_bonus=False)
        ledger = Ledger(session, config, clock=lambda: T0)
        for n, (lot, valid_until) in enumerate([(points, None), *more_lots]):
            ledger.earn_bonus(
                member.id,
                "opening",
                f"opening:{member.id}:{n}",
                lot,
                reason="test",
                actor="test",
                valid_until=valid_until,
            )
        session.commit()
        return member.id


def add_benefit(db, cost, stock=None):
    with db.unit_of_work() as session:
        session.add(
            Benefit(
                code="prize",
                name_zh="奖品",
                name_en="Prize",
                cost=cost,
                stock=stock,
                tiers=ALL_TIERS,
                per_member_limit=1000,
                voucher_validity_days=None,
            )
        )
        session.commit()


def redeem_once(db, config, member_id, request_key):
    with db.unit_of_work() as session:
        done = redeem(Ledger(session, config, clock=lambda: T0), member_id, "prize", 1, request_key)
        session.commit()
        return done


def race(threads, attempt) -> list:
    """Run attempt(i) in `threads` threads released together; a LedgerError is an outcome."""
    start = threading.Barrier(threads)

    def run(i):
        start.wait()
        try:
            return attempt(i)
        except LedgerError as refused:
            return refused

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


def assert_books_balance(db):
    """For every member: balance = sum of the ledger = sum of lot remainders; nothing < 0."""
    with db.unit_of_work(write=False) as session:
        assert books.unbalanced(session) == []
        assert session.scalar(select(func.min(PointsLot.remaining))) >= 0
        lowest_stock = session.scalar(select(func.min(Benefit.stock)))
        assert lowest_stock is None or lowest_stock >= 0


def count(db, model) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


def stock(db) -> int | None:
    with db.unit_of_work(write=False) as session:
        return session.scalar(select(Benefit.stock))


def test_concurrent_redemptions_succeed_only_as_far_as_the_balance_goes(postgres_db, config):
    db = postgres_db
    someone = join(db, config, points=1000)
    add_benefit(db, cost=200)

    outcomes = race(16, lambda i: redeem_once(db, config, someone, f"tap-{i}"))

    won = [o for o in outcomes if not isinstance(o, LedgerError)]
    lost = [o for o in outcomes if isinstance(o, LedgerError)]
    assert len(won) == 5
    assert {o.code for o in lost} == {"insufficient_points"}
    assert len(lost) == 11
    assert count(db, Redemption) == count(db, Voucher) == 5
    with db.unit_of_work(write=False) as session:
        assert views.balance(session, someone) == 0
    assert_books_balance(db)


def test_a_benefit_in_short_stock_goes_to_exactly_as_many_members_as_it_has(postgres_db, config):
    db = postgres_db
    members = [join(db, config, points=1000) for _ in range(12)]
    add_benefit(db, cost=100, stock=3)

    outcomes = race(12, lambda i: redeem_once(db, config, members[i], f"tap-{i}"))

    won = [o for o in outcomes if not isinstance(o, LedgerError)]
    assert len(won) == 3
    assert {o.code for o in outcomes if isinstance(o, LedgerError)} == {"out_of_stock"}
    assert stock(db) == 0
    assert count(db, Redemption) == 3
    assert_books_balance(db)


def test_a_double_tap_from_many_threads_redeems_once(db, config):
    someone = join(db, config, points=1000)
    add_benefit(db, cost=200, stock=10)

    outcomes = race(8, lambda i: redeem_once(db, config, someone, "the-same-tap"))

    assert [o.created for o in outcomes].count(True) == 1
    assert {o.redemption.id for o in outcomes} == {outcomes[0].redemption.id}
    assert count(db, Redemption) == count(db, Voucher) == 1
    assert stock(db) == 9
    with db.unit_of_work(write=False) as session:
        assert views.balance(session, someone) == 800
    assert_books_balance(db)


def test_concurrent_redemptions_on_sqlite_succeed_only_as_far_as_the_balance_goes(
    sqlite_db, config
):
    db = sqlite_db
    someone = join(db, config, points=1000)
    add_benefit(db, cost=200)

    outcomes = race(12, lambda i: redeem_once(db, config, someone, f"tap-{i}"))

    assert sum(not isinstance(o, LedgerError) for o in outcomes) == 5
    assert {o.code for o in outcomes if isinstance(o, LedgerError)} == {"insufficient_points"}
    assert_books_balance(db)


def test_a_unit_of_work_that_read_before_redeeming_sees_what_others_spent_meanwhile(
    postgres_db, config
):
    db = postgres_db
    someone = join(db, config, points=300)
    add_benefit(db, cost=200)

    with db.unit_of_work() as session:
        # A handler shows the balance and the lots first and keeps them: rows in the session.
        account = session.get(PointsAccount, someone)
        shown = session.scalars(select(PointsLot).where(PointsLot.member_id == someone)).all()
        assert account.balance == 300 == shown[0].remaining
        redeem_once(db, config, someone, "from-another-device")

        with pytest.raises(LedgerError) as refused:
            redeem(Ledger(session, config, clock=lambda: T0), someone, "prize", 1, "this-tap")
        session.commit()

    assert refused.value.code == "insufficient_points"
    assert_books_balance(db)


def test_a_unit_of_work_that_read_the_lots_before_redeeming_draws_them_as_they_are_now(
    postgres_db, config
):
    db = postgres_db
    someone = join(db, config, 300, (300, (T0 + timedelta(days=5)).date()))
    add_benefit(db, cost=200)

    with db.unit_of_work() as session:
        shown = session.scalars(select(PointsLot).order_by(PointsLot.expires_at)).all()
        assert [lot.remaining for lot in shown] == [300, 300]
        redeem_once(db, config, someone, "from-another-device")  # the soonest lot: 300 -> 100

        redeem(Ledger(session, config, clock=lambda: T0), someone, "prize", 1, "this-tap")
        session.commit()

    with db.unit_of_work(write=False) as session:
        lots = session.scalars(select(PointsLot.remaining).order_by(PointsLot.expires_at)).all()
    assert lots == [0, 200]
    assert_books_balance(db)
