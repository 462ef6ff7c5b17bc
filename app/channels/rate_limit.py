"""A limiter for one bot: an overall rate and a minimum interval per chat.

A send first waits for its chat (the generic cell rate algorithm: `chat_burst` messages
at once, as Telegram tolerates for a reply in two bubbles, then one per interval), then
takes the next overall slot, spaced 1/rate apart. Callers wait in their own way: a thread
with `acquire`, a coroutine with `acquire_async`. A 429 pushes the chat (or everyone)
back by its retry_after with `hold`.

`RateLimiter` keeps the limits in memory (one process: SQLite); `SharedRateLimiter` in
the database, so every process sending for the bot (`serve --workers N`, the scheduler)
spends from the one allowance. `for_channel` picks the one the database allows."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from storage.db import Database
from storage.send_limits import SendLimits

# Shared slots are spaced this much wider than the platform's figure: sends of different
# processes reach the platform with some jitter, which must never make 31 in a second.
SHARED_MARGIN = 0.05


class RateLimiter:
    def __init__(
        self,
        rate_per_second: float,
        per_chat_interval: float,
        chat_burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._interval = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self._chat_interval = per_chat_interval
        self._chat_tolerance = max(0, chat_burst - 1) * per_chat_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._next_any = 0.0  # when the next overall slot opens
        self._chat_tat: dict[str, float] = {}  # per chat: theoretical arrival time
        self._taken = 0

    def try_take(self, chat: str) -> tuple[bool, float]:
        """(True, wait): a slot is reserved, send after `wait` seconds.
        (False, wait): the chat is not ready; come back after `wait` seconds."""
        with self._lock:
            now = self._clock()
            tat = max(self._chat_tat.get(chat, now), now)
            chat_ready = tat - self._chat_tolerance
            if chat_ready > now:
                return False, chat_ready - now
            self._chat_tat[chat] = tat + self._chat_interval
            start = max(now, self._next_any)
            self._next_any = start + self._interval
            self._taken += 1
            if self._taken % 1024 == 0:
                self._forget_idle_chats(now)
            return True, start - now

    def acquire(self, chat: str) -> None:
        while True:
            taken, wait = self.try_take(chat)
            if wait > 0:
                time.sleep(wait)
            if taken:
                return

    async def acquire_async(self, chat: str) -> None:
        while True:
            taken, wait = await self._try_take_async(chat)
            if wait > 0:
                await asyncio.sleep(wait)
            if taken:
                return

    async def _try_take_async(self, chat: str) -> tuple[bool, float]:
        return self.try_take(chat)

    def hold(self, seconds: float, chat: str | None = None) -> None:
        """The platform said "retry after `seconds`": nothing more for `chat` (or for
        anyone, when no chat is named) until then."""
        with self._lock:
            until = self._clock() + seconds
            if chat is None:
                self._next_any = max(self._next_any, until)
            else:
                held = until + self._chat_tolerance
                self._chat_tat[chat] = max(self._chat_tat.get(chat, 0.0), held)

    def _forget_idle_chats(self, now: float) -> None:
        for chat in [c for c, tat in self._chat_tat.items() if tat < now]:
            del self._chat_tat[chat]


class SharedRateLimiter(RateLimiter):
    """The same limits, in the database (storage/send_limits.py): one row for the
    overall rate, one per chat."""

    @staticmethod
    def interval(rate_per_second: float) -> float:
        """The spacing of overall slots for a platform's rate, margin included."""
        return 1.0 / (rate_per_second * (1 - SHARED_MARGIN))

    def __init__(
        self,
        database: Database,
        name: str,
        rate_per_second: float,
        per_chat_interval: float,
        chat_burst: int = 3,
    ):
        super().__init__(1.0 / self.interval(rate_per_second), per_chat_interval, chat_burst)
        self._limits = SendLimits(database)
        self._name = name

    def try_take(self, chat: str) -> tuple[bool, float]:
        if self._chat_interval > 0:
            chat_slot = self._limits.take(
                self._chat_key(chat), self._chat_interval, self._chat_tolerance
            )
            if not chat_slot.taken:
                return False, chat_slot.wait
        wait = self._limits.take(f"{self._name}:all", self._interval).wait
        with self._lock:
            self._taken += 1
            tidy = self._taken % 1024 == 0
        if tidy:
            self._limits.forget_idle(self._chat_key(""))
        return True, wait

    async def _try_take_async(self, chat: str) -> tuple[bool, float]:
        return await asyncio.to_thread(self.try_take, chat)

    def hold(self, seconds: float, chat: str | None = None) -> None:
        if chat is None:
            self._limits.hold(f"{self._name}:all", seconds)
        else:
            self._limits.hold(self._chat_key(chat), seconds + self._chat_tolerance)

    def _chat_key(self, chat: str) -> str:
        return f"{self._name}:chat:{chat}"


def for_channel(
    database: Database, name: str, rate_per_second: float, per_chat_interval: float
) -> RateLimiter:
    """Shared through the database on PostgreSQL; in memory on SQLite (one process)."""
    if database.is_sqlite:
        return RateLimiter(rate_per_second, per_chat_interval)
    return SharedRateLimiter(database, name, rate_per_second, per_chat_interval)
