"""Several processes on one PostgreSQL database: `serve --workers N` with the send limits
shared by every worker (in PostgreSQL, or in Redis when REDIS_URL is set), and /metrics."""

from __future__ import annotations

import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis
from sqlalchemy import text

from storage.db import Database
from storage.send_limits_redis import PREFIX
from tests.app.channels.conftest import TELEGRAM_USER, WEBHOOK_SECRET, EchoDialogue
from tests.app.channels.conftest import channels_for as wire
from tests.app.channels.test_serve_command import ROOT, environment, free_port, memberbot_command
from tests.fakes import telegram_api
from tests.fakes.telegram_api import text_update


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


def most_in_one_second(times: list[float]) -> int:
    """The most of `times` (seconds) that fall within one second of each other."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


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


@pytest.mark.parametrize(
    ("redis_url", "status", "said"),
    [("redis://127.0.0.1:1/0", 1, "cannot reach Redis"), ("localhost:6379", 2, "REDIS_URL")],
)
def test_serve_refuses_a_redis_it_cannot_use_with_one_line(seeded_file, redis_url, status, said):
    done = subprocess.run(
        [memberbot_command(), "--config", str(ROOT / "config.yml"), "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=environment(seeded_file, REDIS_URL=redis_url),
        timeout=60,
    )
    assert done.returncode == status
    assert said in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("keeper", ["postgres", "redis"])
def test_two_workers_answer_80_telegram_updates_once_never_more_than_30_sends_a_second(
    postgres_url, keeper, request
):
    """90 posts (10 updates delivered twice, as Telegram retries) to two workers: one
    reply per update, every reply's slots taken from the shared limits, and the replies'
    arrival times at the (fake) Bot API, recorded there, never 31 in one second. (A busy
    machine answers slower than 30 a second; the slots themselves, taken at full speed,
    are checked in test_shared_limits.py.)"""
    env = {}
    if keeper == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
    port = free_port()
    with telegram_api.FakeTelegram() as fake:
        server = serve_workers(
            postgres_url,
            port,
            2,
            TELEGRAM_BOT_TOKEN=telegram_api.TOKEN,
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TELEGRAM_API_BASE_URL=fake.base_url,
            **env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            assert wait_for_health(base, server).json()["channels"]["telegram"] == "ready"
            updates = [text_update(880000 + n, "我还有多少积分") for n in range(80)]
            posts = updates + updates[:10]

            def post(update: dict) -> int:
                headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
                answer = httpx.post(
                    f"{base}/telegram/webhook", json=update, headers=headers, timeout=120
                )
                return answer.status_code

            # Few posting threads: the fake Bot API records arrivals in this process, and
            # two dozen threads competing with it for the GIL would bunch its clock.
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(post, posts))
        finally:
            stderr = stop(server)
        sends = [call for call in fake.called("sendMessage") if call.params.get("_ok")]

    assert statuses == [200] * 90, stderr[-2000:]
    assert len(sends) == 80
    chats = {str(call.params["chat_id"]) for call in sends}
    assert len(chats) == 80
    assert most_in_one_second([call.at for call in sends]) <= 30
    # The slots came from the shared limits, where the deployment keeps them.
    database = Database(postgres_url)
    with database.unit_of_work(write=False) as session:
        in_postgres = set(session.scalars(text("SELECT key FROM send_limits")))
    database.dispose()
    if keeper == "redis":
        client = redis.Redis.from_url(env["REDIS_URL"])
        in_redis = {key.decode() for key in client.keys(PREFIX + "telegram:*")}
        client.close()
        assert not in_postgres
        assert PREFIX + "telegram:all" in in_redis
        assert {f"{PREFIX}telegram:chat:{chat}" for chat in chats} <= in_redis
    else:
        assert "telegram:all" in in_postgres
        assert {f"telegram:chat:{chat}" for chat in chats} <= in_postgres


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
    # Series an alert or a rate divides by are there before their first event (at 0).
    for series in (
        'memberbot_nlu_fallback_total{channel="wechat"} ',
        'memberbot_rate_limited_total{channel="telegram"} ',
        'memberbot_messages_in_total{channel="wechat"} ',
        'memberbot_tickets{status="new"} ',
        'memberbot_tickets{status="closed"} ',
        'memberbot_sends_total{channel="wechat",outcome="failed"} ',
        'memberbot_turn_seconds_count{channel="wechat"} ',
    ):
        assert series in body
