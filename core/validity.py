"""When something the member holds stops being valid, as one calendar day.

A points lot, a voucher and a membership expire at the end of a day in the member's time
zone: the instant stored is the following local midnight, and the day every message,
reminder, page and API answer names is the last day it is still valid (a lot stored as
expiring at 1 June 00:00 Shanghai is "valid until 05-31", and expires at the end of 05-31).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The instant `day` ends in `zone`: the next local midnight."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def last_day(expires_at: datetime, zone: ZoneInfo) -> date:
    """The last local day on which something expiring at `expires_at` is still valid."""
    return (expires_at - timedelta(microseconds=1)).astimezone(zone).date()


def valid_on(expires_at: datetime, moment: datetime) -> bool:
    """Still valid at `moment` (it expires at `expires_at`, exclusive)."""
    return moment < expires_at
