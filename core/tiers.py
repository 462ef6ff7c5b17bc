"""Tier rules, free of I/O: tiers follow qualifying points earned, never the balance."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config, Tier


def tier_for(earned: int, config: Config) -> Tier:
    """The highest tier whose threshold the trailing-12-month earned points reach."""
    reached = config.tiers[0]
    for tier in config.tiers:
        if earned >= tier.threshold:
            reached = tier
    return reached


def rank(name: str, config: Config) -> int:
    return [t.name for t in config.tiers].index(name)


def after_earning(current: str, earned: int, config: Config) -> str:
    """Upgrade as soon as a threshold is crossed; never downgrade between evaluations."""
    candidate = tier_for(earned, config)
    return candidate.name if rank(candidate.name, config) > rank(current, config) else current


def at_evaluation(earned: int, config: Config) -> str:
    """The yearly evaluation sets the tier to what was earned, down as well as up."""
    return tier_for(earned, config).name


@dataclass(frozen=True)
class Progress:
    tier: Tier
    next_tier: Tier | None
    earned: int
    to_next: int


def progress(current: str, earned: int, config: Config) -> Progress:
    index = rank(current, config)
    nxt = config.tiers[index + 1] if index + 1 < len(config.tiers) else None
    to_next = max(0, nxt.threshold - earned) if nxt else 0
    return Progress(config.tiers[index], nxt, earned, to_next)
