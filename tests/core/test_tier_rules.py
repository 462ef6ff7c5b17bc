"""Tier rules: tiers follow qualifying points earned in the trailing 12 months."""

import pytest

from core.tiers import after_earning, at_evaluation, progress, tier_for


@pytest.mark.parametrize(
    ("earned", "tier"),
    [
        (0, "silver"),
        (1999, "silver"),
        (2000, "gold"),
        (4999, "gold"),
        (5000, "platinum"),
        (19999, "platinum"),
        (20000, "diamond"),
        (10**9, "diamond"),
    ],
)
def test_the_tier_is_the_highest_whose_threshold_the_earned_points_reach(config, earned, tier):
    assert tier_for(earned, config).name == tier


def test_thresholds_come_from_the_configuration(config):
    tiers = [t.model_copy(update={"threshold": t.threshold // 2}) for t in config.tiers]
    halved = config.model_copy(update={"tiers": tiers})

    assert tier_for(1000, halved).name == "gold"
    assert tier_for(1000, config).name == "silver"


def test_earning_past_a_threshold_upgrades_at_once(config):
    assert after_earning("silver", 2000, config) == "gold"


def test_earning_past_two_thresholds_at_once_skips_the_tier_between(config):
    assert after_earning("silver", 5000, config) == "platinum"


def test_earning_below_the_current_tier_never_downgrades_between_evaluations(config):
    assert after_earning("platinum", 100, config) == "platinum"
    assert after_earning("gold", 0, config) == "gold"


def test_the_yearly_evaluation_sets_the_tier_to_what_was_earned_down_as_well_as_up(config):
    assert at_evaluation(100, config) == "silver"
    assert at_evaluation(2500, config) == "gold"
    assert at_evaluation(25000, config) == "diamond"


def test_progress_says_how_many_points_are_missing_for_the_next_tier(config):
    shown = progress("silver", 1500, config)

    assert (shown.tier.name, shown.next_tier.name) == ("silver", "gold")
    assert (shown.earned, shown.to_next) == (1500, 500)


def test_progress_of_a_member_kept_above_their_earnings_points_at_the_tier_above_theirs(config):
    shown = progress("gold", 100, config)

    assert shown.next_tier.name == "platinum"
    assert shown.to_next == 4900


def test_progress_never_shows_a_negative_distance(config):
    assert progress("silver", 3000, config).to_next == 0


def test_the_top_tier_has_nothing_further_to_reach(config):
    shown = progress("diamond", 25000, config)

    assert shown.next_tier is None
    assert shown.to_next == 0
