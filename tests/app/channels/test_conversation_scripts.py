"""The conversation scripts (tests/bot/*.yml) that list `telegram` or `wechat`
in their `channels`, played through that channel: the running server, the real channel
library against the fake platform, the real engine and NLU, a seeded SQLite database.

Each script user is a chat of that platform (a Telegram user id, a WeChat openid); the
ones bound on the console (demo, demo-en) are bound to the same members there. What the
member sees is read from the platform: Telegram's sendMessage calls with their inline
keyboards; WeChat's passive reply (and any customer-service messages that follow) with
its menu links. Pressing a button is a callback query on Telegram and a tap on the menu
link on WeChat. Intent and outcome come from the message log."""

from __future__ import annotations

import re
import zlib

import pytest
from sqlalchemy import select

from app.channels.dialogue import EngineDialogue
from app.channels.wechat import compose
from app.composition import App
from bot.engine import Engine
from core.messages import Button, Inbound, Reply, Turn
from handlers.desk import demo
from storage import members
from storage.models import ChatIdentity, ConversationState, MessageLog
from tests.app.channels.conftest import TELEGRAM_HEADERS, channels_for, wait_until
from tests.bot.conftest import SEEDED_AT
from tests.bot.script import Script
from tests.bot.test_conversations import cases
from tests.fakes.telegram_api import button_update, text_update
from tests.fakes.wechat_api import FakeWeChatServer

MENU_LINK = re.compile(
    r'<a href="weixin://bizmsgmenu\?msgmenucontent=[^&]*&msgmenuid=(\d+)">([^<]*)</a>'
)


@pytest.fixture(scope="session")
def parser(config):
    from nlu.service import build_parser

    return build_parser(config)


def _external(channel: str, user: str) -> str:
    if channel == "telegram":
        return str(100_000 + zlib.crc32(user.encode()) % 900_000)
    return f"o_{user}"


class Platform:
    """Sends a script's messages through one channel and reads what the member sees."""

    def __init__(self, channel, server, app, senders, fake_telegram=None, fake_wechat=None):
        self.channel, self.server, self.app = channel, server, app
        self.senders = senders
        self.fake_telegram, self.fake_wechat = fake_telegram, fake_wechat
        self.wechat = FakeWeChatServer()
        self.links: dict[str, str] = {}  # WeChat: menu link title -> its number

    def external_id(self, user: str) -> str:
        return _external(self.channel, user)

    def handle(self, script: Script, message: Inbound) -> Turn:
        send = self._telegram if self.channel == "telegram" else self._wechat
        replies = send(message)
        return self._turn(replies, message.user_id)

    # -- Telegram ------------------------------------------------------------------------

    def _telegram(self, message: Inbound) -> list[Reply]:
        chat = int(message.user_id)
        before = len(self.fake_telegram.sent(chat))
        if message.button is not None:
            update = button_update(chat, message.button)
        else:
            update = text_update(chat, message.text)
        answer = self.server.client.post("/telegram/webhook", json=update, headers=TELEGRAM_HEADERS)
        assert answer.status_code == 200
        return [
            Reply(
                sent["text"],
                tuple(
                    Button(b["text"], b["callback_data"])
                    for row in (sent.get("reply_markup") or {}).get("inline_keyboard", [])
                    for b in row
                ),
            )
            for sent in self.fake_telegram.sent(chat)[before:]
        ]

    # -- WeChat --------------------------------------------------------------------------

    def _wechat(self, message: Inbound) -> list[Reply]:
        openid = message.user_id
        later = len(self.fake_wechat.sent("message/custom/send"))
        handled = self._inbound_id(openid)
        if message.button is not None and message.button in self.links:
            title, number = message.button, self.links[message.button]
            xml = self.wechat.text(openid, title, bizmsgmenuid=number)
        elif message.button is not None:  # a raw payload: a menu click
            xml = self.wechat.event(openid, "CLICK", key=message.button)
        else:
            xml = self.wechat.text(openid, message.text)
        query, body = self.wechat.request(xml)
        answer = self.server.client.post(f"/wechat?{query}", content=body)
        assert answer.status_code == 200
        passive = self.wechat.reply_text(answer.content)
        # On a busy machine WeChat's passive deadline may pass first: the engine finishes
        # and the replies follow as customer-service messages.
        assert wait_until(lambda: self._inbound_id(openid) != handled, timeout=60)
        expected = len(compose(self._logged_replies(openid))) - (1 if passive else 0)
        assert wait_until(
            lambda: len(self.fake_wechat.sent("message/custom/send")) >= later + expected,
            timeout=60,
        )
        texts = [passive] if passive else []
        texts += [
            sent["text"]["content"] for sent in self.fake_wechat.sent("message/custom/send")[later:]
        ]
        replies = []
        self.links = {}
        for text in texts:
            found = MENU_LINK.findall(text)
            self.links.update({title: number for number, title in found})
            shown = MENU_LINK.sub("", text).strip()
            # a button's title pressed later is sent back as its title with its number
            replies.append(Reply(shown, tuple(Button(t, t) for _, t in found)))
        return replies

    def _inbound_id(self, openid: str) -> int | None:
        with self.app.database.unit_of_work(write=False) as session:
            inbound = self._last_inbound(session, openid)
            return inbound.id if inbound else None

    def _logged_replies(self, openid: str) -> list[Reply]:
        with self.app.database.unit_of_work(write=False) as session:
            inbound = self._last_inbound(session, openid)
            if inbound is None:
                return []
            rows = session.scalars(
                select(MessageLog)
                .where(MessageLog.reply_to_id == inbound.id, MessageLog.direction == "out")
                .order_by(MessageLog.id)
            )
            return [
                Reply(r.text, tuple(Button(b["title"], b["payload"]) for b in r.buttons or []))
                for r in rows
            ]

    # -- what the engine made of it ------------------------------------------------------

    def _last_inbound(self, session, external_id: str) -> MessageLog | None:
        identity = session.scalar(
            select(ChatIdentity).where(
                ChatIdentity.channel == self.channel, ChatIdentity.external_id == external_id
            )
        )
        if identity is None:
            return None
        return session.scalar(
            select(MessageLog)
            .where(MessageLog.identity_id == identity.id, MessageLog.direction == "in")
            .order_by(MessageLog.id.desc())
            .limit(1)
        )

    def _turn(self, replies: list[Reply], external_id: str) -> Turn:
        with self.app.database.unit_of_work(write=False) as session:
            logged = self._last_inbound(session, external_id)
            identity = session.get(ChatIdentity, logged.identity_id)
            state = session.get(ConversationState, identity.id)
            return Turn(
                replies,
                logged.intent,
                logged.confidence,
                identity.language or "zh",
                logged.outcome or "answered",
                owner=state.owner if state else "bot",
            )


def _mirror_console_users(database, channel: str) -> None:
    """The console's demo users, as chats of `channel` bound to the same members."""
    with database.unit_of_work() as session:
        console = session.scalars(
            select(ChatIdentity).where(
                ChatIdentity.channel == "console", ChatIdentity.member_id.is_not(None)
            )
        ).all()
        for known in console:
            chat = members.identity(
                session, channel, _external(channel, known.external_id), SEEDED_AT
            )
            chat.member_id, chat.language = known.member_id, known.language
        session.commit()


def _params(channel: str):
    return [
        pytest.param(case, id=f"{stem}: {case['name']} [{channel}]")
        for stem, case in cases(channel)
    ]


def _play(case, channel, platform_for, config, parser, sqlite_db):
    demo.seed(sqlite_db, config, SEEDED_AT)
    _mirror_console_users(sqlite_db, channel)
    script = Script(sqlite_db, config, parser, user=case.get("user", "demo"), at=SEEDED_AT)
    script.channel = channel
    platform = platform_for(sqlite_db, lambda: script.at)
    script.transport, script.senders = platform, platform.senders
    script.external = platform.external_id
    script.setup(case.get("setup") or {})
    for number, step in enumerate(case["steps"], start=1):
        script.run(step, where=f"{case['name']} [{channel}], step {number}")


def _app(quick_config, database, parser, clock) -> App:
    app = App(config=quick_config)
    app.__dict__["database"] = database
    app.__dict__["engine"] = Engine(database, quick_config, parser, clock=clock)
    return app


@pytest.mark.parametrize("case", _params("telegram"))
def test_script_through_telegram(
    case, config, quick_config, parser, sqlite_db, serve, fake_telegram
):
    from app.channels.telegram_sender import TelegramSender
    from tests.fakes import telegram_api

    def platform_for(database, clock):
        app = _app(quick_config, database, parser, clock)
        sender = TelegramSender(
            telegram_api.TOKEN,
            app.config.channels.telegram,
            database,
            base_url=fake_telegram.base_url,
        )
        channels = channels_for(app, EngineDialogue(app), telegram_sender=sender)
        from app.web import create_app

        server = serve(create_app(app, channels))
        return Platform("telegram", server, app, channels.senders, fake_telegram=fake_telegram)

    _play(case, "telegram", platform_for, config, parser, sqlite_db)


@pytest.mark.parametrize("case", _params("wechat"))
def test_script_through_wechat(case, config, quick_config, parser, sqlite_db, serve, fake_wechat):
    from app.channels.wechat_sender import WeChatSender
    from app.web import create_app
    from tests.fakes import wechat_api

    def platform_for(database, clock):
        app = _app(quick_config, database, parser, clock)
        sender = WeChatSender(
            wechat_api.APP_ID,
            wechat_api.APP_SECRET,
            app.config.channels.wechat,
            database,
            base_url=fake_wechat.base_url,
            backoff=0.01,
            clock=clock,
        )
        channels = channels_for(app, EngineDialogue(app), wechat_sender=sender)
        server = serve(create_app(app, channels))
        return Platform("wechat", server, app, channels.senders, fake_wechat=fake_wechat)

    _play(case, "wechat", platform_for, config, parser, sqlite_db)
