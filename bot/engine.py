"""The dialogue engine, independent of any channel.

    engine = Engine(database, config, parser)
    turn = engine.handle(Inbound("telegram", "12345", text="我还有多少积分"))
    turn.replies  # [Reply(text, buttons)], to send back in order

Each message is one unit of work: the conversation state, the ledger, tickets and the
message log commit together, or not at all. The state lives in the database, so a new
engine (a restart, another worker) carries on any conversation mid-flow."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from bot import dispatch, message_log
from bot.router import FORMS
from core import catalogue, language
from core.clock import now as clock_now
from core.config import Config
from core.messages import Inbound, Reply, Turn
from handlers.conversation.context import Context
from handlers.desk import member_views as views
from storage import members
from storage.db import Database
from storage.models import ChatIdentity, ConversationState

log = logging.getLogger(__name__)

# Every turn reads these: built once.
CONVERSATION = (
    select(ChatIdentity, ConversationState)
    .outerjoin(ConversationState, ConversationState.identity_id == ChatIdentity.id)
    .options(joinedload(ChatIdentity.member))
    .where(
        ChatIdentity.channel == bindparam("channel"),
        ChatIdentity.external_id == bindparam("user"),
    )
)
LOCKED_STATE = (
    select(ConversationState)
    .where(ConversationState.identity_id == bindparam("identity"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


class Engine:
    def __init__(
        self, database: Database, config: Config, parser, clock: Callable[[], datetime] = clock_now
    ):
        self.database = database
        self.config = config
        self.parser = parser
        self.clock = clock
        self.refresh_benefit_names()

    def refresh_benefit_names(self) -> None:
        """Teach the NLU the catalogue's benefit names (call again after editing it)."""
        with self.database.unit_of_work(write=False) as session:
            names = {b.code: [b.name_zh, b.name_en] for b in views.catalogue(session)}
        self.parser.set_benefit_names(names)

    def handle(self, message: Inbound) -> Turn:
        started = time.perf_counter()
        try:
            return self._handle_once(message, started, retry=False)
        except IntegrityError as exc:
            log.debug("turn retried after %s", exc.orig)
            # The channel's retry of this very message (same id), or a concurrent first
            # message from the same chat, committed first: run again and see it.
            try:
                return self._handle_once(message, started, retry=True)
            except Exception:
                log.exception("turn failed twice: %s %s", message.channel, message.user_id)
                return self._failed(message)
        except Exception:
            # The one place a failure becomes a polite answer; the turn's work rolled back.
            log.exception("turn failed: %s %s", message.channel, message.user_id)
            return self._failed(message)

    def _handle_once(self, message: Inbound, started: float, retry: bool) -> Turn:
        with self.database.unit_of_work() as session:
            # A repeat is found by the log's unique message id at commit, not by a lookup
            # on every message: only the retry after that looks.
            seen = message_log.earlier(session, message) if retry else None
            if seen is not None:
                first, replies = seen
                return Turn(
                    replies,
                    first.intent,
                    first.confidence,
                    self.config.default_language,
                    outcome=first.outcome or "answered",
                    duplicate=True,
                )
            turn = self._turn(session, message, started)
            session.commit()
            return turn

    def _turn(self, session: Session, message: Inbound, started: float) -> Turn:
        at = self.clock()
        identity, state = self._conversation(session, message, at)
        # The language guess changes the state and identity before note_inbound's UPDATE
        # flushes them: one flush for the turn's bookkeeping instead of one per query.
        lang = self._language(identity, state, message)
        members.note_inbound(session, identity, at)
        form = FORMS.get(state.flow) if state.flow else None
        understood, pressed, word = dispatch.understand(
            message.text, message.button, form, self.parser
        )
        ctx = Context(
            session=session,
            config=self.config,
            now=at,
            identity=identity,
            member=identity.member,
            state=state,
            lang=lang,
            understood=understood,
            text=message.text,
            payload=message.button,
        )
        dispatch.respond(ctx, pressed, word)
        if session.is_modified(state):
            state.updated_at = at
        message_log.record(session, message, ctx, (time.perf_counter() - started) * 1000)
        return Turn(
            ctx.replies,
            understood.intent,
            understood.confidence,
            ctx.lang,
            ctx.outcome,
            owner=state.owner,
            member_no=ctx.member.member_no if ctx.member else None,
        )

    def _conversation(
        self, session: Session, message: Inbound, at: datetime
    ) -> tuple[ChatIdentity, ConversationState]:
        """The chat identity (with its member) and the conversation state, in one query,
        created on first contact."""
        found = session.execute(
            CONVERSATION, {"channel": message.channel, "user": message.user_id}
        ).first()
        identity, state = found if found else (None, None)
        if identity is None:
            identity = members.identity(session, message.channel, message.user_id, at)
        if state is not None and not self.database.is_sqlite:
            # Two messages of one chat are handled one after the other. SQLite's write
            # transactions are serial already; PostgreSQL locks the row, then re-reads it.
            state = session.scalar(LOCKED_STATE, {"identity": identity.id})
        if state is None:
            state = ConversationState(
                identity_id=identity.id,
                owner="bot",
                slots={},
                misses=0,
                reasks=0,
                confirmed=[],
                messages_in=0,
                language_chosen=False,
                updated_at=at,
            )
            session.add(state)
        return identity, state

    def _language(self, identity: ChatIdentity, state: ConversationState, message: Inbound) -> str:
        """The stored language; during the first few messages a clear guess from the
        text replaces it, unless the member chose one."""
        if (
            message.text
            and not state.language_chosen
            and state.messages_in < self.config.dialogue.language_guess_messages
        ):
            # Only a message that tells (not `👍` or `。。。`) uses up one of the guesses.
            guessed = language.guess(message.text)
            if guessed:
                state.messages_in += 1
            if guessed and guessed != identity.language:
                identity.language = guessed
        member = identity.member
        return (
            identity.language
            or (member.language if member else None)
            or self.config.default_language
        )

    def _failed(self, message: Inbound) -> Turn:
        lang = self.config.default_language
        sorry = Reply(catalogue.text(lang, "error.sorry"))
        try:  # the failed message still counts in the desk's figures
            with self.database.unit_of_work() as session:
                at = self.clock()
                identity = members.identity(session, message.channel, message.user_id, at)
                message_log.failed(session, message, identity, sorry, at)
                session.commit()
        except Exception:
            log.exception("could not log the failed turn either")
        return Turn([sorry], None, None, lang, "error")
