"""When a proactive message may go out: never in quiet hours (member local time), and
marketing never on a public holiday. Pure functions of the clock and the configuration."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from core.config import Config


def member_zone(timezone: str | None, config: Config) -> ZoneInfo:
    """The member's own zone when they have a valid one, else the programme's."""
    if timezone:
        try:
            return ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return config.zone


def reminder_time(day: date, zone: ZoneInfo, at: datetime, config: Config) -> datetime:
    """When a daily reminder for the local `day` is due: the configured send time in
    `zone`, or now if that has passed."""
    return max(datetime.combine(day, config.reminders.send_time, tzinfo=zone), at)


def in_quiet_hours(moment: time, config: Config) -> bool:
    start, end = config.quiet_hours.start, config.quiet_hours.end
    if start == end:
        return False
    if start < end:  # e.g. 13:00-14:00
        return start <= moment < end
    return moment >= start or moment < end  # across midnight, e.g. 21:00-09:00


def end_of_quiet_hours(local: datetime, config: Config) -> datetime:
    """The first moment after the quiet hours that `local` falls in."""
    end = config.quiet_hours.end
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return candidate if candidate > local else candidate + timedelta(days=1)


@cache
def _calendar(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=[year - 1, year, year + 1])


def is_public_holiday(day: date, config: Config) -> bool:
    return day in _calendar(config.campaigns.holiday_country, day.year)


def next_working_day(day: date, config: Config) -> date:
    """The first working day after `day` (weekends and holidays off, make-up days on)."""
    candidate = day + timedelta(days=1)
    while not _calendar(config.campaigns.holiday_country, candidate.year).is_working_day(candidate):
        candidate += timedelta(days=1)
    return candidate


def earliest_send(
    at: datetime, zone: ZoneInfo, category: str, config: Config
) -> tuple[datetime, str | None]:
    """(`at`, None) when the message may go now, else (the first moment it may, why).

    A marketing message that falls on a public holiday (when configured) moves to the
    next working day at the same local time; quiet hours then push it to the morning."""
    local, why = at.astimezone(zone), None
    while True:  # a holiday can end in quiet hours and quiet hours in a holiday
        moved = local
        if (
            category == "marketing"
            and config.campaigns.skip_public_holidays
            and is_public_holiday(moved.date(), config)
        ):
            day = next_working_day(moved.date(), config)
            moved, why = datetime.combine(day, moved.time(), tzinfo=zone), why or "holiday"
        if in_quiet_hours(moved.time(), config):
            moved, why = end_of_quiet_hours(moved, config), why or "quiet_hours"
        if moved == local:
            return (at, None) if why is None else (local, why)
        local = moved
