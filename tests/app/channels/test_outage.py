"""The database goes away mid-traffic and comes back: no message is lost and none is
answered twice. While it is away the WeChat callback answers 503 (not "success") and the
Telegram webhook 500, so both platforms deliver again; after it is back their
redeliveries are claimed once. Runs on a PostgreSQL database of its own, which the test
closes to connections (ALLOW_CONNECTIONS false, its backends terminated) and reopens."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import text

from app.channels.telegram_sender import TelegramSender
from app.composition import App
from storage.db import Database
from tests.app.channels.conftest import TELEGRAM_HEADERS, EchoDialogue, channels_for
from tests.conftest import fresh_postgres
from tests.fakes import telegram_api
from tests.fakes.wechat_api import FakeWeChatServer

MESSAGES = 24  # per channel


@pytest.fixture
def own_postgres():
    with fresh_postgres("memberbot_outage") as made:
        yield made


def _close(admin, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )


def _open(admin, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


def test_every_message_is_answered_exactly_once_across_a_database_outage(
    own_postgres, quick_config, serve, web_for, fake_telegram
):
    admin, name, url = own_postgres
    database = Database(url)
    app = App(config=quick_config)
    app.__dict__["database"] = database
    sender = TelegramSender(
        telegram_api.TOKEN,
        quick_config.channels.telegram,
        database,
        base_url=fake_telegram.base_url,
    )
    server = serve(web_for(channels_for(app, EchoDialogue(), telegram_sender=sender)))
    wechat = FakeWeChatServer()
    deliveries = []  # (platform, message number, query or None, body)
    for n in range(MESSAGES):
        openid = f"o_outage_member_{n % 4:02d}_abcdefghijklmnopqrst"
        query, body = wechat.request(wechat.text(openid, f"wechat {n}", msg_id=700000 + n))
        deliveries.append(("wechat", n, query, body))
        update = telegram_api.text_update(8000 + n % 4, f"telegram {n}", update_id=900000 + n)
        deliveries.append(("telegram", n, None, update))

    passive: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    lock = threading.Lock()

    def deliver(platform, n, query, body) -> None:
        """Like the platform: deliver until the server takes it (2xx)."""
        for _ in range(200):
            try:
                if platform == "wechat":
                    answer = server.client.post(f"/wechat?{query}", content=body)
                else:
                    answer = server.client.post(
                        "/telegram/webhook", json=body, headers=TELEGRAM_HEADERS
                    )
            except httpx.TransportError as exc:  # a connection cut: the platform tries again
                with lock:
                    refused[f"{platform} {type(exc).__name__}"] += 1
                time.sleep(0.1)
                continue
            if answer.status_code == 200:
                reply = wechat.reply_text(answer.content) if platform == "wechat" else None
                with lock:
                    if reply:
                        passive[reply.split("\n")[0]] += 1
                return
            with lock:
                refused[f"{platform} {answer.status_code}"] += 1
            time.sleep(0.1)
        raise AssertionError(f"{platform} message {n} never taken")

    def traffic(part: list) -> None:
        for item in part:
            deliver(*item)
            time.sleep(0.02)

    threads = [threading.Thread(target=traffic, args=(deliveries[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # some messages are through
    _close(admin, name)
    time.sleep(1.5)  # messages arrive while the database is away
    _open(admin, name)
    for thread in threads:
        thread.join()
    for item in deliveries:  # the platforms deliver everything once more: nothing new
        deliver(*item)

    telegram_sent = Counter(m["text"] for m in fake_telegram.sent())
    answers = passive + telegram_sent
    expected = {f"echo wechat {n}" for n in range(MESSAGES)}
    expected |= {f"echo telegram {n}" for n in range(MESSAGES)}
    assert refused, "the outage refused nothing: it did not happen mid-traffic"
    # Refused as unavailable, which the platforms retry; no 500 (a traceback in the log).
    assert not [k for k in refused if k.endswith(" 500")], refused
    assert set(answers) == expected
    assert set(answers.values()) == {1}, {k: v for k, v in answers.items() if v != 1}
    sender.close()
    database.dispose()
