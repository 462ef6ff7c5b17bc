"""A limiter for one bot of one platform: an overall rate and, where the platform has one,
a minimum interval per chat. Telegram and WeChat use the same limiter with their figures.

A send first waits for its chat (the generic cell rate algorithm: `chat_burst` messages
at once, as Telegram tolerates for a reply in two bubbles, then one per interval), then
takes the next overall slot, spaced 1/rate apart. Callers wait in their own way: a thread
with `acquire`, a coroutine with `acquire_async`. A 429 pushes the chat (or everyone)
back by its retry_after with `hold`.

The limits live where every process sending for the bot can reach them
(storage/send_limits*.py): in Redis when REDIS_URL is set (in PostgreSQL while Redis cannot
be reached), else in PostgreSQL, else (SQLite: one process) in memory. `shared_limits`
picks."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any

from storage.db import Database
from storage.send_limits import Failover, Limits, MemoryLimits, SendLimits
from storage.send_limits_redis import RedisLimits

# Slots are spaced this much wider than the platform's figure: a sender wakes some time
# after its slot (another process's, a busy machine's jitter), which must not make 31 in a
# second. At 30/s, 10% absorbs 110 ms of difference between senders (5% absorbed 55 ms,
# and a busy machine put 32 in a second).
MARGIN = 0.1

# What `_steps` yields: a step on the limits to run (its answer is sent back), or seconds
# to sleep.
Step = Callable[[], Any] | float


class RateLimiter:
    def __init__(
        self,
        rate_per_second: float,
        per_chat_interval: float,
        chat_burst: int = 3,
        limits: Limits | None = None,
        name: str = "bot",
        clock: Callable[[], float] = time.monotonic,
    ):
        self._interval = 1.0 / self.rate(rate_per_second) if rate_per_second > 0 else 0.0
        self._chat_interval = per_chat_interval
        self._chat_tolerance = max(0, chat_burst - 1) * per_chat_interval
        self._limits = limits if limits is not None else MemoryLimits(clock)
        self._name = name
        self._lock = threading.Lock()
        self._taken = 0

    @staticmethod
    def rate(rate_per_second: float) -> float:
        """The overall rate kept for a platform's figure: the margin below it."""
        return rate_per_second * (1 - MARGIN)

    def try_take(self, chat: str) -> tuple[bool, float]:
        """(True, wait): a slot is reserved, send after `wait` seconds.
        (False, wait): the chat is not ready; come back after `wait` seconds."""
        ready, wait = self._take_chat(chat)
        if not ready:
            return False, wait
        return True, self._take_overall()

    def acquire(self, chat: str) -> None:
        steps = self._steps(chat)
        step = next(steps)
        while True:
            if callable(step):
                answer = step()
            else:
                time.sleep(step)
                answer = None
            try:
                step = steps.send(answer)
            except StopIteration:
                return

    async def acquire_async(self, chat: str) -> None:
        steps = self._steps(chat)
        step = next(steps)
        while True:
            if callable(step):
                answer = await asyncio.to_thread(step) if self._limits.remote else step()
            else:
                await asyncio.sleep(step)
                answer = None
            try:
                step = steps.send(answer)
            except StopIteration:
                return

    def hold(self, seconds: float, chat: str | None = None) -> None:
        """The platform said "retry after `seconds`": nothing more for `chat` (or for
        anyone, when no chat is named) until then."""
        if chat is None:
            self._limits.hold(self._key("all"), seconds)
        else:
            self._limits.hold(self._key("chat", chat), seconds + self._chat_tolerance)

    def _steps(self, chat: str) -> Generator[Step, Any, None]:
        """The chat's turn, then the overall slot, slept to."""
        while True:
            ready, wait = yield (lambda: self._take_chat(chat))
            if ready:
                break
            yield wait
        wait = yield self._take_overall
        if wait > 0:
            yield wait

    def _take_chat(self, chat: str) -> tuple[bool, float]:
        if self._chat_interval <= 0:
            return True, 0.0
        slot = self._limits.take(self._key("chat", chat), self._chat_interval, self._chat_tolerance)
        return slot.taken, slot.wait

    def _take_overall(self) -> float:
        wait = self._limits.take(self._key("all"), self._interval).wait
        with self._lock:
            self._taken += 1
            tidy = self._taken % 1024 == 0
        if tidy:
            self._limits.forget_idle(self._key("chat", ""))
        return wait

    def _key(self, *parts: str) -> str:
        return ":".join((self._name, *parts))


def shared_limits(database: Database, env: Mapping[str, str] | None = None) -> Limits:
    """Where every process of this deployment keeps its send limits."""
    env = os.environ if env is None else env
    in_database: Limits = MemoryLimits() if database.is_sqlite else SendLimits(database)
    if env.get("REDIS_URL"):
        return Failover(RedisLimits(env["REDIS_URL"]), in_database)
    return in_database


def for_channel(
    limits: Limits, name: str, rate_per_second: float, per_chat_interval: float = 0.0
) -> RateLimiter:
    return RateLimiter(rate_per_second, per_chat_interval, limits=limits, name=name)
