"""A whole redemption through each channel, through the real dialogue engine and NLU:
the running server, python-telegram-bot against the fake Bot API, wechatpy's crypto on
the WeChat side. The demo member (M000001, 2,680 points) is bound on both channels, and
is one member: what is spent on one channel is gone on the other."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.channels.dialogue import EngineDialogue
from storage.members import by_number
from storage.models import PointsAccount, Redemption, Voucher
from tests.app.channels.conftest import NOW, OPENID, TELEGRAM_HEADERS, TELEGRAM_USER, channels_for
from tests.fakes.telegram_api import button_update, text_update
from tests.fakes.wechat_api import AES_KEY, FakeWeChatServer

VOUCHER = re.compile(r"[A-Z2-9]{5}-[A-Z2-9]{5}")


@pytest.fixture(scope="session")
def parser(config):
    from nlu.service import build_parser

    return build_parser(config)


@pytest.fixture
def engine_app(app, parser):
    from bot.engine import Engine

    app.__dict__["engine"] = Engine(app.database, app.config, parser, clock=lambda: NOW)
    return app


def redeemed(app) -> tuple[int, int, int]:
    with app.database.unit_of_work(write=False) as session:
        member = by_number(session, "M000001")
        return (
            session.scalar(select(func.count()).select_from(Redemption)),
            session.scalar(select(func.count()).select_from(Voucher)),
            session.get(PointsAccount, member.id).balance,
        )


def test_a_member_redeems_a_coffee_voucher_through_telegram(
    engine_app, serve, web_for, telegram_sender, fake_telegram
):
    channels = channels_for(engine_app, EngineDialogue(engine_app), telegram_sender=telegram_sender)
    server = serve(web_for(channels))

    def post(update):
        assert (
            server.client.post(
                "/telegram/webhook", json=update, headers=TELEGRAM_HEADERS
            ).status_code
            == 200
        )

    post(text_update(TELEGRAM_USER, "兑换一张咖啡券"))
    asked = fake_telegram.sent(TELEGRAM_USER)[-1]
    assert "确认用 200 积分兑换 1 张咖啡券吗" in asked["text"]
    keyboard = {b["text"]: b["callback_data"] for [b] in asked["reply_markup"]["inline_keyboard"]}
    assert set(keyboard) == {"确认", "取消"}

    post(button_update(TELEGRAM_USER, keyboard["确认"]))
    done = " ".join(m["text"] for m in fake_telegram.sent(TELEGRAM_USER)[1:])
    assert "兑换成功" in done and VOUCHER.search(done)
    assert len(fake_telegram.called("answerCallbackQuery")) == 1
    assert redeemed(engine_app) == (1, 1, 2480)

    post(button_update(TELEGRAM_USER, keyboard["确认"]))  # pressed again
    assert "已经确认过了" in fake_telegram.sent(TELEGRAM_USER)[-1]["text"]
    assert redeemed(engine_app) == (1, 1, 2480)


def test_a_member_redeems_a_coffee_voucher_through_wechat_in_safe_mode(
    engine_app, serve, web_for, wechat_sender
):
    dialogue = EngineDialogue(engine_app)
    server = serve(web_for(channels_for(engine_app, dialogue, wechat_sender, aes_key=AES_KEY)))
    wechat = FakeWeChatServer(aes_key=AES_KEY)

    def say(xml: str) -> str:
        query, body = wechat.request(xml)
        answer = server.client.post(f"/wechat?{query}", content=body)
        assert answer.status_code == 200
        return wechat.reply_text(answer.content)

    asked = say(wechat.text(OPENID, "兑换一张咖啡券"))
    assert "确认用 200 积分兑换 1 张咖啡券吗" in asked
    links = dict(re.findall(r"msgmenucontent=([^&]+)&msgmenuid=(\d+)", asked))
    assert set(links) == {"确认", "取消"}

    # Tapping the 确认 link sends its title back with its menu id.
    done = say(wechat.text(OPENID, "确认", bizmsgmenuid=links["确认"]))
    assert "兑换成功" in done and VOUCHER.search(done)
    assert redeemed(engine_app) == (1, 1, 2480)


def test_the_same_member_on_both_channels_is_one_member(
    engine_app, serve, web_for, telegram_sender, fake_telegram, wechat_sender
):
    dialogue = EngineDialogue(engine_app)
    channels = channels_for(engine_app, dialogue, telegram_sender, wechat_sender)
    server = serve(web_for(channels))
    server.client.post(
        "/telegram/webhook",
        json=text_update(TELEGRAM_USER, "兑换一张咖啡券"),
        headers=TELEGRAM_HEADERS,
    )
    asked = fake_telegram.sent(TELEGRAM_USER)[-1]
    confirm = asked["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    server.client.post(
        "/telegram/webhook", json=button_update(TELEGRAM_USER, confirm), headers=TELEGRAM_HEADERS
    )
    wechat = FakeWeChatServer()
    query, body = wechat.request(wechat.text(OPENID, "我还有多少积分"))
    balance = wechat.reply_text(server.client.post(f"/wechat?{query}", content=body).content)
    assert "2,480" in balance
