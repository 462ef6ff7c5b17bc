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
from sqlalchemy import text

from app.channels import setup
from app.channels.rate_limit import RateLimiter, shared_limits
from app.channels.wechat_sender import WeChatSender
from handlers.ports import Outcome, Outgoing
from storage.db import Database
from storage.send_limits import ALWAYS, Failover, LimitsUnavailable, MemoryLimits, SendLimits
from storage.send_limits_redis import RedisLimits
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


# Nothing listens on port 1 of loopback: a Redis (or PostgreSQL) that went away.
GONE_REDIS = "redis://127.0.0.1:1/0"
GONE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/gone"


def wechat_sender_with(config, database, fake_wechat, limits):
    limiter = RateLimiter(config.channels.wechat.rate_per_second, 0.0, limits=limits)
    return WeChatSender(
        wechat_api.APP_ID, wechat_api.APP_SECRET, config.channels.wechat, database,
        base_url=fake_wechat.base_url, backoff=0.01, limiter=limiter,
    )  # fmt: skip


def test_wechat_sends_go_on_with_their_limits_in_postgresql_while_redis_is_gone(
    postgres_url, config, fake_wechat
):
    database = Database(postgres_url)
    limits = shared_limits(database, {"REDIS_URL": GONE_REDIS})
    sender = wechat_sender_with(config, database, fake_wechat, limits)
    message = Outgoing(OPENID, "您的积分将于 30 天后过期", last_inbound_at=datetime.now(UTC))

    outcomes = [sender.send(message).outcome for _ in range(3)]

    assert outcomes == [Outcome.SENT] * 3
    # The slots came from PostgreSQL, shared with every other process meanwhile.
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM send_limits")).scalar_one() > 0
    database.dispose()


def test_a_send_is_put_off_not_failed_when_no_store_of_the_limits_answers(
    postgres_url, config, fake_wechat
):
    database, gone = Database(postgres_url), Database(GONE_POSTGRES)
    limits = Failover(RedisLimits(GONE_REDIS), SendLimits(gone))
    sender = wechat_sender_with(config, database, fake_wechat, limits)

    sent = sender.send(Outgoing(OPENID, "您好", last_inbound_at=datetime.now(UTC)))

    assert sent.outcome is Outcome.RETRY  # the dispatcher sends it later
    assert "send limits" in sent.detail
    assert not [c for c in fake_wechat.called("message/custom/send") if c.params.get("_ok")]
    database.dispose()
    gone.dispose()


class Switchable:
    """A store of limits that can be made unreachable, as a Redis restarting is."""

    remote = False

    def __init__(self):
        self.kept, self.down = MemoryLimits(), False

    def take(self, key, interval, tolerance=ALWAYS):
        if self.down:
            raise LimitsUnavailable("restarting")
        return self.kept.take(key, interval, tolerance)

    def hold(self, key, seconds):
        self.take(key, 0.0)

    def forget_idle(self, prefix):
        self.take(prefix, 0.0)


def test_the_limits_go_back_to_the_primary_store_once_it_answers_again():
    now = [0.0]
    primary, backup = Switchable(), MemoryLimits(clock=lambda: now[0])
    limits = Failover(primary, backup, retry_after=30, clock=lambda: now[0])

    assert limits.take("a", 1.0).taken and "a" in primary.kept._next_at
    primary.down = True
    assert limits.take("b", 1.0).taken  # from the backup
    primary.down = False
    now[0] = 10.0
    limits.take("c", 1.0)  # within 30 s of the failure: still the backup
    assert "c" not in primary.kept._next_at and "c" in backup._next_at
    now[0] = 31.0
    limits.take("d", 1.0)
    assert "d" in primary.kept._next_at and "d" not in backup._next_at
