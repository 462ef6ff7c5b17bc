"""Several processes on one PostgreSQL database: `serve --workers N`, send limits and the
WeChat access token shared by every process, and /metrics."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.channels.rate_limit import SharedRateLimiter
from app.channels.wechat_sender import WeChatSender
from handlers.desk import demo
from handlers.ports import Outcome, Outgoing
from storage.db import Database
from storage.migrate import upgrade
from storage.send_limits import SendLimits
from tests.app.channels.conftest import NOW, OPENID, TELEGRAM_USER, WEBHOOK_SECRET, EchoDialogue
from tests.app.channels.conftest import channels_for as wire
from tests.app.channels.test_serve_command import ROOT, environment, free_port, memberbot_command
from tests.fakes import telegram_api, wechat_api
from tests.fakes.telegram_api import text_update

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after:DeprecationWarning")


@pytest.fixture
def postgres_url(config):
    """A fresh PostgreSQL database, migrated and seeded, for processes of their own."""
    import os

    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests need a server")
    name = f"memberbot_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url, "heads")
        db = Database(url)
        demo.seed(db, config, NOW)
        db.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def serve_workers(url: str, port: int, workers: int, **env: str) -> subprocess.Popen:
    command = [memberbot_command(), "--config", str(ROOT / "config.yml"), "serve"]
    command += ["--port", str(port), "--workers", str(workers)]
    settings = environment(ROOT / "unused.db", NO_PROXY="127.0.0.1,localhost", **env)
    return subprocess.Popen(
        command, env={**settings, "DATABASE_URL": url}, stderr=subprocess.PIPE, text=True
    )


def wait_for_health(base: str, server: subprocess.Popen) -> httpx.Response:
    deadline = time.monotonic() + 120
    while True:
        try:
            return httpx.get(f"{base}/healthz", timeout=5)
        except httpx.TransportError:
            assert time.monotonic() < deadline and server.poll() is None
            time.sleep(0.2)


def stop(server: subprocess.Popen) -> str:
    server.send_signal(signal.SIGTERM)
    _, stderr = server.communicate(timeout=60)
    return stderr


def test_serve_refuses_several_workers_on_sqlite_with_one_line(seeded_file, tmp_path):
    done = subprocess.run(
        [memberbot_command(), "--config", str(ROOT / "config.yml"), "serve", "--workers", "2"],
        capture_output=True,
        text=True,
        env=environment(seeded_file),
        timeout=60,
    )
    assert done.returncode == 2
    assert "PostgreSQL" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_two_workers_answer_every_telegram_update_once_with_slots_from_the_shared_limits(
    postgres_url,
):
    """Exactly one reply per update, and every reply's slots (the bot's overall rate and
    its chat's interval) taken from the limits in the database. That those slots never
    put 31 sends in a second is asserted on the database's clock below: counting the
    arrivals at the fake would measure the machine's scheduling too."""
    port = free_port()
    with telegram_api.FakeTelegram() as fake:
        server = serve_workers(
            postgres_url,
            port,
            2,
            TELEGRAM_BOT_TOKEN=telegram_api.TOKEN,
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TELEGRAM_API_BASE_URL=fake.base_url,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            assert wait_for_health(base, server).json()["channels"]["telegram"] == "ready"
            updates = [text_update(880000 + n, "我还有多少积分") for n in range(80)]
            posts = updates + updates[:10]  # ten delivered twice, as Telegram retries

            def post(update: dict) -> int:
                headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
                answer = httpx.post(
                    f"{base}/telegram/webhook", json=update, headers=headers, timeout=120
                )
                return answer.status_code

            with ThreadPoolExecutor(24) as pool:
                statuses = list(pool.map(post, posts))
        finally:
            stderr = stop(server)
        sends = [call for call in fake.called("sendMessage") if call.params.get("_ok")]

    assert statuses == [200] * 90, stderr[-2000:]
    assert len(sends) == 80
    chats = {str(call.params["chat_id"]) for call in sends}
    assert len(chats) == 80
    database = Database(postgres_url)
    with database.unit_of_work(write=False) as session:
        limits = set(session.scalars(text("SELECT key FROM send_limits")))
    database.dispose()
    assert "telegram:all" in limits
    assert {f"telegram:chat:{chat}" for chat in chats} <= limits


def test_two_processes_share_one_telegram_allowance_per_chat(postgres_url):
    database = Database(postgres_url)
    one, other = (SharedRateLimiter(database, "telegram", 30, 1.0) for _ in range(2))
    # A burst of three for a chat (a reply in bubbles), then the chat waits its interval,
    # whichever process asks.
    assert one.try_take("chat-1")[0] and other.try_take("chat-1")[0] and one.try_take("chat-1")[0]
    refused, wait = other.try_take("chat-1")
    assert not refused and 0 < wait <= 1.0
    assert one.try_take("chat-2")[0]  # another chat is not held up
    other.hold(30)  # a 429 for the whole bot, seen by one process
    _, wait = one.try_take("chat-3")
    assert wait > 20
    database.dispose()


def test_slots_two_processes_take_at_full_speed_never_put_31_sends_in_a_second(postgres_url):
    database = Database(postgres_url)
    interval = SharedRateLimiter.interval(30)
    slots, lock = [], threading.Lock()

    def take(limits: SendLimits):  # one process's sender, as fast as it can
        for _ in range(40):
            slot = limits.take("telegram:all", interval)
            with lock:
                slots.append(slot.starts_at)

    threads = [threading.Thread(target=take, args=(SendLimits(database),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    database.dispose()
    slots.sort()
    assert len(slots) == 80
    assert all(later - earlier >= 1.0 for earlier, later in zip(slots, slots[30:], strict=False))


def test_two_processes_refresh_an_expired_wechat_token_once(postgres_url, config, fake_wechat):
    # Two senders with their own clients stand for two processes: only the database
    # lock is common to them.
    database = Database(postgres_url)
    senders = [
        WeChatSender(
            wechat_api.APP_ID,
            wechat_api.APP_SECRET,
            config.channels.wechat,
            database,
            base_url=fake_wechat.base_url,
            backoff=0.01,
            clock=lambda: NOW,
        )
        for _ in range(2)
    ]
    message = Outgoing(OPENID, "您的积分将于 30 天后过期", last_inbound_at=NOW)
    assert senders[0].send(message).outcome is Outcome.SENT
    senders[1].send(message)
    fake_wechat.expire_token()
    results = []
    threads = [
        threading.Thread(target=lambda s=sender: results.append(s.send(message)))
        for sender in senders * 4
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    database.dispose()
    assert [r.outcome for r in results] == [Outcome.SENT] * 8
    assert len(fake_wechat.called("token")) == 2  # the first, and one refresh for all


def test_metrics_show_messages_turns_sends_and_database_figures(
    app, serve, web_for, telegram_sender, fake_telegram
):
    server = serve(web_for(wire(app, EchoDialogue(), telegram_sender=telegram_sender)))
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    server.client.post(
        "/telegram/webhook", json=text_update(TELEGRAM_USER, "积分"), headers=headers
    )
    answer = server.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    body = answer.text
    for series in (
        'memberbot_messages_in_total{channel="telegram"}',
        'memberbot_messages_out_total{channel="telegram"}',
        'memberbot_sends_total{channel="telegram",outcome="sent"}',
        'memberbot_outbox_messages{status="queued"}',
        'memberbot_outbox_oldest_age_seconds{status="queued"}',
        'memberbot_ledger_operations_total{kind="welcome"}',
    ):
        assert series in body
    assert "memberbot_tickets" in body and "memberbot_rate_limited_total" in body
