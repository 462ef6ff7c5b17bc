"""A live reply the platform puts off (a 429 longer than the sender waits, WeChat busy)
is queued in the outbox for the chat it answers, and the dispatcher delivers it once, with
its buttons; a redelivered message queues nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.channels.wechat_sender import WeChatSender
from schedules.dispatcher import Dispatcher
from storage.models import ChatIdentity, OutboundMessage
from tests.app.channels.conftest import (
    NOW,
    OPENID,
    TELEGRAM_HEADERS,
    TELEGRAM_USER,
    EchoDialogue,
    channels_for,
    telegram_sender_for,
    wait_until,
)
from tests.fakes import wechat_api
from tests.fakes.telegram_api import text_update


def queued(app) -> list[tuple[OutboundMessage, ChatIdentity]]:
    with app.database.unit_of_work(write=False) as session:
        rows = session.execute(
            select(OutboundMessage, ChatIdentity)
            .join(ChatIdentity, ChatIdentity.id == OutboundMessage.identity_id)
            .order_by(OutboundMessage.id)
        ).all()
        session.expunge_all()
        return [(row, chat) for row, chat in rows]


@pytest.fixture
def patient_sender(app, fake_telegram):
    """A sender that waits out a 429 of up to 5 s, no longer."""
    sender = telegram_sender_for(app, fake_telegram, max_retry_wait=5)
    yield sender
    sender.close()


def test_a_telegram_reply_put_off_by_a_long_429_is_sent_by_the_dispatcher_once(
    app, serve, web_for, patient_sender, fake_telegram
):
    server = serve(web_for(channels_for(app, EchoDialogue(), telegram_sender=patient_sender)))
    fake_telegram.throttle_next(retry_after=60)
    update = text_update(TELEGRAM_USER, "我还有多少积分")
    assert (
        server.client.post("/telegram/webhook", json=update, headers=TELEGRAM_HEADERS).status_code
        == 200
    )
    assert fake_telegram.sent(TELEGRAM_USER) == []
    [(row, chat)] = queued(app)
    assert (row.category, row.kind, row.status, row.text) == (
        "reply", "reply", "queued", "echo 我还有多少积分"
    )  # fmt: skip
    assert (row.channel, chat.external_id) == ("telegram", str(TELEGRAM_USER))
    assert row.not_before == NOW + timedelta(seconds=60)

    # Telegram redelivers the update: it was claimed, nothing more is queued or sent.
    assert (
        server.client.post("/telegram/webhook", json=update, headers=TELEGRAM_HEADERS).status_code
        == 200
    )
    assert len(queued(app)) == 1

    senders = {"telegram": patient_sender}
    early = Dispatcher(app.database, app.config, senders, clock=lambda: NOW + timedelta(seconds=30))
    assert early.run() == {}
    later = Dispatcher(app.database, app.config, senders, clock=lambda: NOW + timedelta(seconds=61))
    assert later.run()["sent"] == 1
    assert later.run() == {}
    [sent] = fake_telegram.sent(TELEGRAM_USER)
    assert sent["text"] == "echo 我还有多少积分"
    assert sent["reply_markup"] == {
        "inline_keyboard": [[{"text": "好的", "callback_data": "a:ok"}]]
    }


def test_a_wechat_late_reply_put_off_while_wechat_is_busy_is_sent_by_the_dispatcher(
    app, serve, web_for, fake_wechat
):
    sender = WeChatSender(
        wechat_api.APP_ID, wechat_api.APP_SECRET, app.config.channels.wechat, app.database,
        base_url=fake_wechat.base_url, backoff=0.01, clock=lambda: NOW,
    )  # fmt: skip
    dialogue = EchoDialogue(delay=1.6)  # past passive_reply_seconds (1.0): sent later
    server = serve(web_for(channels_for(app, dialogue, wechat_sender=sender)))
    fake_wechat.fail_next("message/custom/send", 45009, times=3)  # the API's rate limit
    wechat = wechat_api.FakeWeChatServer()
    query, body = wechat.request(wechat.text(OPENID, "慢一点的问题"))
    answer = server.client.post(f"/wechat?{query}", content=body)
    assert answer.text == "success"
    assert wait_until(lambda: len(queued(app)) == 1)
    assert fake_wechat.sent("message/custom/send") == []
    [(row, chat)] = queued(app)
    assert (row.category, row.channel, chat.external_id) == ("reply", "wechat", OPENID)
    assert row.payload == {"buttons": [["好的", "a:ok"]]}

    assert Dispatcher(app.database, app.config, {"wechat": sender}, clock=lambda: NOW).run() == {
        "sent": 1
    }
    [sent] = fake_wechat.sent("message/custom/send")
    assert sent["touser"] == OPENID
    assert sent["text"]["content"].startswith("echo 慢一点的问题")
    assert "好的" in sent["text"]["content"]  # the buttons, as a numbered menu
