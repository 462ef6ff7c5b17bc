"""The one clock every command reads: MEMBERBOT_NOW fixes it for demos and tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime


class ClockError(ValueError):
    pass


def now() -> datetime:
    """The current instant, timezone-aware (UTC unless MEMBERBOT_NOW says otherwise)."""
    fixed = os.environ.get("MEMBERBOT_NOW")
    if not fixed:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(fixed)
    except ValueError:
        raise ClockError(
            f"MEMBERBOT_NOW={fixed!r} is not ISO 8601, e.g. 2026-05-20T10:00:00+08:00"
        ) from None
    if moment.tzinfo is None:
        raise ClockError(f"MEMBERBOT_NOW={fixed!r} needs a UTC offset, e.g. +08:00")
    return moment
