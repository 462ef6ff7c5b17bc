"""When guessing is locked out: a pure rule over the times of failed attempts.

`limit` failures within one `window` lock the subject until the last of them plus
`lock`; with `growing`, each failure past the limit doubles the lock (up to `longest`),
so a patient guesser waits longer and longer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Rule:
    limit: int
    window: timedelta
    lock: timedelta
    growing: bool = False
    longest: timedelta = timedelta(hours=24)

    def horizon(self, at: datetime) -> datetime:
        """Failures before this cannot matter any more: no need to read (or keep) them."""
        return at - self.window - (self.longest if self.growing else self.lock)


def locked_until(failures: list[datetime], rule: Rule, at: datetime) -> datetime | None:
    """The end of the lockout the failures cause, or None when `at` is not locked."""
    if not failures:
        return None
    last = max(failures)
    count = sum(1 for f in failures if last - rule.window < f <= last)
    if count < rule.limit:
        return None
    lock = rule.lock
    if rule.growing:
        lock = min(rule.lock * 2 ** min(count - rule.limit, 30), rule.longest)
    until = last + lock
    return until if until > at else None
