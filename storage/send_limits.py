"""Send limits: the generic cell rate algorithm, one record per limit, each step atomic.

Three places keep them, with the same answers: `MemoryLimits` in the process (SQLite: one
process), `SendLimits` in PostgreSQL and `RedisLimits` (storage/send_limits_redis.py) in
Redis, where every process (each `serve` worker, the scheduler) spends from the same
allowance, on the server's clock. A store that cannot be reached raises
`LimitsUnavailable`; `Failover` then keeps the limits in a second store for a while, so
a Redis that goes away after start-up slows no reply."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple, Protocol, TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import InterfaceError, OperationalError

from storage.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

NOW = "extract(epoch from clock_timestamp())::float8"
# Take a slot if the limit allows it now (next_at within `tolerance` of now): the answer
# is when the slot taken starts, and now. No row: not allowed yet.
TAKE = text(
    f"INSERT INTO send_limits AS s (key, next_at) VALUES (:key, {NOW} + :interval) "
    f"ON CONFLICT (key) DO UPDATE SET next_at = greatest(s.next_at, {NOW}) + :interval "
    f"WHERE s.next_at - :tolerance <= {NOW} "
    f"RETURNING s.next_at - :interval, {NOW}"
)
WAIT = text(f"SELECT next_at - :tolerance - {NOW} FROM send_limits WHERE key = :key")
HOLD = text(
    f"INSERT INTO send_limits AS s (key, next_at) VALUES (:key, {NOW} + :seconds) "
    f"ON CONFLICT (key) DO UPDATE SET next_at = greatest(s.next_at, {NOW} + :seconds)"
)
FORGET = text(f"DELETE FROM send_limits WHERE key LIKE :prefix AND next_at < {NOW} - 60")
ALWAYS = 1e9  # a tolerance no limit ever reaches: the slot is taken, however far ahead


class LimitsUnavailable(Exception):
    """The store of the send limits cannot be reached: the send waits, it has not failed."""


class Slot(NamedTuple):
    taken: bool  # False: not allowed yet, ask again after `wait`
    wait: float  # seconds from now until the slot starts (or the limit allows one)
    starts_at: float | None  # the slot's start on the keeper's clock, in seconds


class Limits(Protocol):
    # True when a step is a round trip to a server (a coroutine runs it in a thread).
    remote: bool

    def take(self, key: str, interval: float, tolerance: float = ALWAYS) -> Slot:
        """A slot of `interval` seconds if the limit allows one within `tolerance`."""
        ...

    def hold(self, key: str, seconds: float) -> None:
        """Nothing on this limit for `seconds` from now."""
        ...

    def forget_idle(self, prefix: str) -> None:
        """Drop the limits under `prefix` that went idle (chats that went quiet)."""
        ...


class MemoryLimits:
    remote = False

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._next_at: dict[str, float] = {}

    def take(self, key: str, interval: float, tolerance: float = ALWAYS) -> Slot:
        with self._lock:
            now = self._clock()
            next_at = max(self._next_at.get(key, now), now)
            if next_at - tolerance > now:
                return Slot(False, next_at - tolerance - now, None)
            self._next_at[key] = next_at + interval
            return Slot(True, next_at - now, next_at)

    def hold(self, key: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + seconds
            self._next_at[key] = max(self._next_at.get(key, until), until)

    def forget_idle(self, prefix: str) -> None:
        with self._lock:
            now = self._clock()
            for key in [k for k, at in self._next_at.items() if k.startswith(prefix) and at < now]:
                del self._next_at[key]


class SendLimits:
    """In PostgreSQL: one row per limit in send_limits."""

    remote = True

    def __init__(self, database: Database):
        self._engine = database.engine.execution_options(isolation_level="AUTOCOMMIT")

    def take(self, key: str, interval: float, tolerance: float = ALWAYS) -> Slot:
        params = {"key": key, "interval": interval, "tolerance": tolerance}
        with self._reached() as conn:
            taken = conn.execute(TAKE, params).first()
            if taken is not None:
                starts_at, now = taken
                return Slot(True, max(0.0, starts_at - now), starts_at)
            wait = conn.execute(WAIT, params).scalar() or 0.0
            return Slot(False, max(0.0, wait), None)

    def hold(self, key: str, seconds: float) -> None:
        with self._reached() as conn:
            conn.execute(HOLD, {"key": key, "seconds": seconds})

    def forget_idle(self, prefix: str) -> None:
        """Rows idle for a minute go."""
        with self._reached() as conn:
            conn.execute(FORGET, {"prefix": prefix + "%"})

    @contextmanager
    def _reached(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except (OperationalError, InterfaceError) as exc:
            raise LimitsUnavailable(f"PostgreSQL: {exc.orig or exc}") from exc


class Failover:
    """The limits in `primary` (Redis); while it cannot be reached, in `backup`
    (PostgreSQL, shared too), asking the primary again after `retry_after` seconds.
    Counts taken in one store are unknown to the other: a switch may let one interval's
    worth more through, which the rate's margin absorbs."""

    def __init__(
        self,
        primary: Limits,
        backup: Limits,
        retry_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.primary, self.backup = primary, backup
        self.remote = primary.remote or backup.remote
        self._retry_after = retry_after
        self._clock = clock
        self._down_until: float | None = None

    def take(self, key: str, interval: float, tolerance: float = ALWAYS) -> Slot:
        return self._either(lambda limits: limits.take(key, interval, tolerance))

    def hold(self, key: str, seconds: float) -> None:
        self._either(lambda limits: limits.hold(key, seconds))

    def forget_idle(self, prefix: str) -> None:
        self._either(lambda limits: limits.forget_idle(prefix))

    def _either(self, step: Callable[[Limits], T]) -> T:
        if self._down_until is None or self._clock() >= self._down_until:
            try:
                answer = step(self.primary)
            except LimitsUnavailable as exc:
                if self._down_until is None:
                    log.warning("send limits: %s; keeping them in the backup store", exc)
                self._down_until = self._clock() + self._retry_after
            else:
                if self._down_until is not None:
                    log.warning("send limits: the primary store is back")
                self._down_until = None
                return answer
        return step(self.backup)
