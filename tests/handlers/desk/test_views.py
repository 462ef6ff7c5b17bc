"""The read side the bot shows: balance, expiring points with dates, history, tier
progress, eligible benefits and vouchers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import text

from core.validity import end_of_day
from handlers.desk import member_views as views
from storage.ledger import Ledger
from storage.members import NewMember, open_membership
from storage.models import Benefit, Member
from storage.rewards import redeem, reverse_redemption

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
ABOVE_SILVER = ["gold", "platinum", "diamond"]


def post(db, config, operation, at=T0):
    with db.unit_of_work() as session:
        result = operation(Ledger(session, config, clock=lambda: at))
        session.commit()
        return result


def join(db, config, tier=None) -> int:
    with db.unit_of_work() as session:
        new = NewMember(name="Viewer", phone=None, birthday=None, tier=tier)
        member = open_membership(session, config, new, T0, source="test", welcome_bonus=False)
        session.commit()
        return member.id


def give(db, config, member_id, points, expires_in_days, key):
    post(
        db,
        config,
        lambda ledger: ledger.earn_bonus(
            member_id,
            "opening",
            key,
            points,
            reason="test",
            actor="test",
            valid_until=(T0 + timedelta(days=expires_in_days)).date(),
        ),
    )


def catalogue(db, *benefits):
    with db.unit_of_work() as session:
        for code, cost, stock, tiers in benefits:
            session.add(
                Benefit(
                    code=code,
                    name_zh=code,
                    name_en=code,
                    cost=cost,
                    stock=stock,
                    tiers=tiers,
                    per_member_limit=None,
                    voucher_validity_days=None,
                )
            )
        session.commit()


def show(db, read):
    with db.unit_of_work(write=False) as session:
        return read(session)


def test_the_balance_is_what_the_member_can_spend(db, config):
    someone = join(db, config)
    give(db, config, someone, 300, 100, "a")

    assert show(db, lambda s: views.balance(s, someone)) == 300


def test_points_expiring_within_n_days_are_summed_per_date_soonest_first(db, config):
    someone = join(db, config)
    give(db, config, someone, 100, 20, "a")
    give(db, config, someone, 50, 5, "b")
    give(db, config, someone, 70, 20, "c")
    give(db, config, someone, 900, 31, "outside the window")

    expiring = show(db, lambda s: views.expiring(s, someone, T0, days=30, zone=SHANGHAI))

    assert [(e.points, e.expires_at, e.last_day) for e in expiring] == [
        (50, end_of_day(date(2026, 3, 15), SHANGHAI), date(2026, 3, 15)),
        (170, end_of_day(date(2026, 3, 30), SHANGHAI), date(2026, 3, 30)),
    ]


def test_the_next_points_to_expire_are_found_however_far_off(db, config):
    someone = join(db, config)
    assert show(db, lambda s: views.next_expiring(s, someone, T0, SHANGHAI)) is None
    give(db, config, someone, 900, 200, "later")
    give(db, config, someone, 100, 90, "a")
    give(db, config, someone, 50, 90, "b")

    first = show(db, lambda s: views.next_expiring(s, someone, T0, SHANGHAI))

    assert (first.points, first.last_day) == (150, (T0 + timedelta(days=90)).date())


def test_points_already_expired_or_spent_are_not_shown_as_expiring(db, config):
    someone = join(db, config)
    give(db, config, someone, 100, 1, "gone by now")
    give(db, config, someone, 300, 10, "partly spent")
    catalogue(db, ("coffee", 200, None, ["silver"]))
    later = T0 + timedelta(days=2)
    post(db, config, lambda ledger: redeem(ledger, someone, "coffee", 1, "tap"), at=later)

    expiring = show(db, lambda s: views.expiring(s, someone, later, days=30, zone=SHANGHAI))

    assert [e.points for e in expiring] == [100]


def test_the_history_shows_the_latest_entries_first(db, config):
    someone = join(db, config)
    for day, order in [(1, "A-1"), (3, "A-3"), (2, "A-2")]:
        post(
            db,
            config,
            lambda ledger, day=day, order=order: ledger.earn_purchase(
                someone, order, Decimal("10"), at=T0 + timedelta(days=day)
            ),
        )

    shown = show(db, lambda s: [entry.order_id for entry in views.history(s, someone, limit=2)])

    assert shown == ["A-3", "A-2"]


def test_tier_progress_counts_the_points_earned_in_the_trailing_twelve_months(db, config):
    someone = join(db, config)
    post(
        db,
        config,
        lambda ledger: ledger.earn_purchase(
            someone, "A-1", Decimal("1500"), at=T0 - timedelta(days=400)
        ),
    )
    post(db, config, lambda ledger: ledger.earn_purchase(someone, "A-2", Decimal("1200")))

    def progress(session):
        return views.tier_progress(session, config, session.get(Member, someone), T0)

    shown = show(db, progress)

    assert (shown.tier.name, shown.next_tier.name) == ("silver", "gold")
    assert (shown.earned, shown.to_next) == (1200, 800)


def test_eligible_benefits_are_those_of_the_members_tier_in_stock_cheapest_first(db, config):
    silver, gold = join(db, config), join(db, config, tier="gold")
    catalogue(
        db,
        ("coffee", 200, None, ["silver", *ABOVE_SILVER]),
        ("shipping", 100, None, ["silver", *ABOVE_SILVER]),
        ("cake", 1000, None, ABOVE_SILVER),
        ("sold_out", 50, 0, ["silver", *ABOVE_SILVER]),
        ("retired", 10, None, ["silver", *ABOVE_SILVER]),
    )
    with db.unit_of_work() as session:
        session.execute(
            text("UPDATE benefits SET active = :no WHERE code = 'retired'"), {"no": False}
        )
        session.commit()

    def codes(member_id):
        return show(
            db, lambda s: [b.code for b in views.eligible_benefits(s, s.get(Member, member_id))]
        )

    assert codes(silver) == ["shipping", "coffee"]
    assert codes(gold) == ["shipping", "coffee", "cake"]


def test_vouchers_shown_are_the_usable_ones_soonest_to_expire_first(db, config):
    someone = join(db, config)
    give(db, config, someone, 5000, 400, "a")
    catalogue(db, ("coffee", 100, None, ["silver"]))
    first = post(db, config, lambda ledger: redeem(ledger, someone, "coffee", 1, "t1"))
    second = post(
        db,
        config,
        lambda ledger: redeem(ledger, someone, "coffee", 1, "t2"),
        at=T0 + timedelta(days=10),
    )
    void = post(db, config, lambda ledger: redeem(ledger, someone, "coffee", 1, "t3"))
    post(
        db,
        config,
        lambda ledger: reverse_redemption(ledger, void.redemption.id, actor="agent", reason="test"),
    )

    now = show(db, lambda s: [(v.code, v.expires_at) for v in views.vouchers(s, someone, T0)])
    after_the_first_expired = show(
        db, lambda s: [v.code for v in views.vouchers(s, someone, T0 + timedelta(days=35))]
    )

    # each valid to the end of the 30th day after the day it was issued
    assert now == [
        (first.vouchers[0].code, datetime(2026, 4, 10, tzinfo=SHANGHAI)),
        (second.vouchers[0].code, datetime(2026, 4, 20, tzinfo=SHANGHAI)),
    ]
    assert after_the_first_expired == [second.vouchers[0].code]
