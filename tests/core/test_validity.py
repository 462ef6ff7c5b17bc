"""One definition of "expires on day D", at midnight boundaries in two time zones, and
the renewal rule, as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import membership
from core.points import lot_expiry
from core.validity import end_of_day, last_day, valid_on

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")


def test_a_lot_expiring_at_1_june_midnight_shanghai_is_valid_until_31_may():
    expires = datetime(2026, 6, 1, tzinfo=SHANGHAI)

    assert last_day(expires, SHANGHAI) == date(2026, 5, 31)
    assert valid_on(expires, datetime(2026, 5, 31, 23, 59, 59, tzinfo=SHANGHAI))
    assert not valid_on(expires, datetime(2026, 6, 1, 0, 0, tzinfo=SHANGHAI))


@pytest.mark.parametrize("zone", [SHANGHAI, LONDON])
def test_the_end_of_a_day_is_the_next_local_midnight_and_names_that_day(zone):
    ends = end_of_day(date(2026, 3, 28), zone)

    assert ends == datetime(2026, 3, 29, tzinfo=zone)
    assert last_day(ends, zone) == date(2026, 3, 28)


def test_a_london_day_that_ends_in_a_clock_change_still_names_itself():
    # 29 March 2026: the clocks go forward at 01:00 in London
    ends = end_of_day(date(2026, 3, 29), LONDON)

    assert last_day(ends, LONDON) == date(2026, 3, 29)
    day_before = end_of_day(date(2026, 3, 28), LONDON)
    assert ends.astimezone(UTC) - day_before.astimezone(UTC) == timedelta(hours=23)


def test_a_lot_earned_in_march_expires_at_the_end_of_march_next_year_in_the_members_zone(
    config,
):
    earned = datetime(2026, 3, 31, 23, 30, tzinfo=SHANGHAI)  # still 31 March 16:30 in London

    in_shanghai = lot_expiry(earned, config, SHANGHAI)
    in_london = lot_expiry(earned, config, LONDON)

    assert in_shanghai == datetime(2027, 4, 1, tzinfo=SHANGHAI)
    assert last_day(in_shanghai, SHANGHAI) == date(2027, 3, 31)
    assert in_london == datetime(2027, 4, 1, tzinfo=LONDON)
    assert last_day(in_london, LONDON) == date(2027, 3, 31)


def test_a_lot_earned_just_after_midnight_shanghai_belongs_to_the_new_month_there(config):
    earned = datetime(2026, 4, 1, 0, 0, tzinfo=SHANGHAI)  # 31 March 17:00 in London

    assert last_day(lot_expiry(earned, config, SHANGHAI), SHANGHAI) == date(2027, 4, 30)
    assert last_day(lot_expiry(earned, config, LONDON), LONDON) == date(2027, 3, 31)


def test_a_purchase_extends_an_active_membership_from_its_expiry(config):
    assert membership.renewed(date(2026, 9, 20), date(2026, 3, 1), config) == date(2027, 9, 20)


def test_a_lapsed_member_who_buys_is_renewed_from_the_purchase_day(config):
    assert membership.renewed(date(2025, 9, 20), date(2026, 3, 1), config) == date(2027, 3, 1)


def test_renewing_from_the_purchase_day_never_shortens_a_membership(config):
    rule = config.model_copy(
        update={"membership": config.membership.model_copy(update={"renewal": "from_purchase"})}
    )

    assert membership.renewed(date(2026, 9, 20), date(2026, 3, 1), rule) == date(2027, 3, 1)
    assert membership.renewed(date(2028, 1, 1), date(2026, 3, 1), rule) == date(2028, 1, 1)


@pytest.mark.parametrize("rule", ["from_expiry", "from_purchase", "none"])
def test_the_renewal_promise_is_rendered_from_the_rule_in_both_languages(config, rule):
    configured = config.model_copy(
        update={"membership": config.membership.model_copy(update={"renewal": rule})}
    )
    zh, en = (membership.renewal_promise(configured, lang) for lang in ("zh", "en"))

    assert zh != en
    if rule != "none":
        assert "12" in zh and "12 months" in en
