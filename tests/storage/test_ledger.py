"""The points ledger on SQLite and on PostgreSQL: every verb, its idempotency, the expiry
cases, the tier rules and the books (balance = ledger = lots) after each operation."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from storage.ledger import Ledger, LedgerError
from storage.members import NewMember, open_membership
from storage.models import (
    Benefit,
    LedgerEntry,
    Member,
    PointsAccount,
    PointsLot,
    Redemption,
    Voucher,
)
from storage.rewards import CODE_ALPHABET, redeem, reverse_redemption

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
ALL_TIERS = ["silver", "gold", "platinum", "diamond"]


# -- helpers: each operation in its own committed unit of work, as the bot runs them ----


def post(db, config, at, operation):
    with db.unit_of_work() as session:
        result = operation(Ledger(session, config, clock=lambda: at))
        session.commit()
        return result


def join(db, config, name="Member", tier=None, referrer=None, at=T0, welcome=False) -> int:
    with db.unit_of_work() as session:
        new = NewMember(name=name, phone=None, birthday=None, tier=tier, referrer_id=referrer)
        member = open_membership(session, config, new, at, source="test", welcome_bonus=welcome)
        session.commit()
        return member.id


def add_benefit(db, code="coffee", cost=200, stock=None, tiers=ALL_TIERS, limit=100, days=None):
    with db.unit_of_work() as session:
        session.add(
            Benefit(
                code=code,
                name_zh=code,
                name_en=code,
                cost=cost,
                stock=stock,
                tiers=tiers,
                per_member_limit=limit,
                voucher_validity_days=days,
            )
        )
        session.commit()


def give(db, config, member_id, points, at=T0, key=None, valid_until=None):
    """Opening points in a lot of their own, with a chosen last day."""
    key = key or f"opening:{member_id}:{points}:{at.isoformat()}:{valid_until}"
    return post(
        db,
        config,
        at,
        lambda ledger: ledger.earn_bonus(
            member_id,
            "opening",
            key,
            points,
            reason="test",
            actor="test",
            at=at,
            valid_until=valid_until,
        ),
    )


def buy(db, config, member_id, order_id, amount, at=T0):
    return post(
        db,
        config,
        at,
        lambda ledger: ledger.earn_purchase(member_id, order_id, Decimal(amount), at=at),
    )


def spend_on(db, config, member_id, benefit="coffee", key="tap-1", quantity=1, at=T0):
    return post(db, config, at, lambda ledger: redeem(ledger, member_id, benefit, quantity, key))


def refused(code, call, *args, **kwargs) -> LedgerError:
    with pytest.raises(LedgerError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code
    return caught.value


def read(db, query):
    with db.unit_of_work(write=False) as session:
        rows = session.execute(query).all()
        session.expunge_all()  # keep what was loaded: the unit of work rolls back on exit
        return rows


def balance(db, member_id) -> int:
    return read(db, select(PointsAccount.balance).where(PointsAccount.member_id == member_id))[0][0]


def lots(db, member_id) -> list[tuple[int, int]]:
    """(points, remaining) of each lot, in the order they were earned."""
    return [
        tuple(row)
        for row in read(
            db,
            select(PointsLot.points, PointsLot.remaining)
            .where(PointsLot.member_id == member_id)
            .order_by(PointsLot.id),
        )
    ]


def entries(db, member_id, kind=None) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.member_id == member_id)
    if kind:
        query = query.where(LedgerEntry.kind == kind)
    return [row[0] for row in read(db, query.order_by(LedgerEntry.id))]


def member(db, member_id) -> Member:
    return read(db, select(Member).where(Member.id == member_id))[0][0]


def assert_books_balance(db, member_id) -> int:
    """The cached balance equals the sum of the ledger and the sum of the lots' remainders."""
    cached = balance(db, member_id)
    ledger_sum = read(
        db,
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.member_id == member_id
        ),
    )[0][0]
    lot_sum = read(
        db,
        select(func.coalesce(func.sum(PointsLot.remaining), 0)).where(
            PointsLot.member_id == member_id
        ),
    )[0][0]
    assert cached == ledger_sum == lot_sum
    return cached


# -- earning for a purchase ---------------------------------------------------------------


def test_a_purchase_earns_points_at_the_members_tier_multiplier(db, config):
    silver, gold = join(db, config), join(db, config, tier="gold")

    buy(db, config, silver, "A-1", "100")
    buy(db, config, gold, "A-2", "100")

    assert balance(db, silver) == 100
    assert balance(db, gold) == 120
    purchase = entries(db, gold, "purchase")[0]
    assert (purchase.points, purchase.order_id, purchase.qualifying) == (120, "A-2", True)
    assert_books_balance(db, gold)


def test_a_purchase_lot_expires_at_the_end_of_the_twelfth_month_after(db, config):
    someone = join(db, config)

    buy(db, config, someone, "A-1", "100")

    expiry = read(db, select(PointsLot.expires_at).where(PointsLot.member_id == someone))[0][0]
    assert expiry == datetime(2027, 4, 1, tzinfo=SHANGHAI)


def test_a_purchase_earns_once_per_order_number(db, config):
    someone = join(db, config)

    first = buy(db, config, someone, "A-1", "100")
    again = buy(db, config, someone, "A-1", "100")

    assert (first.created, again.created) == (True, False)
    assert again.entry.id == first.entry.id
    assert balance(db, someone) == 100
    assert len(entries(db, someone)) == 1


def test_an_order_number_kept_in_lower_case_before_is_found_in_any_case(db, config):
    someone = join(db, config)
    buy(db, config, someone, "a-1", "100")  # written before order numbers were upper-cased
    claw(db, config, "a-1", "R-1", "40")

    again = buy(db, config, someone, "A-1", "100")
    refund_again = claw(db, config, "A-1", "R-1", "40")

    assert (again.created, refund_again.created) == (False, False)
    assert balance(db, someone) == 60
    assert len(entries(db, someone)) == 2


def test_a_purchase_of_an_amount_that_is_not_a_sane_positive_number_is_refused(db, config):
    someone = join(db, config)

    for n, amount in enumerate(["0", "-5", "NaN", "Infinity", "1e30"]):
        refused("bad_amount", buy, db, config, someone, f"A-{n}", amount)

    assert entries(db, someone) == []


def test_a_purchase_for_an_unknown_member_is_refused(db, config):
    refused("unknown_member", buy, db, config, 999_999, "A-1", "100")


# -- earning for an action ----------------------------------------------------------------


def test_a_new_member_gets_the_welcome_bonus_once(db, config):
    someone = join(db, config, welcome=True)

    again = post(
        db,
        config,
        T0,
        lambda ledger: ledger.earn_bonus(
            someone, "welcome", f"welcome:{someone}", 100, reason="welcome bonus", actor="system"
        ),
    )

    assert again.created is False
    assert balance(db, someone) == config.points.welcome_bonus == 100
    assert_books_balance(db, someone)


def test_the_birthday_gift_is_given_once_a_year(db, config):
    someone = join(db, config)

    def birthday(year):
        return post(
            db,
            config,
            T0.replace(year=year),
            lambda ledger: ledger.earn_bonus(
                someone,
                "birthday",
                f"birthday:{someone}:{year}",
                200,
                reason="birthday",
                actor="system",
            ),
        )

    assert [birthday(2026).created, birthday(2026).created, birthday(2027).created] == [
        True,
        False,
        True,
    ]
    assert balance(db, someone) == 400


def test_a_referrer_earns_double_points_on_the_referred_members_first_purchase(db, config):
    referrer = join(db, config, name="Referrer")
    newcomer = join(db, config, name="Newcomer", referrer=referrer)

    buy(db, config, newcomer, "A-1", "150")
    buy(db, config, newcomer, "A-2", "500", at=T0 + timedelta(days=3))

    assert balance(db, newcomer) == 650
    referral = entries(db, referrer, "referral")
    assert [e.points for e in referral] == [int(150 * config.points.referral_multiplier)] == [300]
    assert balance(db, referrer) == 300
    assert_books_balance(db, referrer)


def test_a_member_with_no_referrer_earns_no_referral_points_for_anyone(db, config):
    someone, other = join(db, config), join(db, config)

    buy(db, config, someone, "A-1", "150")

    assert entries(db, other) == []
    assert [e.kind for e in entries(db, someone)] == ["purchase"]


def test_compensation_is_given_once_per_ticket(db, config):
    someone = join(db, config)

    def compensate(ticket):
        return post(
            db,
            config,
            T0,
            lambda ledger: ledger.earn_bonus(
                someone,
                "compensation",
                f"compensation:{ticket}",
                50,
                reason="late delivery",
                actor="agent:li",
            ),
        )

    assert [compensate("T-1").created, compensate("T-1").created, compensate("T-2").created] == [
        True,
        False,
        True,
    ]
    assert balance(db, someone) == 100
    assert [e.actor for e in entries(db, someone)] == ["agent:li", "agent:li"]


def test_a_bonus_of_an_unknown_kind_or_of_no_points_is_refused(db, config):
    someone = join(db, config)

    def bonus(kind, points):
        return post(
            db,
            config,
            T0,
            lambda ledger: ledger.earn_bonus(
                someone, kind, f"{kind}:{points}", points, reason="test", actor="test"
            ),
        )

    refused("bad_kind", bonus, "lottery", 100)
    refused("bad_points", bonus, "birthday", 0)
    assert entries(db, someone) == []


# -- redeeming ----------------------------------------------------------------------------


def test_redeeming_spends_the_cost_and_issues_a_voucher_code(db, config):
    someone = join(db, config)
    give(db, config, someone, 500)
    add_benefit(db, "coffee", cost=200)

    done = spend_on(db, config, someone, "coffee", quantity=2)

    assert done.created is True
    assert balance(db, someone) == 100
    assert done.redemption.points == 400
    assert len(done.vouchers) == 2
    for voucher in done.vouchers:
        assert voucher.status == "active"
        # valid through the 30th day after the day of issue, to its end (local midnight)
        assert voucher.expires_at == datetime(2026, 4, 10, tzinfo=SHANGHAI)
        assert len(voucher.code) == 11 and voucher.code[5] == "-"
        assert set(voucher.code.replace("-", "")) <= set(CODE_ALPHABET)
    assert done.vouchers[0].code != done.vouchers[1].code
    assert_books_balance(db, someone)


def test_a_benefit_may_set_its_own_voucher_validity(db, config):
    someone = join(db, config)
    give(db, config, someone, 500)
    add_benefit(db, "cake", cost=100, days=3)

    done = spend_on(db, config, someone, "cake")

    assert done.vouchers[0].expires_at == datetime(2026, 3, 14, tzinfo=SHANGHAI)


def test_redeeming_spends_the_lots_that_expire_first(db, config):
    someone = join(db, config)
    give(db, config, someone, 200, valid_until=(T0 + timedelta(days=90)).date())
    give(db, config, someone, 200, valid_until=(T0 + timedelta(days=10)).date())
    give(db, config, someone, 200, valid_until=(T0 + timedelta(days=40)).date())
    add_benefit(db, "coffee", cost=250)

    spend_on(db, config, someone, "coffee")

    assert lots(db, someone) == [(200, 200), (200, 0), (200, 150)]
    assert_books_balance(db, someone)


def test_a_double_tap_redeems_once(db, config):
    someone = join(db, config)
    give(db, config, someone, 1000)
    add_benefit(db, "lounge", cost=200, stock=5)

    first = spend_on(db, config, someone, "lounge", key="tap-1")
    again = spend_on(db, config, someone, "lounge", key="tap-1")

    assert (first.created, again.created) == (True, False)
    assert again.redemption.id == first.redemption.id
    assert [v.code for v in again.vouchers] == [v.code for v in first.vouchers]
    assert balance(db, someone) == 800
    assert read(db, select(Benefit.stock))[0][0] == 4
    assert len(read(db, select(Voucher.id))) == 1


def test_a_benefit_for_higher_tiers_is_refused_to_a_silver_member(db, config):
    someone = join(db, config)
    give(db, config, someone, 5000)
    add_benefit(db, "cake", cost=1000, tiers=["gold", "platinum", "diamond"])

    error = refused("not_eligible", spend_on, db, config, someone, "cake")

    assert error.details["tier"] == "silver"
    assert balance(db, someone) == 5000


def test_a_benefit_out_of_stock_is_refused(db, config):
    first, second = join(db, config), join(db, config)
    for someone in (first, second):
        give(db, config, someone, 1000)
    add_benefit(db, "lounge", cost=200, stock=1)

    spend_on(db, config, first, "lounge")
    refused("out_of_stock", spend_on, db, config, second, "lounge", key="tap-2")

    assert read(db, select(Benefit.stock))[0][0] == 0
    assert balance(db, second) == 1000


def test_the_per_member_limit_caps_redemptions_in_a_calendar_month(db, config):
    someone = join(db, config)
    give(db, config, someone, 5000)
    add_benefit(db, "coffee", cost=100, limit=2)

    spend_on(db, config, someone, key="tap-1", at=T0)
    spend_on(db, config, someone, key="tap-2", at=T0 + timedelta(days=1))
    error = refused(
        "limit_reached", spend_on, db, config, someone, key="tap-3", at=T0 + timedelta(days=2)
    )
    next_month = spend_on(db, config, someone, key="tap-4", at=T0 + timedelta(days=25))

    assert error.details == {"limit": 2, "used": 2}
    assert next_month.created
    assert balance(db, someone) == 4700


def test_the_default_per_member_limit_applies_when_a_benefit_sets_none(db, config):
    someone = join(db, config)
    give(db, config, someone, 5000)
    add_benefit(db, "coffee", cost=100, limit=None)

    refused(
        "limit_reached",
        spend_on,
        db,
        config,
        someone,
        quantity=config.benefits.per_member_limit + 1,
    )


def test_redeeming_more_than_the_balance_is_refused_and_changes_nothing(db, config):
    someone = join(db, config)
    give(db, config, someone, 150)
    add_benefit(db, "lounge", cost=200, stock=3)

    error = refused("insufficient_points", spend_on, db, config, someone, "lounge")

    assert error.details == {"needed": 200, "balance": 150}
    assert balance(db, someone) == 150
    assert read(db, select(Benefit.stock))[0][0] == 3
    assert read(db, select(Redemption.id)) == []
    assert [e.kind for e in entries(db, someone)] == ["opening"]


def test_redeeming_an_unknown_or_inactive_benefit_is_refused(db, config):
    someone = join(db, config)
    give(db, config, someone, 1000)
    add_benefit(db, "retired", cost=100)
    with db.unit_of_work() as session:
        session.execute(text("UPDATE benefits SET active = :no"), {"no": False})
        session.commit()

    refused("unknown_benefit", spend_on, db, config, someone, "nonexistent")
    refused("unknown_benefit", spend_on, db, config, someone, "retired")


def test_redeeming_a_quantity_below_one_is_refused(db, config):
    someone = join(db, config)
    add_benefit(db, "coffee", cost=100)

    refused("bad_quantity", spend_on, db, config, someone, quantity=0)


# -- reversing a redemption ---------------------------------------------------------------


def reverse(db, config, redemption_id, at=T0 + timedelta(hours=1)):
    return post(
        db,
        config,
        at,
        lambda ledger: reverse_redemption(
            ledger, redemption_id, actor="agent:li", reason="wrong item"
        ),
    )


def test_reversing_a_redemption_returns_points_to_the_same_lots_restocks_and_voids(db, config):
    someone = join(db, config)
    give(db, config, someone, 200, valid_until=(T0 + timedelta(days=90)).date())
    give(db, config, someone, 200, valid_until=(T0 + timedelta(days=10)).date())
    add_benefit(db, "lounge", cost=250, stock=2)
    done = spend_on(db, config, someone, "lounge")

    reversed_ = reverse(db, config, done.redemption.id)

    assert reversed_.status == "reversed"
    assert lots(db, someone) == [(200, 200), (200, 200)]
    assert balance(db, someone) == 400
    assert read(db, select(Benefit.stock))[0][0] == 2
    assert {row[0] for row in read(db, select(Voucher.status))} == {"void"}
    back = entries(db, someone, "reverse")[0]
    assert (back.points, back.actor, back.reason) == (250, "agent:li", "wrong item")
    assert_books_balance(db, someone)


def test_reversing_a_redemption_twice_is_harmless(db, config):
    someone = join(db, config)
    give(db, config, someone, 500)
    add_benefit(db, "coffee", cost=200, stock=10)
    done = spend_on(db, config, someone)

    reverse(db, config, done.redemption.id)
    reverse(db, config, done.redemption.id)

    assert balance(db, someone) == 500
    assert read(db, select(Benefit.stock))[0][0] == 10
    assert len(entries(db, someone, "reverse")) == 1
    assert_books_balance(db, someone)


def test_a_redemption_whose_voucher_was_used_cannot_be_reversed(db, config):
    someone = join(db, config)
    give(db, config, someone, 500)
    add_benefit(db, "coffee", cost=200)
    done = spend_on(db, config, someone)
    with db.unit_of_work() as session:
        session.execute(text("UPDATE vouchers SET status = 'used'"))
        session.commit()

    refused("voucher_used", reverse, db, config, done.redemption.id)
    assert balance(db, someone) == 300


def test_points_returned_to_a_lot_that_has_since_expired_expire_again(db, config):
    someone = join(db, config)
    give(db, config, someone, 300, valid_until=(T0 + timedelta(days=10)).date())
    add_benefit(db, "coffee", cost=200)
    done = spend_on(db, config, someone)
    later = T0 + timedelta(days=20)
    post(db, config, later, lambda ledger: ledger.expire_lots(someone))

    reverse(db, config, done.redemption.id, at=later)

    assert balance(db, someone) == 0
    assert [e.points for e in entries(db, someone, "expire")] == [-100, -200]
    assert expire(db, config, someone, later) == 0
    assert lots(db, someone) == [(300, 0)]
    assert_books_balance(db, someone)


def test_reversing_an_unknown_redemption_is_refused(db, config):
    refused("unknown_redemption", reverse, db, config, 999_999)


# -- clawing back a refunded purchase -----------------------------------------------------


def claw(db, config, order_id, refund_id, amount, at=T0 + timedelta(days=1)):
    return post(
        db,
        config,
        at,
        lambda ledger: ledger.clawback(order_id, refund_id, Decimal(amount), actor="pos"),
    )


def test_a_full_refund_claws_back_every_point_the_purchase_earned(db, config):
    someone = join(db, config, tier="gold")
    buy(db, config, someone, "A-1", "100")

    claw(db, config, "A-1", "R-1", "100")

    assert [e.points for e in entries(db, someone, "clawback")] == [-120]
    assert balance(db, someone) == 0
    assert_books_balance(db, someone)


def test_partial_refunds_add_up_and_refunding_more_than_was_bought_is_refused(db, config):
    someone = join(db, config)
    give(db, config, someone, 500)
    buy(db, config, someone, "A-1", "100")

    claw(db, config, "A-1", "R-1", "30")
    claw(db, config, "A-1", "R-2", "50")
    refused("over_refund", claw, db, config, "A-1", "R-3", "40")
    claw(db, config, "A-1", "R-4", "20")

    assert [e.points for e in entries(db, someone, "clawback")] == [-30, -50, -20]
    assert balance(db, someone) == 500
    assert_books_balance(db, someone)


def test_a_refund_without_an_amount_refunds_the_rest_of_the_order(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "100")
    claw(db, config, "A-1", "R-1", "25")

    rest = post(db, config, T0, lambda ledger: ledger.clawback("A-1", "R-2", None, actor="pos"))

    assert (rest.entry.points, rest.entry.amount) == (-75, 75)
    assert balance(db, someone) == 0
    refused("over_refund", claw, db, config, "A-1", "R-3", "0.01")


def test_a_clawback_draws_the_refunded_purchases_own_lot_first(db, config):
    someone = join(db, config)
    give(db, config, someone, 500, valid_until=(T0 + timedelta(days=5)).date())
    buy(db, config, someone, "A-1", "100")

    claw(db, config, "A-1", "R-1", "100")

    assert lots(db, someone) == [(500, 500), (100, 0)]


def test_rerunning_a_clawback_with_the_same_refund_id_is_harmless(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "100")

    first = claw(db, config, "A-1", "R-1", "40")
    again = claw(db, config, "A-1", "R-1", "40")

    assert (first.created, again.created) == (True, False)
    assert balance(db, someone) == 60
    assert len(entries(db, someone, "clawback")) == 1


def test_a_clawback_takes_only_what_is_left_when_the_points_were_spent(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "300")
    add_benefit(db, "coffee", cost=200)
    spend_on(db, config, someone)

    claw(db, config, "A-1", "R-1", "300")

    clawback = entries(db, someone, "clawback")[0]
    assert clawback.points == -100
    assert "due 300, taken 100" in clawback.reason
    assert clawback.debt == 200
    assert balance(db, someone) == 0
    assert_books_balance(db, someone)


def in_debt(db, config) -> int:
    """A member who spent 200 of a 300-point purchase that was then refunded: 200 owed."""
    someone = join(db, config)
    buy(db, config, someone, "A-1", "300")
    add_benefit(db, "coffee", cost=200)
    spend_on(db, config, someone)
    claw(db, config, "A-1", "R-1", "300")
    return someone


def owed(db, member_id) -> int:
    return read(db, select(PointsAccount.debt).where(PointsAccount.member_id == member_id))[0][0]


def test_later_earnings_repay_the_debt_first(db, config):
    someone = in_debt(db, config)

    buy(db, config, someone, "A-2", "150")
    assert (balance(db, someone), owed(db, someone)) == (0, 50)
    buy(db, config, someone, "A-3", "80")

    assert (balance(db, someone), owed(db, someone)) == (30, 0)
    assert [(e.points, e.debt) for e in entries(db, someone, "repay")] == [(-150, -150), (-50, -50)]
    assert lots(db, someone)[-1] == (80, 30)
    assert_books_balance(db, someone)


def test_redemptions_wait_until_the_debt_is_repaid(db, config):
    someone = in_debt(db, config)
    spent = read(db, select(Redemption.id))[0][0]
    reverse(db, config, spent)  # the 200 points come back; the debt stays
    assert (balance(db, someone), owed(db, someone)) == (200, 200)

    refused("debt_outstanding", spend_on, db, config, someone, key="tap-2")
    give(db, config, someone, 200, key="gift")

    assert (balance(db, someone), owed(db, someone)) == (200, 0)
    assert spend_on(db, config, someone, key="tap-3").created
    assert_books_balance(db, someone)


def test_a_clawback_for_an_unknown_order_is_refused(db, config):
    refused("unknown_order", claw, db, config, "NOPE", "R-1", "10")


def test_a_clawback_lowers_the_points_that_count_towards_the_tier_but_never_downgrades(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "2500")
    assert member(db, someone).tier == "gold"

    claw(db, config, "A-1", "R-1", "2500")

    earned = post(
        db, config, T0, lambda ledger: ledger.earned_last_year(someone, T0 + timedelta(days=2))
    )
    assert earned == 0
    assert member(db, someone).tier == "gold"


# -- expiry -------------------------------------------------------------------------------


def expire(db, config, member_id, at):
    return post(db, config, at, lambda ledger: ledger.expire_lots(member_id))


def test_a_lot_past_its_date_expires_in_an_entry_of_its_own(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "100")
    due = datetime(2027, 4, 1, tzinfo=SHANGHAI)

    expired = expire(db, config, someone, due + timedelta(days=1))

    assert expired == 1
    entry = entries(db, someone, "expire")[0]
    assert (entry.points, entry.created_at, entry.actor) == (-100, due, "system")
    assert balance(db, someone) == 0
    assert_books_balance(db, someone)


def test_a_lot_not_yet_due_is_left_alone(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "100")

    expired = expire(db, config, someone, datetime(2027, 3, 31, 23, 59, 59, tzinfo=SHANGHAI))

    assert expired == 0
    assert balance(db, someone) == 100


def test_a_lot_expiring_exactly_now_expires_now(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "100")

    expired = expire(db, config, someone, datetime(2027, 4, 1, tzinfo=SHANGHAI))

    assert expired == 1
    assert balance(db, someone) == 0


def test_only_the_remaining_points_of_a_partly_spent_lot_expire(db, config):
    someone = join(db, config)
    give(db, config, someone, 500, valid_until=(T0 + timedelta(days=30)).date())
    add_benefit(db, "coffee", cost=200)
    spend_on(db, config, someone)

    expire(db, config, someone, T0 + timedelta(days=31))

    assert [e.points for e in entries(db, someone, "expire")] == [-300]
    assert lots(db, someone) == [(500, 0)]
    assert balance(db, someone) == 0
    assert_books_balance(db, someone)


def test_a_lot_with_no_expiry_never_expires(db, config):
    forever = config.model_copy(
        update={"points": config.points.model_copy(update={"expiry_months": None})}
    )
    someone = join(db, forever)
    buy(db, forever, someone, "A-1", "100")

    expired = expire(db, forever, someone, datetime(2099, 1, 1, tzinfo=SHANGHAI))

    assert expired == 0
    assert balance(db, someone) == 100
    assert read(db, select(PointsLot.expires_at))[0][0] is None


def test_rerunning_the_expiry_changes_nothing(db, config):
    someone = join(db, config)
    give(db, config, someone, 100, valid_until=(T0 + timedelta(days=1)).date())
    give(db, config, someone, 50, valid_until=(T0 + timedelta(days=2)).date())
    later = T0 + timedelta(days=3)

    assert expire(db, config, someone, later) == 2
    assert expire(db, config, someone, later) == 0
    assert expire(db, config, someone, later + timedelta(days=1)) == 0

    assert [e.points for e in entries(db, someone, "expire")] == [-100, -50]
    assert balance(db, someone) == 0


def test_expired_points_cannot_be_spent_even_before_the_expiry_job_ran(db, config):
    someone = join(db, config)
    give(db, config, someone, 200, valid_until=(T0 + timedelta(days=1)).date())
    give(db, config, someone, 100, valid_until=(T0 + timedelta(days=90)).date())
    add_benefit(db, "coffee", cost=200)
    assert balance(db, someone) == 300

    error = refused("insufficient_points", spend_on, db, config, someone, at=T0 + timedelta(days=2))

    assert error.details["balance"] == 100
    assert [e.kind for e in entries(db, someone)] == ["opening", "opening"]


# -- manual adjustment --------------------------------------------------------------------


def adjust(db, config, member_id, points, key, reason="goodwill", actor="staff:wang"):
    return post(db, config, T0, lambda ledger: ledger.adjust(member_id, points, actor, reason, key))


def test_a_manual_adjustment_records_who_made_it_and_why(db, config):
    someone = join(db, config)

    adjust(db, config, someone, 50, "case-1", reason="missing points of order A-1")

    entry = entries(db, someone, "adjust")[0]
    assert (entry.points, entry.actor, entry.reason) == (
        50,
        "staff:wang",
        "missing points of order A-1",
    )
    assert balance(db, someone) == 50
    assert_books_balance(db, someone)


def test_a_negative_adjustment_draws_lots_but_cannot_exceed_the_balance(db, config):
    someone = join(db, config)
    give(db, config, someone, 100)

    error = refused("insufficient_points", adjust, db, config, someone, -101, "case-1")
    adjust(db, config, someone, -30, "case-2")

    assert error.details == {"needed": 101, "balance": 100}
    assert balance(db, someone) == 70
    assert lots(db, someone) == [(100, 70)]


def test_a_manual_adjustment_is_recorded_once_per_key(db, config):
    someone = join(db, config)

    adjust(db, config, someone, 50, "case-1")
    again = adjust(db, config, someone, 50, "case-1")

    assert again.created is False
    assert balance(db, someone) == 50


def test_a_manual_adjustment_needs_a_reason_and_a_change(db, config):
    someone = join(db, config)

    refused("no_reason", adjust, db, config, someone, 50, "case-1", reason="  ")
    refused("bad_points", adjust, db, config, someone, 0, "case-2")
    assert entries(db, someone) == []


# -- what the database itself refuses -----------------------------------------------------


def test_the_database_refuses_a_negative_balance(db, config):
    someone = join(db, config)

    with db.unit_of_work() as session, pytest.raises(IntegrityError):
        session.execute(
            text("UPDATE points_accounts SET balance = -1 WHERE member_id = :m"), {"m": someone}
        )
        session.flush()

    assert balance(db, someone) == 0


def test_the_database_refuses_a_lot_with_negative_remaining_points(db, config):
    someone = join(db, config)
    give(db, config, someone, 100)

    with db.unit_of_work() as session, pytest.raises(IntegrityError):
        session.execute(text("UPDATE points_lots SET remaining = -1"))

    assert lots(db, someone) == [(100, 100)]


def test_the_cached_balance_equals_the_ledger_and_the_lots_after_every_operation(db, config):
    referrer = join(db, config, welcome=True)
    someone = join(db, config, welcome=True, referrer=referrer)
    add_benefit(db, "coffee", cost=200, stock=10)
    later = T0 + timedelta(days=400)
    steps = [
        lambda: buy(db, config, someone, "A-1", "1800"),
        lambda: give(db, config, someone, 300, valid_until=(T0 + timedelta(days=5)).date()),
        lambda: spend_on(db, config, someone, key="tap-1", quantity=2),
        lambda: post(
            db,
            config,
            T0,
            lambda ledger: ledger.earn_bonus(
                someone, "compensation", "compensation:T-1", 80, reason="late", actor="agent"
            ),
        ),
        lambda: claw(db, config, "A-1", "R-1", "600"),
        lambda: adjust(db, config, someone, -25, "case-1"),
        lambda: reverse(db, config, spend_on(db, config, someone, key="tap-2").redemption.id),
        lambda: expire(db, config, someone, T0 + timedelta(days=6)),
        lambda: buy(db, config, someone, "A-2", "900", at=T0 + timedelta(days=7)),
        lambda: expire(db, config, someone, later),
    ]

    for step in steps:
        step()
        assert_books_balance(db, someone)
        assert_books_balance(db, referrer)

    assert balance(db, someone) == 0
    assert balance(db, referrer) == 100 + 3600


# -- tiers --------------------------------------------------------------------------------


def test_a_member_is_upgraded_as_soon_as_trailing_earnings_cross_a_threshold(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "1500")
    assert member(db, someone).tier == "silver"

    upgraded_at = T0 + timedelta(days=30)
    buy(db, config, someone, "A-2", "600", at=upgraded_at)

    assert (member(db, someone).tier, member(db, someone).tier_since) == ("gold", upgraded_at)
    buy(db, config, someone, "A-3", "100", at=upgraded_at + timedelta(days=1))
    assert entries(db, someone, "purchase")[-1].points == 120


def test_points_earned_more_than_twelve_months_ago_do_not_count_towards_an_upgrade(db, config):
    someone = join(db, config, at=T0 - timedelta(days=500))
    buy(db, config, someone, "A-1", "1500", at=T0 - timedelta(days=400))

    buy(db, config, someone, "A-2", "600")

    assert member(db, someone).tier == "silver"


def test_a_referral_counts_towards_the_referrers_tier(db, config):
    referrer = join(db, config)
    newcomer = join(db, config, referrer=referrer)

    buy(db, config, newcomer, "A-1", "1000")

    assert member(db, referrer).tier == "gold"


def test_bonus_points_other_than_referrals_do_not_count_towards_the_tier(db, config):
    someone = join(db, config)

    post(
        db,
        config,
        T0,
        lambda ledger: ledger.earn_bonus(
            someone, "compensation", "compensation:T-1", 5000, reason="big", actor="supervisor"
        ),
    )

    assert member(db, someone).tier == "silver"


def test_spending_points_never_downgrades_because_the_tier_ignores_the_balance(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "2000")
    add_benefit(db, "coffee", cost=2000)

    spend_on(db, config, someone)
    buy(db, config, someone, "A-2", "1", at=T0 + timedelta(days=1))

    assert balance(db, someone) == 1
    assert member(db, someone).tier == "gold"


def test_the_yearly_evaluation_downgrades_a_member_who_earned_too_little(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "2500")
    buy(db, config, someone, "A-2", "100", at=T0 + timedelta(days=300))
    evaluation = datetime(2028, 1, 1, tzinfo=SHANGHAI)

    tier = post(db, config, evaluation, lambda ledger: ledger.evaluate_tier(someone))

    assert tier == "silver"
    assert (member(db, someone).tier, member(db, someone).tier_since) == ("silver", evaluation)


def test_the_yearly_evaluation_keeps_a_member_who_earned_enough(db, config):
    someone = join(db, config)
    buy(db, config, someone, "A-1", "2500")
    upgraded = member(db, someone).tier_since

    tier = post(
        db,
        config,
        datetime(2027, 1, 1, tzinfo=SHANGHAI),
        lambda ledger: ledger.evaluate_tier(someone),
    )

    assert tier == "gold"
    assert member(db, someone).tier_since == upgraded


def test_a_bonus_granted_in_bulk_lands_once_per_key_and_keeps_the_books(db, config):
    first, second = join(db, config), join(db, config)
    give(db, config, first, 300)
    grants = {first: f"birthday:{first}:2026", second: f"birthday:{second}:2026"}

    made = post(
        db,
        config,
        T0,
        lambda ledger: ledger.earn_bonuses("birthday", grants, 200, "gift", "scheduler", T0),
    )
    again = post(
        db,
        config,
        T0,
        lambda ledger: ledger.earn_bonuses("birthday", grants, 200, "gift", "scheduler", T0),
    )

    assert (made, again) == (2, 0)
    assert (assert_books_balance(db, first), assert_books_balance(db, second)) == (500, 200)


def test_a_referral_bonus_cannot_be_granted_in_bulk(db, config):
    someone = join(db, config)
    with db.unit_of_work() as session:
        refused(
            "bad_kind",
            Ledger(session, config).earn_bonuses,
            "referral",
            {someone: "referral:x"},
            100,
            "no",
            "test",
            T0,
        )
