"""The one adapter between the channels and the dialogue engine.

A channel turns what the platform sent into an engine `Inbound` (text, or a button
payload: commands and menu clicks become the engine's own payloads, so they work in any
language) and sends the replies back; nothing else of the engine is seen here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from app import metrics
from app.channels import records
from core import catalogue, payloads
from core.messages import Inbound, Reply
from handlers.ports import Delivery
from storage.db import Database
from storage.models import ChatIdentity, Member

log = logging.getLogger(__name__)

# Telegram commands and the WeChat subscribe event, as engine payloads.
MENU = payloads.global_word("menu")
CANCEL = payloads.global_word("cancel")
PERSON = payloads.global_word("person")
COMMANDS = {"start": MENU, "menu": MENU, "cancel": CANCEL, "human": PERSON}
BIND_PREFIX = "bind_"  # deep link /start bind_M000001, WeChat QR scene bind_M000001


class Dialogue(Protocol):
    def handle(self, inbound: Inbound) -> list[Reply]: ...

    def language(self, channel: str, user_id: str) -> str: ...


async def replies(
    dialogue: Dialogue,
    channel: str,
    user: str,
    inbound: Inbound | None,
    fixed: str | None = None,
    claim: Callable[[], bool] | None = None,
) -> list[Reply] | None:
    """What to answer one message: the engine's replies, or the catalogue text `fixed`
    (an unsupported message); when the engine fails, an apology in the member's language,
    so a member is never left without an answer. `claim`, when given, claims the message
    first in the same worker thread as the turn (one hand-off instead of two): None when
    it was claimed already; a failure to claim is raised, not apologised for."""
    claimed = claim is None

    def turn() -> list[Reply] | None:
        nonlocal claimed
        if claim is not None:
            if not claim():
                return None
            claimed = True
        metrics.MESSAGES_IN.labels(channel).inc()
        if fixed is not None or inbound is None:
            lang = dialogue.language(channel, user)
            return [Reply(catalogue.text(lang, fixed or "channel.unsupported"))]
        return dialogue.handle(inbound)

    try:
        answer = await asyncio.to_thread(turn)
    except Exception:
        if not claimed:
            raise
        log.exception("%s: the engine failed on a message from %s", channel, user)
        lang = "zh"
        with contextlib.suppress(Exception):
            lang = await asyncio.to_thread(dialogue.language, channel, user)
        answer = [Reply(catalogue.text(lang, "channel.failed"))]
    if answer is not None:
        metrics.MESSAGES_OUT.labels(channel).inc(len(answer))
    return answer


async def put_off(
    db: Database,
    channel: str,
    user: str,
    key: str,
    messages: list[tuple[str, list[tuple[str, str]]]],
    at: datetime,
    delivery: Delivery,
) -> None:
    """Replies the platform put off (`delivery` came back RETRY), queued for the
    dispatcher; should the queue fail too, the loss is logged (the member may ask again)."""
    try:
        await asyncio.to_thread(
            records.put_off, db, channel, user, key, messages, at, delivery.retry_after
        )
        log.info("%s: %d replies to %s put off: %s", channel, len(messages), user, delivery.detail)
    except Exception as exc:
        log.warning(
            "%s: replies to %s not sent nor queued (%s): %s",
            channel, user, delivery.detail, type(exc).__name__,
        )  # fmt: skip


def bind_payload(argument: str | None) -> str | None:
    """`bind_M000001` (a deep link or QR scene) as the engine's binding payload."""
    if argument and argument.startswith(BIND_PREFIX) and len(argument) > len(BIND_PREFIX):
        member_no = argument[len(BIND_PREFIX) :].upper()
        if member_no.isalnum() and len(member_no) <= 20:
            return payloads.intent("bind_account", member_no=member_no)
    return None


class EngineDialogue:
    """The real engine, built once on first use."""

    def __init__(self, app):
        self._app = app
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            self._engine = self._app.engine
        return self._engine

    def warm(self) -> None:
        self.engine  # noqa: B018 - building it is the point
        for lang in catalogue.LANGUAGES:  # read now, not while the first member waits
            catalogue.strings(lang)

    def handle(self, inbound: Inbound) -> list[Reply]:
        with metrics.TURN_SECONDS.labels(inbound.channel).time():
            turn = self.engine.handle(inbound)
        if turn.intent == "nlu_fallback":
            metrics.NLU_FALLBACKS.labels(inbound.channel).inc()
        # A repeat the engine answered from its log was already delivered.
        return [] if turn.duplicate else list(turn.replies)

    def language(self, channel: str, user_id: str) -> str:
        return stored_language(self._app.database, channel, user_id, self._app.config)


def stored_language(db: Database, channel: str, user_id: str, config) -> str:
    with db.unit_of_work(write=False) as session:
        row = session.execute(
            select(ChatIdentity.language, Member.language)
            .outerjoin(Member, Member.id == ChatIdentity.member_id)
            .where(ChatIdentity.channel == channel, ChatIdentity.external_id == user_id)
        ).first()
    if row is None:
        return config.default_language
    return row[0] or row[1] or config.default_language
