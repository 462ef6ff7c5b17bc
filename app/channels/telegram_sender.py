"""Telegram's outbound sender: python-telegram-bot's Bot behind the bot's rate limits
(about 30 messages a second overall, one a second per chat).

A 429 waits its retry_after (within a bound) and tries again; a 403 means the member
blocked the bot: UNREACHABLE, and the identity is marked so. Every send lands in the
message log with its result. `send` is for threads (the dispatcher), `send_async` for
coroutines on any loop (the webhook). The Bot runs on a loop of its own thread, or, under
`serve`, on the server's loop (`adopt_running_loop`)."""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from app import metrics
from app.channels import records
from app.channels.rate_limit import RateLimiter
from core.clock import now
from core.config import Telegram
from core.messages import MAX_PAYLOAD_BYTES
from handlers.ports import Delivery, Outcome, Outgoing
from storage.db import Database
from storage.send_limits import LimitsUnavailable

log = logging.getLogger(__name__)
# python-telegram-bot 22 warns, when it builds a RetryAfter, that retry_after will become a
# timedelta; `_seconds` reads either.
warnings.filterwarnings("ignore", message=".*retry_after.*", category=PTBDeprecationWarning)

CHANNEL = "telegram"
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
MAX_TEXT = 4096  # Telegram's limit on one message
UNREACHABLE_REQUESTS = ("chat not found", "user not found", "peer_id_invalid")


def keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """One button a row; a payload over Telegram's 64 bytes cannot be sent, so it is left
    out (the engine promises never to make one)."""
    rows = []
    for title, payload in buttons:
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            log.warning("telegram: button %r left out: payload over 64 bytes", title)
            continue
        rows.append([InlineKeyboardButton(title, callback_data=payload)])
    return InlineKeyboardMarkup(rows) if rows else None


def chunks(text: str) -> list[str]:
    return [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [""]


def _seconds(value) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    channel = CHANNEL

    def __init__(
        self,
        token: str,
        settings: Telegram,
        database: Database,
        base_url: str | None = None,
        clock: Callable[[], datetime] = now,
        max_retry_wait: float = 30.0,
        attempts: int = 3,
        pool_size: int = 64,
        limiter: RateLimiter | None = None,
    ):
        self.bot = Bot(
            token,
            base_url=base_url or DEFAULT_BASE_URL,
            request=HTTPXRequest(connection_pool_size=pool_size, pool_timeout=10.0),
            get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=60.0),
        )
        self.limiter = limiter or RateLimiter(
            settings.rate_per_second, settings.per_chat_interval_seconds
        )
        self._db = database
        self._clock = clock
        self._max_retry_wait = max_retry_wait
        self._attempts = attempts
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Lock()

    # -- the loop the Bot lives on: its own thread's, or the server's ------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._started:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="telegram-sender", daemon=True
                )
                self._thread.start()
                self._loop = loop
            return self._loop

    def adopt_running_loop(self) -> None:
        """Under `serve`: the Bot lives on the server's loop, so a webhook's reply goes
        out without two hand-offs to a thread of the sender's own; threads (staff
        replies) still submit to it. Call before the first send."""
        with self._started:
            if self._loop is None:
                self._loop = asyncio.get_running_loop()

    def _here(self) -> bool:
        """On the Bot's loop now (a coroutine of the server that adopted it)."""
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def submit(self, coro: Coroutine):
        """Run a coroutine on the sender's loop (where the Bot's connections live)."""
        if self._here():
            coro.close()
            raise RuntimeError("a blocking send on the Bot's own loop would wait forever")
        return asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())

    def close(self) -> None:
        """Shut the Bot down (from a thread other than its loop's); stop the loop if it
        is the sender's own."""
        if self._loop is None:
            return
        self.submit(self.bot.shutdown()).result(timeout=10)
        if self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
            self._thread = None
        self._loop = None

    # -- sending -----------------------------------------------------------------------

    def send(self, message: Outgoing) -> Delivery:
        delivery, platform_id = self.submit(self.deliver(message)).result()
        self._record(message, delivery, platform_id)
        return delivery

    async def send_async(self, message: Outgoing) -> Delivery:
        delivery, platform_id = await self._on_loop(self.deliver(message))
        await asyncio.to_thread(self._record, message, delivery, platform_id)
        return delivery

    async def answer_callback(self, query_id: str) -> None:
        """Stop the button's spinner; a failure here only costs the member a spinner."""
        try:
            await self._on_loop(self.bot.answer_callback_query(query_id))
        except TelegramError as exc:
            log.info("telegram: answerCallbackQuery failed: %s", exc)

    async def _on_loop(self, coro: Coroutine):
        """Await a coroutine of the Bot from any loop: directly on its own."""
        if self._here():
            return await coro
        return await asyncio.wrap_future(self.submit(coro))

    async def deliver(self, message: Outgoing) -> tuple[Delivery, str | None]:
        """On the sender's loop: every chunk of the text, buttons under the last."""
        parts = chunks(message.text)
        last_id = None
        for number, part in enumerate(parts, 1):
            markup = keyboard(message.buttons) if number == len(parts) else None
            delivery, last_id = await self._one(message.external_id, part, markup)
            if delivery.outcome is not Outcome.SENT:
                return replace(delivery, via="message"), None
        return Delivery(Outcome.SENT, via="message"), last_id

    async def _one(self, chat: str, text: str, markup) -> tuple[Delivery, str | None]:
        for attempt in range(1, self._attempts + 1):
            try:
                await self.limiter.acquire_async(chat)
            except LimitsUnavailable as exc:  # no store of the limits answers: later
                return Delivery(Outcome.RETRY, f"send limits: {exc}"[:200]), None
            try:
                sent = await self.bot.send_message(chat_id=chat, text=text, reply_markup=markup)
                return Delivery(Outcome.SENT, via="message"), f"{chat}:{sent.message_id}"
            except RetryAfter as exc:
                metrics.RATE_LIMITED.labels(CHANNEL).inc()
                wait = _seconds(exc.retry_after)
                if wait > self._max_retry_wait or attempt == self._attempts:
                    return Delivery(Outcome.RETRY, f"429: retry after {wait:g}s", wait), None
                log.info("telegram: 429 for chat %s, waiting %.1fs", chat, wait)
                self.limiter.hold(wait, chat)
            except Forbidden as exc:
                return Delivery(Outcome.UNREACHABLE, f"403: {exc.message}"), None
            except InvalidToken:
                return Delivery(
                    Outcome.FAILED,
                    "Telegram refused the bot token: set TELEGRAM_BOT_TOKEN to the token "
                    "BotFather gave you",
                ), None
            except ChatMigrated as exc:
                detail = f"chat moved to {exc.new_chat_id}: update the identity"
                return Delivery(Outcome.FAILED, detail), None
            except BadRequest as exc:
                if any(s in exc.message.lower() for s in UNREACHABLE_REQUESTS):
                    return Delivery(Outcome.UNREACHABLE, f"400: {exc.message}"), None
                return Delivery(Outcome.FAILED, f"400: {exc.message}"), None
            except NetworkError as exc:  # timeouts and connection errors
                if not _never_reached(exc):
                    # Telegram may have delivered it before the answer was lost: sending
                    # again could show the member the message twice. Left for a person.
                    return Delivery(Outcome.FAILED, f"delivery unknown: {exc.message}"), None
                if attempt == self._attempts:
                    return Delivery(Outcome.RETRY, f"network: {exc.message}"), None
                await asyncio.sleep(0.2 * attempt)
            except TelegramError as exc:
                return Delivery(Outcome.FAILED, f"telegram: {exc.message}"), None
            except Exception as exc:  # never let one send take the caller down
                log.exception("telegram: unexpected error sending to %s", chat)
                return Delivery(Outcome.FAILED, f"unexpected: {exc!r}"[:200]), None
        return Delivery(Outcome.RETRY, "attempts exhausted"), None

    def _record(self, message: Outgoing, delivery: Delivery, platform_id: str | None) -> None:
        metrics.SENDS.labels(CHANNEL, delivery.outcome.value).inc()
        at = self._clock()
        try:
            if delivery.outcome is Outcome.UNREACHABLE:
                records.mark_unreachable(
                    self._db, CHANNEL, message.external_id, f"telegram {delivery.detail}", at
                )
            records.record_send(
                self._db,
                CHANNEL,
                message.external_id,
                message.text,
                delivery,
                at,
                f"out:{platform_id}" if platform_id else None,
            )
        except Exception:
            log.exception("telegram: could not record a send to %s", message.external_id)


def _never_reached(exc: NetworkError) -> bool:
    """True when the request cannot have reached Telegram (no connection was made)."""
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout)
