"""Channels end to end: the real libraries (python-telegram-bot, wechatpy, uvicorn)
against fake platform servers on 127.0.0.1, on a migrated SQLite database with the
demo data, the demo member bound to a Telegram user and a WeChat openid."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import uvicorn

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # `tests.fakes` is imported from the repository root
    sys.path.insert(0, str(ROOT))

from app.channels.setup import Channels  # noqa: E402
from app.channels.telegram import TelegramChannel  # noqa: E402
from app.channels.telegram_sender import TelegramSender  # noqa: E402
from app.channels.wechat import WeChatCallback  # noqa: E402
from app.channels.wechat_sender import WeChatSender  # noqa: E402
from app.composition import App  # noqa: E402
from app.web import create_app  # noqa: E402
from core.messages import Button, Inbound, Reply  # noqa: E402
from handlers.desk import demo  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.members import by_number, identity  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.conftest import fresh_postgres  # noqa: E402
from tests.fakes import telegram_api, wechat_api  # noqa: E402

for name in ("NO_PROXY", "no_proxy"):
    os.environ[name] = "127.0.0.1,localhost"

NOW = datetime.fromisoformat("2026-05-10T10:00:00+08:00")
TELEGRAM_USER = 424242
OPENID = "o_demo_member_openid"
WEBHOOK_SECRET = "webhook-secret-for-tests"
TELEGRAM_HEADERS = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory, config) -> Path:
    """Migrated and seeded once; each test gets a copy."""
    path = tmp_path_factory.mktemp("channels-template") / "memberbot.db"
    url = f"sqlite:///{path}"
    upgrade(url, "heads")
    db = Database(url)
    demo.seed(db, config, NOW)
    with db.unit_of_work() as session:
        member = by_number(session, "M000001")
        for channel, external_id in (("telegram", str(TELEGRAM_USER)), ("wechat", OPENID)):
            bound = identity(session, channel, external_id, NOW)
            bound.member_id, bound.language = member.id, "zh"
        session.commit()
    db.dispose()
    return path


@pytest.fixture
def database(seeded_file, tmp_path) -> Database:
    path = tmp_path / "memberbot.db"
    shutil.copyfile(seeded_file, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture
def quick_config(config):
    """The project configuration with a per-chat interval short enough for many turns."""
    channels = config.channels.model_copy(
        update={
            "telegram": config.channels.telegram.model_copy(
                update={"per_chat_interval_seconds": 0.01}
            ),
            "wechat": config.channels.wechat.model_copy(update={"passive_reply_seconds": 1.0}),
        }
    )
    return config.model_copy(update={"channels": channels})


@pytest.fixture
def app(quick_config, database) -> App:
    made = App(config=quick_config)
    made.__dict__["database"] = database
    return made


@pytest.fixture
def fake_telegram():
    with telegram_api.FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake_wechat():
    with wechat_api.FakeWeChatAPI() as fake:
        yield fake


class EchoDialogue:
    """A stand-in for the engine: answers every message with one reply and one button."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.calls: list[Inbound] = []
        self.lock = threading.Lock()

    def handle(self, inbound: Inbound) -> list[Reply]:
        with self.lock:
            self.calls.append(inbound)
        time.sleep(self.delay)
        said = inbound.text if inbound.text is not None else f"[{inbound.button}]"
        return [Reply(f"echo {said}", (Button("好的", "a:ok"),))]

    def language(self, channel: str, user_id: str) -> str:
        return "zh"


def telegram_sender_for(app, fake_telegram, **options) -> TelegramSender:
    """A real sender pointed at the fake Bot API; the caller closes it."""
    return TelegramSender(
        telegram_api.TOKEN,
        app.config.channels.telegram,
        app.database,
        base_url=fake_telegram.base_url,
        **options,
    )


@pytest.fixture
def telegram_sender(app, fake_telegram):
    sender = telegram_sender_for(app, fake_telegram)
    yield sender
    sender.close()


@pytest.fixture
def wechat_sender(app, fake_wechat):
    return WeChatSender(
        wechat_api.APP_ID,
        wechat_api.APP_SECRET,
        app.config.channels.wechat,
        app.database,
        base_url=fake_wechat.base_url,
        backoff=0.01,
        clock=lambda: NOW,
    )


def channels_for(
    app, dialogue, telegram_sender=None, wechat_sender=None, aes_key=None, **wechat_settings
):
    channels = Channels()
    if telegram_sender is not None:
        channels.senders["telegram"] = telegram_sender
        channels.telegram = TelegramChannel(
            dialogue,
            telegram_sender,
            app.database,
            webhook_secret=WEBHOOK_SECRET,
            clock=lambda: NOW,
        )
    crypto = None
    if aes_key:
        from wechatpy.crypto import WeChatCrypto

        crypto = WeChatCrypto(wechat_api.TOKEN, aes_key, wechat_api.APP_ID)
    if wechat_sender is not None:
        channels.senders["wechat"] = wechat_sender
    channels.wechat = WeChatCallback(
        wechat_api.TOKEN,
        dialogue,
        app.database,
        app.config.channels.wechat.model_copy(update=wechat_settings),
        sender=wechat_sender,
        crypto=crypto,
        clock=lambda: NOW,
    )
    return channels


class RunningServer:
    """`create_app` served by uvicorn in a thread on a free port of 127.0.0.1."""

    def __init__(self, web):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(web, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.client = httpx.Client(base_url=self.url, timeout=10)
        return self

    def __exit__(self, *exc):
        self.client.close()
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


@pytest.fixture
def serve():
    """serve(web) -> a running server; stopped at the end of the test."""
    running = []

    def start(web):
        server = RunningServer(web).__enter__()
        running.append(server)
        return server

    yield start
    for server in running:
        server.__exit__(None, None, None)


@pytest.fixture
def web_for(app):
    def build(channels):
        return create_app(app, channels)

    return build


def wait_until(predicate, timeout: float = 5.0) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


@pytest.fixture
def postgres_url(config):
    """A fresh PostgreSQL database, migrated and seeded, for processes of their own."""
    with fresh_postgres("memberbot_scale") as (_, _, url):
        db = Database(url)
        demo.seed(db, config, NOW)
        db.dispose()
        yield url
