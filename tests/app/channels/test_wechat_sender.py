"""WeChat's sender through wechatpy's client, pointed at the fake WeChat API."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from app.channels.wechat_sender import WeChatSender
from handlers.ports import Outcome, Outgoing
from storage.models import ChatIdentity, MessageLog
from tests.app.channels.conftest import NOW, OPENID
from tests.fakes.wechat_api import APP_ID

CUSTOM = "message/custom/send"
TEMPLATE = "message/template/send"


def with_templates(app, **templates):
    settings = app.config.channels.wechat
    return settings.model_copy(update={"templates": {**settings.templates, **templates}})


def sender_for(app, fake, settings=None, **kwargs) -> WeChatSender:
    return WeChatSender(
        APP_ID,
        fake.secret,
        settings or app.config.channels.wechat,
        app.database,
        base_url=fake.base_url,
        clock=lambda: NOW,
        backoff=0.01,
        **kwargs,
    )


def outgoing(hours_since_last_message: float, **kwargs) -> Outgoing:
    last = NOW - timedelta(hours=hours_since_last_message)
    return Outgoing(OPENID, "您的积分将于 30 天后过期", last_inbound_at=last, **kwargs)


def test_inside_the_window_a_customer_service_message_is_sent(wechat_sender, fake_wechat):
    delivery = wechat_sender.send(outgoing(47))
    assert (delivery.outcome, delivery.via) == (Outcome.SENT, "customer_service")
    [sent] = fake_wechat.sent(CUSTOM)
    assert sent == {
        "touser": OPENID,
        "msgtype": "text",
        "text": {"content": "您的积分将于 30 天后过期"},
        "_ok": True,
    }
    assert fake_wechat.sent(TEMPLATE) == []


def test_outside_the_48_hour_window_a_template_message_is_sent(app, fake_wechat):
    sender = sender_for(
        app, fake_wechat, with_templates(app, points_expiry="TPL-POINTS", service_notice="TPL-SN")
    )
    delivery = sender.send(outgoing(49, kind="points_expiry"))
    assert (delivery.outcome, delivery.via) == (Outcome.SENT, "template")
    [sent] = fake_wechat.sent(TEMPLATE)
    assert sent["template_id"] == "TPL-POINTS" and sent["touser"] == OPENID
    assert sent["data"] == {"content": {"value": "您的积分将于 30 天后过期"}}
    assert fake_wechat.sent(CUSTOM) == []


def test_a_kind_without_its_own_template_falls_back_to_the_service_notice(app, fake_wechat):
    sender = sender_for(app, fake_wechat, with_templates(app, service_notice="TPL-SN"))
    assert sender.send(outgoing(100, kind="birthday")).outcome is Outcome.SENT
    assert fake_wechat.sent(TEMPLATE)[0]["template_id"] == "TPL-SN"


def test_without_any_template_outside_the_window_the_send_fails_saying_what_to_set(
    wechat_sender, fake_wechat
):
    delivery = wechat_sender.send(outgoing(100, kind="birthday"))
    assert delivery.outcome is Outcome.FAILED
    assert "channels.wechat.templates.birthday" in delivery.detail
    assert fake_wechat.calls == []


def test_the_window_is_read_from_the_members_last_message_when_not_given(
    wechat_sender, fake_wechat, app
):
    with app.database.unit_of_work() as session:
        ident = session.scalar(select(ChatIdentity).where(ChatIdentity.external_id == OPENID))
        ident.last_inbound_at = NOW - timedelta(hours=2)
        session.commit()
    delivery = wechat_sender.send(Outgoing(OPENID, "工单已处理"))
    assert delivery.via == "customer_service"


def test_an_expired_token_is_refreshed_once_for_many_concurrent_sends(wechat_sender, fake_wechat):
    assert wechat_sender.send(outgoing(1)).outcome is Outcome.SENT
    fake_wechat.expire_token()
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(wechat_sender.send(outgoing(1))))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.outcome for r in results] == [Outcome.SENT] * 8
    assert len(fake_wechat.called("token")) == 2  # the first, and one refresh


def test_an_unsubscribed_member_is_unreachable_and_marked_so(wechat_sender, fake_wechat, app):
    fake_wechat.fail_next(CUSTOM, 43004)
    delivery = wechat_sender.send(outgoing(1))
    assert delivery.outcome is Outcome.UNREACHABLE and delivery.detail.startswith("43004")
    with app.database.unit_of_work(write=False) as session:
        ident = session.scalar(select(ChatIdentity).where(ChatIdentity.external_id == OPENID))
        assert ident.reachable is False and "43004" in ident.unreachable_reason


def test_a_closed_window_on_the_platform_falls_back_to_a_template(app, fake_wechat):
    sender = sender_for(app, fake_wechat, with_templates(app, service_notice="TPL-SN"))
    fake_wechat.fail_next(CUSTOM, 45015)
    delivery = sender.send(outgoing(1))
    assert (delivery.outcome, delivery.via) == (Outcome.SENT, "template")


def test_too_many_messages_without_a_template_is_unreachable(wechat_sender, fake_wechat):
    fake_wechat.fail_next(CUSTOM, 45047)
    delivery = wechat_sender.send(outgoing(1))
    assert delivery.outcome is Outcome.UNREACHABLE and "45047" in delivery.detail


def test_a_busy_platform_is_retried_then_reported_as_retry(wechat_sender, fake_wechat):
    fake_wechat.fail_next(CUSTOM, -1)
    assert wechat_sender.send(outgoing(1)).outcome is Outcome.SENT  # the second try went
    fake_wechat.fail_next(CUSTOM, 45009, times=3)
    delivery = wechat_sender.send(outgoing(1))
    assert delivery.outcome is Outcome.RETRY and delivery.detail.startswith("45009")


def test_configuration_errors_fail_and_say_what_to_fix(app, fake_wechat):
    sender = sender_for(app, fake_wechat, with_templates(app, service_notice="TPL-BAD"))
    fake_wechat.fail_next(TEMPLATE, 40037)
    delivery = sender.send(outgoing(100))
    assert delivery.outcome is Outcome.FAILED and "channels.wechat.templates" in delivery.detail
    wrong_secret = WeChatSender(
        APP_ID,
        "wrong",
        app.config.channels.wechat,
        app.database,
        base_url=fake_wechat.base_url,
        clock=lambda: NOW,
    )
    wrong_secret.client.session.delete(wrong_secret.client.access_token_key)
    delivery = wrong_secret.send(outgoing(1))
    assert delivery.outcome is Outcome.FAILED and "WECHAT_APP_SECRET" in delivery.detail


def test_an_unreachable_platform_is_a_retry_not_a_crash(app):
    sender = WeChatSender(
        APP_ID,
        "s",
        app.config.channels.wechat,
        app.database,
        base_url="http://127.0.0.1:9/cgi-bin/",
        clock=lambda: NOW,
        backoff=0.01,
    )
    delivery = sender.send(outgoing(1))
    assert delivery.outcome is Outcome.RETRY and delivery.detail.startswith("network")


def test_the_access_token_is_shared_through_the_database(app, fake_wechat, wechat_sender):
    wechat_sender.send(outgoing(1))
    another_process = sender_for(app, fake_wechat)
    another_process.send(outgoing(1))
    assert len(fake_wechat.called("token")) == 1


def test_every_send_is_recorded_in_the_message_log_with_its_result(app, fake_wechat, wechat_sender):
    wechat_sender.send(outgoing(1))
    fake_wechat.fail_next(CUSTOM, 43004)
    wechat_sender.send(outgoing(1))
    wechat_sender.send(outgoing(100))
    with app.database.unit_of_work(write=False) as session:
        rows = session.scalars(
            select(MessageLog).where(MessageLog.direction == "out").order_by(MessageLog.id)
        ).all()
        seen = [(r.channel, r.outcome, r.member_id is not None) for r in rows]
    assert seen == [
        ("wechat", "sent:customer_service", True),
        ("wechat", "unreachable:customer_service", True),
        ("wechat", "failed:template", True),
    ]


def test_a_network_error_on_the_token_call_keeps_the_app_secret_out_of_the_result(app):
    from tests.fakes.wechat_api import APP_SECRET

    closed = WeChatSender(
        APP_ID,
        APP_SECRET,
        app.config.channels.wechat,
        app.database,
        base_url="http://127.0.0.1:9/cgi-bin/",  # nothing listens: the token call fails
        backoff=0.01,
        clock=lambda: NOW,
    )
    delivery = closed.send(outgoing(1))
    assert delivery.outcome is not Outcome.SENT
    assert APP_SECRET not in delivery.detail
    assert "secret=***" in delivery.detail or "token" in delivery.detail
