"""Send limits kept in the database, so every process (each `serve` worker, the
scheduler) spends from the same allowance: the generic cell rate algorithm on one row per
limit, each step one atomic statement on the database server's clock. PostgreSQL only:
on SQLite, with its single process, the limiter stays in memory."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import text

from storage.db import Database

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


class Slot(NamedTuple):
    taken: bool  # False: not allowed yet, ask again after `wait`
    wait: float  # seconds from now until the slot starts (or the limit allows one)
    starts_at: float | None  # the slot's start, in seconds since the epoch (server clock)


class SendLimits:
    def __init__(self, database: Database):
        self._engine = database.engine.execution_options(isolation_level="AUTOCOMMIT")

    def take(self, key: str, interval: float, tolerance: float = ALWAYS) -> Slot:
        """A slot of `interval` seconds if the limit allows one within `tolerance`."""
        params = {"key": key, "interval": interval, "tolerance": tolerance}
        with self._engine.connect() as conn:
            taken = conn.execute(TAKE, params).first()
            if taken is not None:
                starts_at, now = taken
                return Slot(True, max(0.0, starts_at - now), starts_at)
            wait = conn.execute(WAIT, params).scalar() or 0.0
            return Slot(False, max(0.0, wait), None)

    def hold(self, key: str, seconds: float) -> None:
        """Nothing on this limit for `seconds` from now."""
        with self._engine.connect() as conn:
            conn.execute(HOLD, {"key": key, "seconds": seconds})

    def forget_idle(self, prefix: str) -> None:
        """Drop the rows of limits idle for a minute (chats that went quiet)."""
        with self._engine.connect() as conn:
            conn.execute(FORGET, {"prefix": prefix + "%"})
