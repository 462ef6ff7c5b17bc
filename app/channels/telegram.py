"""Telegram, inbound: the webhook at /telegram/webhook (under `serve`) and long polling
(`memberbot telegram poll`) feed the same handling.

An update becomes one engine message: text, a pressed inline button (its callback data
is the engine's payload), or a command: /start (with a deep-link payload such as
`bind_M000001` that offers binding), /menu, /cancel, /human. Replies go out through the
rate-limited sender, buttons as an inline keyboard. Each update is claimed by its
update_id first, so Telegram's redelivery is handled once; one member's messages are
handled in the order they came."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import Conflict, TelegramError

from app.channels import records
from app.channels.body import TooLarge, read_limited
from app.channels.dialogue import COMMANDS, Dialogue, bind_payload, put_off, replies
from app.channels.telegram_sender import TelegramSender
from core.clock import now
from core.messages import Inbound
from core.text import clean
from handlers.ports import Outcome, Outgoing
from storage.db import Database

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_BODY = 256 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


@dataclass(frozen=True)
class Incoming:
    user: str
    chat: str
    inbound: Inbound | None  # None: something the bot cannot read (a photo, a sticker)
    callback_id: str | None = None


def _id(value: object) -> str | None:
    """A Telegram id (a whole number of at most 20 digits) as text; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**20:
        return str(value)
    return None


def incoming(update: Update) -> Incoming | None:
    """What an update says, or None when it is nothing for the bot (groups, edits) or not
    shaped like anything Telegram sends (a chat missing, text that is not text)."""
    key = _id(update.update_id)
    query = update.callback_query
    if key is None:
        return None
    if query is not None:
        user = _id(getattr(query.from_user, "id", None))
        if not isinstance(query.data, str) or not query.data or user is None:
            return None
        chat = _id(getattr(getattr(query.message, "chat", None), "id", None)) or user
        button = Inbound(CHANNEL, user, button=query.data, message_id=key)
        return Incoming(user, chat, button, callback_id=str(query.id)[:100])
    message = update.message
    if message is None or message.chat is None or message.chat.type != "private":
        return None
    sender, chat_id = _id(getattr(message.from_user, "id", None)), _id(message.chat.id)
    if sender is None or chat_id is None:
        return None
    user, chat = sender, chat_id
    text = clean(message.text).strip() if isinstance(message.text, str) else ""
    if not text:
        return Incoming(user, chat, None)
    if text.startswith("/"):
        command, _, argument = text[1:].partition(" ")
        command = command.split("@", 1)[0].lower()
        payload = (bind_payload(argument.strip()) if command == "start" else None) or COMMANDS.get(
            command
        )
        if payload:
            return Incoming(user, chat, Inbound(CHANNEL, user, button=payload, message_id=key))
    return Incoming(user, chat, Inbound(CHANNEL, user, text=text, message_id=key))


def readable(update: Update) -> bool:
    """Whether the update has the shape Telegram gives its updates (so what is wrong in
    it is the sender's fault, 400, not ours)."""
    try:
        if _id(update.update_id) is None:
            return False
        change = update.my_chat_member
        if change is not None:
            return (
                _id(change.from_user.id) is not None
                and isinstance(change.chat.type, str)
                and isinstance(change.new_chat_member.status, str)
            )
        incoming(update)
    except (AttributeError, TypeError, ValueError):
        return False
    return True


class TelegramChannel:
    def __init__(
        self,
        dialogue: Dialogue,
        sender: TelegramSender,
        database: Database,
        webhook_secret: str | None = None,
        clock: Callable[[], datetime] = now,
    ):
        self._dialogue = dialogue
        self.sender = sender
        self._db = database
        self._secret = webhook_secret
        self._clock = clock
        self._user_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    # -- webhook -----------------------------------------------------------------------

    def router(self) -> APIRouter:
        # A plain Starlette route: the webhook reads its own request, so FastAPI's
        # dependency resolution would be work on every update for nothing.
        router = APIRouter()
        router.add_route(
            "/telegram/webhook", self.webhook, methods=["POST"], include_in_schema=False
        )
        return router

    async def webhook(self, request: Request) -> Response:
        if not self._secret:
            return Response(status_code=503)  # set TELEGRAM_WEBHOOK_SECRET (logged at start)
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return Response(status_code=403)
        try:
            data = json.loads(await read_limited(request, MAX_BODY))
            update = Update.de_json(data, self.sender.bot)
        except TooLarge:
            return Response(status_code=413)
        except Exception as exc:
            log.info("telegram: malformed update refused: %s", type(exc).__name__)
            return Response(status_code=400)
        if update is None or not readable(update):
            return Response(status_code=400)
        try:
            await self.process(update)
        except SQLAlchemyError as exc:  # the database is away: Telegram delivers it again
            log.warning("telegram: update %s not taken: %s", update.update_id, type(exc).__name__)
            return Response(status_code=503)
        return Response(status_code=200)

    # -- one update --------------------------------------------------------------------

    async def process(self, update: Update) -> None:
        if update.my_chat_member is not None:
            await self._membership(update)
            return
        seen = incoming(update)
        if seen is None:
            return
        lock = self._user_locks.setdefault(seen.user, asyncio.Lock())
        async with lock:  # taken before any await: updates keep their order per member
            at = self._clock()
            claim = partial(
                records.claim_inbound, self._db, CHANNEL, str(update.update_id), seen.user, at
            )
            if seen.callback_id:  # the button's spinner stops before the turn runs
                if not await asyncio.to_thread(claim):
                    return
                await self.sender.answer_callback(seen.callback_id)
            answer = await replies(
                self._dialogue,
                CHANNEL,
                seen.user,
                seen.inbound,
                claim=None if seen.callback_id else claim,
            )
            messages = [(r.text, [(b.title, b.payload) for b in r.buttons]) for r in answer or []]
            for number, (text, buttons) in enumerate(messages):
                sent = await self.sender.send_async(
                    Outgoing(seen.chat, text, buttons, kind="reply", last_inbound_at=at)
                )
                if sent.outcome is Outcome.RETRY:  # put off: the dispatcher sends it later
                    await put_off(
                        self._db, CHANNEL, seen.user, str(update.update_id), messages[number:],
                        at, sent,
                    )  # fmt: skip
                elif sent.outcome is not Outcome.SENT:
                    log.warning("telegram: reply to %s not sent: %s", seen.chat, sent.detail)
                if sent.outcome is not Outcome.SENT:
                    break

    async def _membership(self, update: Update) -> None:
        """The member blocked the bot (or unblocked it): known before any send fails."""
        change = update.my_chat_member
        if change is None or change.chat.type != "private":
            return
        user, status = str(change.from_user.id), change.new_chat_member.status
        if status in ("kicked", "left"):
            await asyncio.to_thread(
                records.mark_unreachable, self._db, CHANNEL, user, "blocked the bot", self._clock()
            )
        elif status == "member":
            await asyncio.to_thread(records.mark_reachable, self._db, CHANNEL, user, self._clock())

    # -- long polling ------------------------------------------------------------------

    async def poll(self, stop: asyncio.Event, timeout: int = 30, concurrency: int = 32) -> None:
        """getUpdates until `stop` is set; updates are handled concurrently, each member's
        in order. Raises Conflict when a webhook is set for the bot."""
        bot = self.sender.bot
        await asyncio.wrap_future(self.sender.submit(bot.initialize()))
        log.info("telegram: polling as @%s", bot.username)
        slots = asyncio.Semaphore(concurrency)
        running: set[asyncio.Task] = set()
        offset = None

        async def handle(update: Update) -> None:
            try:
                await self.process(update)
            finally:
                slots.release()

        stopped = asyncio.create_task(stop.wait())
        while not stop.is_set():
            fetch = asyncio.wrap_future(
                self.sender.submit(
                    bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES)
                )
            )
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not fetch.done():
                fetch.cancel()  # stopping: the updates not fetched stay with Telegram
                break
            try:
                updates = fetch.result()
            except Conflict:
                raise
            except TelegramError as exc:
                log.warning("telegram: getUpdates failed (%s); retrying in 3 s", exc)
                await asyncio.sleep(3)
                continue
            for update in updates:
                offset = update.update_id + 1
                await slots.acquire()
                task = asyncio.create_task(handle(update))
                running.add(task)
                task.add_done_callback(running.discard)
        stopped.cancel()
        if running:  # let the updates being handled finish
            await asyncio.gather(*running, return_exceptions=True)
