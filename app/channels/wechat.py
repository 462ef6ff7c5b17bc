"""The WeChat official account callback at /wechat.

Every request is signed by WeChat with the account's token; one that is not, or whose
timestamp is more than `signature_max_age_seconds` away, is refused (403) before anything
is read. A signed query is accepted once: the database remembers each signature with a
digest of its body, so the same query with another body (a replay from a logged URL) is
refused; the same body again is WeChat's retry, which the inbound claim dedupes. Safe
mode (WECHAT_AES_KEY) decrypts with wechatpy's crypto, which checks `msg_signature`, and
refuses plaintext unless `compatible_mode` says the account is in 兼容模式.
WeChat waits about 5 seconds for an answer and then retries the same message (same
MsgId) up to three times, so each message is claimed in the database before it is
handled, and handled once. The reply goes back passively if it is ready within
`passive_reply_seconds`; otherwise WeChat gets "success" and the reply follows as a
customer-service message. A retry that arrives while the first is still being handled
waits for the same result; only one of them carries it. When the database cannot be
reached before the message is claimed, WeChat gets 503 (not "success"), so it retries."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import (
    ClickEvent,
    ScanEvent,
    SubscribeEvent,
    SubscribeScanEvent,
    UnsubscribeEvent,
)
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage, TextMessage, VoiceMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from app.channels import records
from app.channels.body import TooLarge, read_limited
from app.channels.dialogue import MENU, Dialogue, bind_payload, put_off, replies
from app.channels.wechat_sender import WeChatSender, menu_text
from core.clock import now
from core.config import WeChat
from core.messages import Inbound, Reply
from core.text import clean
from handlers.ports import Delivery, Outcome, Outgoing
from storage import attempts
from storage.db import Database

log = logging.getLogger(__name__)

CHANNEL = "wechat"
MAX_BODY = 64 * 1024  # WeChat's messages are a few KB; anything larger is not WeChat
PASSIVE_LIMIT = 2000  # bytes of text a passive reply may carry
KEEP_PENDING_SECONDS = 30  # a retry after this is answered "success" from the claim
PRUNE_EVERY_SECONDS = 60  # how often a process forgets signatures too old to come back


class Unavailable(Exception):
    """The message could not be claimed (the database is away): WeChat must retry."""


@dataclass
class Pending:
    """A message being handled, and the requests (first and retries) waiting for it."""

    result: asyncio.Future
    waiters: int = 0
    delivered: bool = False
    failed: bool = False  # not claimed: the platform's retry must try again


@dataclass(frozen=True)
class Work:
    """What to do with a message: ask the engine, or say something fixed."""

    openid: str
    inbound: Inbound | None = None
    fixed: str | None = None  # a catalogue key: the polite answer to an image, say
    at: datetime = field(default_factory=now)


def compose(replies: list[Reply]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The replies as WeChat messages: one when they fit together, else one each."""
    items = [(r.text, [(b.title, b.payload) for b in r.buttons]) for r in replies]
    if len(items) <= 1:
        return items
    text = "\n\n".join(t for t, _ in items)
    buttons = [b for _, bs in items for b in bs]
    if len(menu_text(text, buttons).encode()) <= PASSIVE_LIMIT:
        return [(text, buttons)]
    return items


class WeChatCallback:
    def __init__(
        self,
        token: str,
        dialogue: Dialogue,
        database: Database,
        settings: WeChat,
        sender: WeChatSender | None = None,
        crypto: WeChatCrypto | None = None,
        clock: Callable[[], datetime] = now,
        max_body: int = MAX_BODY,
        wall: Callable[[], float] = time.time,
    ):
        self._token = token
        self._dialogue = dialogue
        self._db = database
        self._settings = settings
        self._sender = sender
        self._crypto = crypto
        self._clock = clock
        self._max_body = max_body
        self._wall = wall  # signatures carry real time, whatever the business clock says
        self._pruned_at = 0.0
        self._pending: dict[str, Pending] = {}
        self._user_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._tasks: set[asyncio.Task] = set()

    def router(self) -> APIRouter:
        # Plain Starlette routes, as for Telegram's webhook: no dependencies to resolve.
        router = APIRouter()
        router.add_route("/wechat", self.verify, methods=["GET"], include_in_schema=False)
        router.add_route("/wechat", self.receive, methods=["POST"], include_in_schema=False)
        return router

    # -- HTTP ----------------------------------------------------------------------------

    def _signed(self, query) -> bool:
        """Signed with our token, and signed recently."""
        try:
            check_signature(self._token, query["signature"], query["timestamp"], query["nonce"])
        except (KeyError, InvalidSignatureException):
            return False
        stamp = query["timestamp"]
        limit = self._settings.signature_max_age_seconds
        return stamp.isdigit() and len(stamp) <= 12 and abs(self._wall() - int(stamp)) <= limit

    async def verify(self, request: Request) -> Response:
        """WeChat's server check when the callback URL is saved: echo echostr."""
        if not self._signed(request.query_params):
            return Response(status_code=403)
        return PlainTextResponse(request.query_params.get("echostr", ""))

    async def receive(self, request: Request) -> Response:
        started = time.monotonic()
        query = request.query_params
        if not self._signed(query):
            return Response(status_code=403)
        try:
            body = await read_limited(request, self._max_body)
        except TooLarge:
            return Response(status_code=413)
        encrypted = query.get("encrypt_type") == "aes"
        crypto = self._crypto if encrypted else None
        if encrypted and crypto is None:
            log.error("wechat: an encrypted message arrived but WECHAT_AES_KEY is not set")
            return Response(status_code=503)
        if self._crypto is not None and not encrypted and not self._settings.compatible_mode:
            log.info("wechat: a plaintext message refused in safe mode (see compatible_mode)")
            return Response(status_code=403)
        try:
            xml = body
            if crypto is not None:
                xml = crypto.decrypt_message(
                    body, query.get("msg_signature", ""), query["timestamp"], query["nonce"]
                )
            message = parse_message(xml)
            key = self._key(message)
        except (InvalidSignatureException, InvalidAppIdException):
            return Response(status_code=403)
        except Exception as exc:  # malformed XML, bad base64, missing fields, MsgId "abc"
            # The body may hold a member's number and birthday: only the kind of fault.
            log.info("wechat: malformed message refused: %s", type(exc).__name__)
            return Response(status_code=400)
        if message is None or not message.source or len(message.source) > 100:
            return Response(status_code=400)
        try:
            fresh = await asyncio.to_thread(
                attempts.first_sight, self._db, CHANNEL, query["signature"], body, self._seen_at()
            )
            await self._prune()
        except Exception as exc:  # the database is away: WeChat retries in a few seconds
            log.warning("wechat: cannot check the signature: %s", type(exc).__name__)
            return Response(status_code=503)
        if not fresh:
            log.warning("wechat: a signed query came back with another body: replay refused")
            return Response(status_code=403)
        try:
            text = await self.handle(message, started, key)
        except Unavailable:
            return Response(status_code=503)
        if text is None:
            return PlainTextResponse("success")
        reply = TextReply(message=message, content=text).render()
        if crypto is not None:
            reply = crypto.encrypt_message(reply, query["nonce"], query["timestamp"])
        return Response(reply, media_type="application/xml")

    def _seen_at(self) -> datetime:
        return datetime.fromtimestamp(self._wall(), UTC)

    async def _prune(self) -> None:
        """Now and then: signatures older than twice the window cannot come back."""
        if time.monotonic() - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = time.monotonic()
        age = timedelta(seconds=2 * self._settings.signature_max_age_seconds)
        await asyncio.to_thread(attempts.forget_signatures_before, self._db, self._seen_at() - age)

    # -- one message -------------------------------------------------------------------

    async def handle(self, message: BaseMessage, started: float, key: str) -> str | None:
        """The passive reply's text, or None for "success". WeChat never waits longer
        than the passive deadline, however busy the server: the work goes on in the
        background and its reply follows as a customer-service message. Unavailable:
        the message could not be claimed; WeChat must retry."""
        pending = self._pending.get(key)
        if pending is None:  # not a retry of a message this process is already handling
            pending = self._pending[key] = Pending(asyncio.get_running_loop().create_future())
            task = asyncio.create_task(self._process(key, message, pending))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await self._wait(pending, started)

    def _key(self, message: BaseMessage) -> str:
        """MsgId, or for events sender, time and kind; ValueError when MsgId or CreateTime is
        not a number WeChat would send (64 bits)."""
        if message.id:
            msg_id = int(message.id)
            if not 0 < msg_id < 2**64:
                raise ValueError("MsgId out of range")
            return str(msg_id)
        # Events carry no MsgId: WeChat's advice is sender and creation time.
        return f"{message.source}:{message.time}:{getattr(message, 'event', message.type)}"

    async def _work(self, message: BaseMessage) -> Work | None:
        """What a message asks for; None for what needs no answer (menu links, reports)."""
        openid = message.source

        def ask(text=None, button=None) -> Work:
            inbound = Inbound(
                CHANNEL, openid, text=text, button=button, message_id=self._key(message)
            )
            return Work(openid, inbound=inbound, at=self._clock())

        if isinstance(message, TextMessage):
            menu_id = (message._data or {}).get("bizmsgmenuid")
            if menu_id and str(menu_id).isdigit():
                payload = await asyncio.to_thread(
                    records.offered_payload, self._db, CHANNEL, openid, int(menu_id)
                )
                if payload:
                    return ask(button=payload)
            text = clean(message.content or "").strip()
            return ask(text=text) if text else None
        if isinstance(message, ClickEvent):
            return ask(button=message.key) if message.key else None
        if isinstance(message, SubscribeEvent | SubscribeScanEvent | ScanEvent):
            scene = getattr(message, "scene_id", None)
            return ask(button=bind_payload(scene) or MENU)
        if isinstance(message, VoiceMessage):
            recognised = clean((message._data or {}).get("Recognition") or "").strip()
            if recognised:
                return ask(text=recognised)
        if message.type in ("image", "voice", "video", "shortvideo", "location", "link"):
            return Work(openid, fixed="channel.unsupported", at=self._clock())
        return None  # VIEW, LOCATION reports, template-send reports ...

    async def _wait(self, pending: Pending, started: float) -> str | None:
        """Wait for the result until the passive deadline; one waiter carries it."""
        remaining = self._settings.passive_reply_seconds - (time.monotonic() - started)
        pending.waiters += 1
        try:
            await asyncio.wait({pending.result}, timeout=max(0.0, remaining))
        finally:
            pending.waiters -= 1
        if pending.failed:
            raise Unavailable
        if pending.result.done() and not pending.delivered and pending.result.result():
            pending.delivered = True
            return pending.result.result()
        return None

    async def _process(self, key: str, message: BaseMessage, pending: Pending) -> None:
        claimed = False
        try:
            if isinstance(message, UnsubscribeEvent):
                await asyncio.to_thread(
                    records.mark_unreachable,
                    self._db,
                    CHANNEL,
                    message.source,
                    "unsubscribed from the official account",
                    self._clock(),
                )
                return
            later: list[tuple[str, list[tuple[str, str]]]] = []
            # Taken before the menu is read: the buttons the last answer offered are
            # written down before this member's next message looks them up.
            async with self._user_locks.setdefault(message.source, asyncio.Lock()):
                work = await self._work(message)
                if work is None:
                    return
                claim = partial(records.claim_inbound, self._db, CHANNEL, key, work.openid, work.at)
                answer = await replies(
                    self._dialogue, CHANNEL, work.openid, work.inbound, work.fixed, claim=claim
                )
                claimed = True  # replies() raises when the claim itself failed
                if answer is not None:  # None: another process claimed it
                    later = await self._answer_passively(work.openid, compose(answer), pending)
            if later:
                await self._send_later(key, work.openid, later, work.at)
        except Exception:
            log.exception("wechat: answering %s failed", key)
            if not claimed:  # nothing of it was kept: WeChat retries, and it is handled then
                pending.failed = True
                self._pending.pop(key, None)
        finally:
            if not pending.result.done():
                pending.result.set_result(None)
            if not pending.failed:
                loop = asyncio.get_running_loop()
                loop.call_later(KEEP_PENDING_SECONDS, self._pending.pop, key, None)

    async def _answer_passively(
        self, openid: str, messages: list[tuple[str, list[tuple[str, str]]]], pending: Pending
    ) -> list[tuple[str, list[tuple[str, str]]]]:
        """The first message as the passive reply when a request still waits for it, and
        its send record with its buttons; the messages left to send later."""
        # No await between this look and the result: a waiter that is still here carries it.
        if not messages or pending.waiters == 0:
            pending.result.set_result(None)
            return messages  # the sender writes down the buttons of what it sends
        text, buttons = messages[0]
        pending.result.set_result(menu_text(text, buttons))
        try:  # bookkeeping after the claim: a fault here never costs the member the answer
            await asyncio.to_thread(
                records.record_send,
                self._db,
                CHANNEL,
                openid,
                text,
                Delivery(Outcome.SENT, via="passive"),
                self._clock(),
                offered=buttons,
            )
        except Exception as exc:
            log.warning("wechat: the passive reply's record failed: %s", type(exc).__name__)
        return messages[1:]

    async def _send_later(
        self, key: str, openid: str, messages: list[tuple[str, list[tuple[str, str]]]], at: datetime
    ) -> None:
        """Customer-service messages, in order; what WeChat puts off goes to the outbox."""
        if self._sender is None:
            log.warning(
                "wechat: a late reply to %s was dropped: set WECHAT_APP_ID and "
                "WECHAT_APP_SECRET so the bot can send customer-service messages",
                openid,
            )
            return
        for number, (text, buttons) in enumerate(messages):
            outgoing = Outgoing(openid, text, buttons, kind="reply", last_inbound_at=at)
            delivery = await asyncio.to_thread(self._sender.send, outgoing)
            if delivery.outcome is Outcome.RETRY:
                await put_off(self._db, CHANNEL, openid, key, messages[number:], at, delivery)
            elif delivery.outcome is not Outcome.SENT:
                log.warning("wechat: late reply to %s not sent: %s", openid, delivery.detail)
            if delivery.outcome is not Outcome.SENT:
                return

    async def drain(self) -> None:
        """Let replies being handled finish (on shutdown, and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
