"""Points rules: what an earning is worth, when a lot expires, which lots a spending draws,
and how much a refund takes back."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.points import OpenLot, allocate, clawback_points, lot_expiry, purchase_points

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*parts, zone=SHANGHAI) -> datetime:
    return datetime(*parts, tzinfo=zone)


def with_points(config, **changes):
    return config.model_copy(update={"points": config.points.model_copy(update=changes)})


# -- purchase_points ---------------------------------------------------------------------


@pytest.mark.parametrize(("multiplier", "points"), [(1.0, 100), (1.2, 120), (1.5, 150), (2.0, 200)])
def test_a_purchase_earns_one_point_per_yuan_times_the_tier_multiplier(config, multiplier, points):
    assert purchase_points(Decimal("100"), multiplier, config) == points


@pytest.mark.parametrize(
    ("amount", "multiplier", "points"),
    [("99.99", 1.0, 99), ("234", 1.2, 280), ("0.99", 1.0, 0), ("10.10", 1.2, 12)],
)
def test_purchase_points_are_rounded_down_to_whole_points(config, amount, multiplier, points):
    assert purchase_points(Decimal(amount), multiplier, config) == points


def test_purchase_points_are_exact_where_floating_point_would_lose_a_point(config):
    # 100 * 1.15 is 114.99999999999999 in binary floating point.
    assert purchase_points(Decimal("100"), 1.15, config) == 115


def test_the_points_per_yuan_come_from_the_configuration(config):
    assert purchase_points(Decimal("100"), 1.0, with_points(config, per_yuan=0.5)) == 50


# -- lot_expiry --------------------------------------------------------------------------


def test_a_lot_expires_at_the_end_of_the_twelfth_month_after_it_was_earned(config):
    assert lot_expiry(at(2026, 3, 10, 10, 0), config) == at(2027, 4, 1)


def test_a_lot_earned_on_the_first_moment_of_a_month_expires_with_that_month(config):
    assert lot_expiry(at(2026, 3, 1, 0, 0), config) == at(2027, 4, 1)


def test_a_lot_earned_in_december_expires_at_the_turn_of_the_year_after_next(config):
    assert lot_expiry(at(2026, 12, 31, 23, 59), config) == at(2028, 1, 1)


def test_a_short_expiry_period_crosses_the_year_boundary(config):
    assert lot_expiry(at(2026, 11, 20), with_points(config, expiry_months=1)) == at(2027, 1, 1)


def test_the_month_of_earning_is_the_month_in_shanghai_not_in_utc(config):
    # 16:30 UTC on 31 January is 00:30 on 1 February in Shanghai.
    earned = at(2026, 1, 31, 16, 30, zone=UTC)

    expiry = lot_expiry(earned, config)

    assert expiry == at(2027, 3, 1)
    assert expiry.utcoffset().total_seconds() == 8 * 3600


def test_a_lot_never_expires_when_no_expiry_is_configured(config):
    assert lot_expiry(at(2026, 3, 10), with_points(config, expiry_months=None)) is None


# -- allocate ----------------------------------------------------------------------------


JANUARY = at(2026, 1, 1)


def lot(lot_id, remaining, expires, earned=JANUARY) -> OpenLot:
    return OpenLot(lot_id, remaining, expires, earned)


def test_spending_draws_the_lot_that_expires_first_first():
    lots = [lot(1, 100, at(2027, 6, 1)), lot(2, 100, at(2027, 2, 1)), lot(3, 100, at(2027, 4, 1))]

    assert allocate(lots, 150) == [(2, 100), (3, 50)]


def test_lots_that_never_expire_are_spent_last():
    lots = [lot(1, 100, None), lot(2, 100, at(2030, 1, 1))]

    assert allocate(lots, 150) == [(2, 100), (1, 50)]


def test_lots_expiring_together_are_spent_oldest_first():
    lots = [
        lot(1, 100, at(2027, 4, 1), earned=at(2026, 3, 20)),
        lot(2, 100, at(2027, 4, 1), earned=at(2026, 3, 5)),
    ]

    assert allocate(lots, 120) == [(2, 100), (1, 20)]


def test_a_preferred_lot_is_drawn_before_all_others():
    lots = [lot(1, 100, at(2027, 2, 1)), lot(2, 100, at(2027, 6, 1))]

    assert allocate(lots, 150, first=2) == [(2, 100), (1, 50)]


def test_a_spending_that_the_lots_cannot_cover_raises_and_plans_nothing():
    with pytest.raises(ValueError, match="150 needed"):
        allocate([lot(1, 100, at(2027, 2, 1)), lot(2, 20, None)], 150)


def test_spending_nothing_draws_nothing():
    assert allocate([lot(1, 100, at(2027, 2, 1))], 0) == []


# -- clawback_points ---------------------------------------------------------------------


def test_a_full_refund_takes_back_every_point_earned():
    assert clawback_points(120, 0, Decimal("100"), Decimal("100")) == 120


def test_a_partial_refund_takes_back_points_in_proportion():
    assert clawback_points(120, 0, Decimal("30"), Decimal("100")) == 36


def test_a_refund_above_the_order_amount_takes_back_no_more_than_was_earned():
    assert clawback_points(120, 0, Decimal("500"), Decimal("100")) == 120


def test_partial_refunds_together_never_take_back_more_than_was_earned():
    taken = 0
    for refund in ("40", "40", "40"):
        taken += clawback_points(100, taken, Decimal(refund), Decimal("100"))

    assert taken == 100


def test_refunds_in_thirds_take_back_all_points_without_leaving_a_remainder():
    taken = 0
    for _ in range(3):
        taken += clawback_points(100, taken, Decimal("1"), Decimal("3"))

    assert taken == 100


def test_nothing_is_taken_back_for_an_order_of_no_amount():
    assert clawback_points(0, 0, Decimal("10"), Decimal("0")) == 0
