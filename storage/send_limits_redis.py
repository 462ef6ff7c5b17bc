"""Send limits in Redis (REDIS_URL): the same generic cell rate algorithm as in PostgreSQL
(storage/send_limits.py), each step one Lua script, which Redis runs atomically, on the
Redis server's clock. A limit's key expires once it has been idle for a minute."""

from __future__ import annotations

import redis

from core.config import ConfigError
from storage.send_limits import ALWAYS, LimitsUnavailable, Slot

PREFIX = "memberbot:send_limits:"
IDLE_SECONDS = 60
_NOW = (
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "
    f"local function keep(at) redis.call('SET', KEYS[1], string.format('%.6f', at), "
    f"'PX', math.ceil((at - now + {IDLE_SECONDS}) * 1000)) end "
)
# ARGV: interval, tolerance. Answers {1, wait, starts_at} or {0, wait}, as strings: Redis
# would cut Lua numbers to integers.
TAKE = _NOW + (
    "local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2]) "
    "local next_at = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now) "
    "if next_at - tolerance > now then "
    "  return {0, string.format('%.6f', next_at - tolerance - now)} end "
    "keep(next_at + interval) "
    "return {1, string.format('%.6f', next_at - now), string.format('%.6f', next_at)}"
)
# ARGV: seconds.
HOLD = _NOW + (
    "local held = now + tonumber(ARGV[1]) "
    "keep(math.max(tonumber(redis.call('GET', KEYS[1])) or held, held))"
)


class RedisLimits:
    remote = True

    def __init__(self, url: str):
        try:
            # A Redis that stops answering must not hold a send for long (the URL may say
            # otherwise): Failover moves the limits to PostgreSQL meanwhile.
            self._redis = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        except ValueError as exc:
            raise ConfigError(f"REDIS_URL: {exc}, e.g. redis://127.0.0.1:6379/0") from None
        self._take = self._redis.register_script(TAKE)
        self._hold = self._redis.register_script(HOLD)

    def take(self, key: str, interval: float, tolerance: float = ALWAYS) -> Slot:
        try:
            answer = self._take(keys=[PREFIX + key], args=[repr(interval), repr(tolerance)])
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise LimitsUnavailable(f"Redis: {exc}") from exc
        if int(answer[0]) == 1:
            return Slot(True, float(answer[1]), float(answer[2]))
        return Slot(False, float(answer[1]), None)

    def hold(self, key: str, seconds: float) -> None:
        try:
            self._hold(keys=[PREFIX + key], args=[repr(seconds)])
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise LimitsUnavailable(f"Redis: {exc}") from exc

    def unreachable(self) -> str | None:
        """Why Redis cannot be used, or None."""
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            return str(exc)
        return None

    def forget_idle(self, prefix: str) -> None:
        """Nothing to do: idle keys expire by themselves."""

    def close(self) -> None:
        self._redis.close()
