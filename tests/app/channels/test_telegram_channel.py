"""Telegram: the webhook under the running server and long polling, with
python-telegram-bot's Bot pointed at the fake Bot API."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import select

from app.channels.rate_limit import RateLimiter
from handlers.ports import Outcome, Outgoing
from storage.models import ChatIdentity, MessageLog
from tests.app.channels.conftest import (
    TELEGRAM_HEADERS,
    TELEGRAM_USER,
    EchoDialogue,
    channels_for,
    telegram_sender_for,
)
from tests.fakes.telegram_api import button_update, membership_update, text_update


@pytest.fixture
def running(app, serve, web_for, telegram_sender):
    dialogue = EchoDialogue()
    server = serve(web_for(channels_for(app, dialogue, telegram_sender=telegram_sender)))
    return server, dialogue


def test_a_text_message_is_answered_with_an_inline_keyboard(running, fake_telegram):
    server, dialogue = running
    answer = server.client.post(
        "/telegram/webhook",
        json=text_update(TELEGRAM_USER, "我还有多少积分"),
        headers=TELEGRAM_HEADERS,
    )
    assert answer.status_code == 200
    [sent] = fake_telegram.sent(TELEGRAM_USER)
    assert sent["text"] == "echo 我还有多少积分"
    assert sent["reply_markup"] == {
        "inline_keyboard": [[{"text": "好的", "callback_data": "a:ok"}]]
    }
    assert dialogue.calls[0].text == "我还有多少积分"
    assert dialogue.calls[0].user_id == str(TELEGRAM_USER)


def test_a_wrong_or_missing_secret_token_gets_403(running, fake_telegram):
    server, dialogue = running
    update = text_update(TELEGRAM_USER, "hi")
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
    assert server.client.post("/telegram/webhook", json=update, headers=wrong).status_code == 403
    assert server.client.post("/telegram/webhook", json=update).status_code == 403
    assert dialogue.calls == [] and fake_telegram.calls == []


def test_a_pressed_button_is_acknowledged_and_sent_as_its_payload(running, fake_telegram):
    server, dialogue = running
    server.client.post(
        "/telegram/webhook", json=button_update(TELEGRAM_USER, "c:1a2b:y"), headers=TELEGRAM_HEADERS
    )
    assert dialogue.calls[0].button == "c:1a2b:y" and dialogue.calls[0].text is None
    assert len(fake_telegram.called("answerCallbackQuery")) == 1
    assert fake_telegram.sent(TELEGRAM_USER)[0]["text"] == "echo [c:1a2b:y]"


@pytest.mark.parametrize(
    ("command", "payload"),
    [
        ("/start", "g:menu"),
        ("/start bind_M000001", "i:bind_account:member_no=M000001"),
        ("/menu", "g:menu"),
        ("/cancel", "g:cancel"),
        ("/human", "g:person"),
    ],
)
def test_commands_become_engine_payloads(running, command, payload):
    server, dialogue = running
    server.client.post(
        "/telegram/webhook", json=text_update(5551, command), headers=TELEGRAM_HEADERS
    )
    assert dialogue.calls[0].button == payload


def test_a_redelivered_update_is_handled_once(running, fake_telegram):
    server, dialogue = running
    update = text_update(TELEGRAM_USER, "积分", update_id=777001)
    for _ in range(2):
        assert (
            server.client.post(
                "/telegram/webhook", json=update, headers=TELEGRAM_HEADERS
            ).status_code
            == 200
        )
    assert len(dialogue.calls) == 1 and len(fake_telegram.sent()) == 1


def test_a_photo_gets_a_polite_answer_without_the_engine(running, fake_telegram):
    server, dialogue = running
    update = text_update(TELEGRAM_USER, "x")
    del update["message"]["text"]
    update["message"]["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    server.client.post("/telegram/webhook", json=update, headers=TELEGRAM_HEADERS)
    assert dialogue.calls == []
    assert "文字" in fake_telegram.sent(TELEGRAM_USER)[0]["text"]


def test_a_malformed_update_gets_400(running):
    server, dialogue = running
    answer = server.client.post("/telegram/webhook", content=b"{not json", headers=TELEGRAM_HEADERS)
    assert answer.status_code == 400


def test_a_member_who_blocked_the_bot_is_marked_unreachable(app, telegram_sender, fake_telegram):
    fake_telegram.block(TELEGRAM_USER)
    delivery = telegram_sender.send(Outgoing(str(TELEGRAM_USER), "生日快乐"))
    assert delivery.outcome is Outcome.UNREACHABLE and "blocked" in delivery.detail
    with app.database.unit_of_work(write=False) as session:
        ident = session.scalar(
            select(ChatIdentity).where(ChatIdentity.external_id == str(TELEGRAM_USER))
        )
        assert ident.reachable is False and "403" in ident.unreachable_reason
        [logged] = session.scalars(select(MessageLog).where(MessageLog.direction == "out")).all()
        assert logged.outcome == "unreachable:message" and logged.member_id == ident.member_id


def test_blocking_and_unblocking_the_bot_is_noted_as_it_happens(running, app):
    server, dialogue = running

    def reachable():
        with app.database.unit_of_work(write=False) as session:
            return session.scalar(
                select(ChatIdentity.reachable).where(
                    ChatIdentity.channel == "telegram",
                    ChatIdentity.external_id == str(TELEGRAM_USER),
                )
            )

    blocked = membership_update(TELEGRAM_USER, "kicked")
    assert (
        server.client.post("/telegram/webhook", json=blocked, headers=TELEGRAM_HEADERS).status_code
        == 200
    )
    assert reachable() is False
    unblocked = membership_update(TELEGRAM_USER, "member")
    server.client.post("/telegram/webhook", json=unblocked, headers=TELEGRAM_HEADERS)
    assert reachable() is True and dialogue.calls == []


def test_a_429_waits_its_retry_after_and_then_sends(telegram_sender, fake_telegram):
    fake_telegram.throttle_next(retry_after=1)
    started = time.monotonic()
    delivery = telegram_sender.send(Outgoing("9001", "hello"))
    assert delivery.outcome is Outcome.SENT
    attempts = fake_telegram.called("sendMessage")
    assert len(attempts) == 2
    assert attempts[1].at - attempts[0].at >= 0.95
    assert time.monotonic() - started >= 0.95


def test_a_429_longer_than_the_bound_is_handed_back_as_retry(app, fake_telegram):
    sender = telegram_sender_for(app, fake_telegram, max_retry_wait=5)
    try:
        fake_telegram.throttle_next(retry_after=60)
        delivery = sender.send(Outgoing("9001", "hello"))
        assert delivery.outcome is Outcome.RETRY and delivery.retry_after == 60
    finally:
        sender.close()


def test_a_send_is_put_off_not_failed_when_no_store_of_the_limits_answers(app, fake_telegram):
    from storage.send_limits import Failover
    from storage.send_limits_redis import RedisLimits

    gone = RedisLimits("redis://127.0.0.1:1/0")  # nothing listens there
    limiter = RateLimiter(30, 1.0, limits=Failover(gone, gone))
    sender = telegram_sender_for(app, fake_telegram, limiter=limiter)
    try:
        delivery = sender.send(Outgoing("9001", "hello"))
        assert delivery.outcome is Outcome.RETRY and "send limits" in delivery.detail
        assert not fake_telegram.called("sendMessage")
    finally:
        sender.close()


def test_long_polling_handles_queued_updates(app, telegram_sender, fake_telegram):
    dialogue = EchoDialogue()
    channel = channels_for(app, dialogue, telegram_sender=telegram_sender).telegram
    fake_telegram.push_update(text_update(TELEGRAM_USER, "第一条"))
    fake_telegram.push_update(text_update(TELEGRAM_USER, "第二条"))

    async def run():
        stop = asyncio.Event()
        polling = asyncio.create_task(channel.poll(stop, timeout=1))
        while len(fake_telegram.sent()) < 2:
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(polling, 5)

    asyncio.run(asyncio.wait_for(run(), 10))
    assert [c.text for c in dialogue.calls] == ["第一条", "第二条"]
    assert [m["text"] for m in fake_telegram.sent()] == ["echo 第一条", "echo 第二条"]


def test_the_limiter_keeps_one_chat_to_its_interval_after_a_short_burst():
    clock = [0.0]
    limiter = RateLimiter(
        rate_per_second=1000, per_chat_interval=1.0, chat_burst=2, clock=lambda: clock[0]
    )
    assert limiter.try_take("a") == (True, 0.0)
    assert limiter.try_take("a") == (True, pytest.approx(1 / RateLimiter.rate(1000)))
    taken, wait = limiter.try_take("a")
    assert not taken and wait == pytest.approx(1.0)
    assert limiter.try_take("b")[0]  # another chat is not held up


def test_the_limiter_spaces_all_chats_to_the_overall_rate_across_threads():
    limiter = RateLimiter(rate_per_second=200, per_chat_interval=0.0)
    stamps, lock = [], threading.Lock()

    def sender(n):
        for i in range(10):
            limiter.acquire(f"chat-{n}-{i}")
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps.sort()
    elapsed = stamps[-1] - stamps[0]
    assert elapsed >= (60 - 1) / 200 * 0.95  # 60 sends at 200/s take at least ~0.3 s


def test_a_429_holds_the_chat_for_its_retry_after():
    clock = [0.0]
    limiter = RateLimiter(rate_per_second=30, per_chat_interval=1.0, clock=lambda: clock[0])
    limiter.hold(5, "a")
    taken, wait = limiter.try_take("a")
    assert not taken and wait == pytest.approx(5.0)


def _shaped(**message) -> dict:
    update = text_update(TELEGRAM_USER, "hi")
    update["message"].update(message)
    return update


@pytest.mark.parametrize(
    "update",
    [
        {k: v for k, v in text_update(TELEGRAM_USER, "hi").items() if k != "update_id"},
        {"update_id": "abc", "message": text_update(TELEGRAM_USER, "hi")["message"]},
        {"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "hi"}},  # no chat
        _shaped(text=123),
        _shaped(text=["list"]),
        _shaped(chat={"id": "x" * 500, "type": "private"}),
        _shaped(**{"from": {"id": 10**30, "is_bot": False, "first_name": "x"}}),
        {"update_id": 5, "callback_query": {"id": "1", "data": 5}},
        [],
        "text",
        None,
    ],
)
def test_an_update_of_any_shape_is_answered_200_or_400_never_500(running, update):
    server, dialogue = running
    answer = server.client.post("/telegram/webhook", json=update, headers=TELEGRAM_HEADERS)
    assert answer.status_code in (200, 400)


def test_nul_bytes_and_lone_surrogates_are_removed_before_the_engine(running):
    server, dialogue = running
    body = '{"update_id": 77, "message": {"message_id": 1, "date": 1, "chat": {"id": %d, '
    body += '"type": "private"}, "from": {"id": %d, "is_bot": false, "first_name": "x"}, '
    body += '"text": "\\u79ef\\u0000\\ud800\\u5206"}}'
    body %= (TELEGRAM_USER, TELEGRAM_USER)
    answer = server.client.post(
        "/telegram/webhook", content=body.encode(), headers=TELEGRAM_HEADERS
    )
    assert answer.status_code == 200
    assert [c.text for c in dialogue.calls] == ["积分"]
