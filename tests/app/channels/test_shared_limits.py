"""Send limits every process of a deployment shares: in PostgreSQL, or in Redis when
REDIS_URL is set. Two limiters (or senders) on one keeper stand for two processes: only
the keeper is common to them. The WeChat access token is refreshed once across real
processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from app.channels import setup
from app.channels.rate_limit import RateLimiter, shared_limits
from handlers.ports import Outcome, Outgoing
from storage.db import Database
from tests.app.channels.conftest import OPENID
from tests.app.channels.test_scale_out import most_in_one_second
from tests.conftest import ROOT
from tests.fakes import wechat_api


@pytest.fixture(params=["postgres", "redis"])
def deployment(request, postgres_url):
    """The environment of a deployment on PostgreSQL, keeping its limits in PostgreSQL or
    in Redis, and its database."""
    env = {}
    if request.param == "redis":
        env["REDIS_URL"] = request.getfixturevalue("redis_url")
    database = Database(postgres_url)
    yield env, database
    database.dispose()


def test_two_processes_share_one_telegram_allowance_per_chat(deployment):
    env, database = deployment
    name = f"telegram-{uuid.uuid4().hex[:8]}"
    one, other = (
        RateLimiter(30, 1.0, limits=shared_limits(database, env), name=name) for _ in range(2)
    )
    # A burst of three for a chat (a reply in bubbles), then the chat waits its interval,
    # whichever process asks.
    assert one.try_take("chat-1")[0] and other.try_take("chat-1")[0] and one.try_take("chat-1")[0]
    refused, wait = other.try_take("chat-1")
    assert not refused and 0 < wait <= 1.0
    assert one.try_take("chat-2")[0]  # another chat is not held up
    other.hold(30)  # a 429 for the whole bot, seen by one process
    _, wait = one.try_take("chat-3")
    assert wait > 20


def test_slots_two_processes_take_at_full_speed_never_put_31_sends_in_a_second(deployment):
    env, database = deployment
    key = f"telegram-{uuid.uuid4().hex[:8]}:all"
    interval = 1 / RateLimiter.rate(30)
    slots, lock = [], threading.Lock()

    def take(limits):  # one process's sender, as fast as it can
        for _ in range(40):
            slot = limits.take(key, interval)
            with lock:
                slots.append(slot.starts_at)

    threads = [
        threading.Thread(target=take, args=(shared_limits(database, env),)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(slots) == 80
    assert most_in_one_second(slots) <= 30


def test_wechat_sends_of_two_processes_keep_to_the_configured_rate_together(
    deployment, config, fake_wechat
):
    env, database = deployment
    wechat = config.channels.wechat.model_copy(update={"rate_per_second": 20})
    channels = config.channels.model_copy(update={"wechat": wechat})
    app = SimpleNamespace(
        config=config.model_copy(update={"channels": channels}), database=database
    )
    env = {
        **env,
        "WECHAT_APP_ID": wechat_api.APP_ID,
        "WECHAT_APP_SECRET": wechat_api.APP_SECRET,
        "WECHAT_API_BASE_URL": fake_wechat.base_url,
    }
    senders = [setup.wechat_sender(app, env) for _ in range(2)]
    message = Outgoing(OPENID, "您的积分将于 30 天后过期", last_inbound_at=datetime.now(UTC))
    results: list = []

    def send_some(sender):
        for _ in range(12):
            results.append(sender.send(message))

    threads = [threading.Thread(target=send_some, args=(s,)) for s in senders * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.outcome for r in results] == [Outcome.SENT] * 48, results[:2]
    sends = [c.at for c in fake_wechat.called("message/custom/send") if c.params.get("_ok")]
    assert len(sends) == 48
    assert most_in_one_second(sends) <= 20


# One process sending WeChat messages from four threads, from the moment given.
SENDING_PROCESS = """
import sys, threading, time
from datetime import UTC, datetime
from app.channels.wechat_sender import WeChatSender
from core.config import load_config
from handlers.ports import Outgoing
from storage.db import Database
from tests.app.channels.conftest import OPENID
from tests.fakes import wechat_api

url, base_url, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
config, database = load_config(sys.argv[4]), Database(url)
sender = WeChatSender(
    wechat_api.APP_ID, wechat_api.APP_SECRET, config.channels.wechat, database,
    base_url=base_url, backoff=0.01,
)
message = Outgoing(OPENID, "您的积分将于 30 天后过期", last_inbound_at=datetime.now(UTC))
outcomes = []
def send():
    outcomes.append(sender.send(message).outcome.value)
threads = [threading.Thread(target=send) for _ in range(4)]
time.sleep(max(0.0, start - time.time()))
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(" ".join(outcomes))
"""


def test_two_processes_refresh_an_expired_wechat_token_once(postgres_url, config):
    # Every call takes a while, as across the internet: the refreshes overlap.
    with wechat_api.FakeWeChatAPI(latency=0.3) as fake_wechat:
        outputs = _send_from_two_processes_after_the_token_expired(
            postgres_url, config, fake_wechat
        )
        tokens = fake_wechat.called("token")
    assert [out.split() for out, _ in outputs] == [["sent"] * 4] * 2, outputs
    assert len(tokens) == 2  # the first, and one refresh for all


def _send_from_two_processes_after_the_token_expired(postgres_url, config, fake_wechat):
    database = Database(postgres_url)
    first = setup.wechat_sender(
        SimpleNamespace(config=config, database=database),
        {
            "WECHAT_APP_ID": wechat_api.APP_ID,
            "WECHAT_APP_SECRET": wechat_api.APP_SECRET,
            "WECHAT_API_BASE_URL": fake_wechat.base_url,
        },
    )
    assert (
        first.send(Outgoing(OPENID, "您好", last_inbound_at=datetime.now(UTC))).outcome
        is Outcome.SENT
    )
    database.dispose()
    fake_wechat.expire_token()  # the token every process holds is refused from now on

    start = time.time() + 4  # both processes past their imports, then all at once
    arguments = [postgres_url, fake_wechat.base_url, str(start), str(ROOT / "config.yml")]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SENDING_PROCESS, *arguments],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    return [process.communicate(timeout=120) for process in processes]
