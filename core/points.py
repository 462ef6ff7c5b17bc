"""Points rules, free of I/O: how many points an earning is worth, when a lot expires,
and which lots a spending draws from."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.config import Config
from core.validity import end_of_day


def purchase_points(amount: Decimal, multiplier: float, config: Config) -> int:
    """Whole points for a purchase: per-yuan rate times the tier multiplier, rounded down."""
    exact = amount * Decimal(str(config.points.per_yuan)) * Decimal(str(multiplier))
    return max(0, math.floor(exact))


def lot_expiry(
    earned_at: datetime, config: Config, zone: ZoneInfo | None = None
) -> datetime | None:
    """The end of the last day of the Nth month after the month of earning, in the
    member's time zone (the programme's by default): core/validity.py's convention."""
    months = config.points.expiry_months
    if months is None:
        return None
    zone = zone or config.zone
    local = earned_at.astimezone(zone)
    after = local.year * 12 + (local.month - 1) + months + 1  # the month after the Nth
    return end_of_day(date(after // 12, after % 12 + 1, 1) - timedelta(days=1), zone)


@dataclass(frozen=True)
class OpenLot:
    id: int
    remaining: int
    expires_at: datetime | None
    earned_at: datetime


def spending_order(lots: list[OpenLot]) -> list[OpenLot]:
    """First to expire first; lots that never expire last; older before newer on a tie."""
    return sorted(
        lots,
        key=lambda lot: (
            lot.expires_at is None,
            lot.expires_at or lot.earned_at,
            lot.earned_at,
            lot.id,
        ),
    )


def allocate(lots: list[OpenLot], points: int, first: int | None = None) -> list[tuple[int, int]]:
    """(lot id, points) drawn in spending order (lot `first` before all others);
    raises if the lots fall short."""
    ordered = spending_order(lots)
    ordered.sort(key=lambda lot: lot.id != first)
    plan: list[tuple[int, int]] = []
    left = points
    for lot in ordered:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take:
            plan.append((lot.id, take))
            left -= take
    if left:
        raise ValueError(f"lots hold {points - left} points, {points} needed")
    return plan


def clawback_points(earned: int, clawed_so_far: int, amount: Decimal, order_amount: Decimal) -> int:
    """Points to take back for a refund: in proportion, never more than what remains earned."""
    if order_amount <= 0:
        return 0
    share = min(Decimal(1), amount / order_amount)
    due = math.ceil(Decimal(earned) * share)
    return max(0, min(due, earned - clawed_so_far))
