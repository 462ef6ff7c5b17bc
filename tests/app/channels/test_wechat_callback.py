"""The WeChat callback, posted to by a fake WeChat server side that signs (and, in safe
mode, encrypts) with wechatpy's own crypto, against the running server."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from app.channels import records
from storage.models import ChatIdentity, MessageLog
from storage.models.channels import InboundClaim
from tests.app.channels.conftest import OPENID, EchoDialogue, channels_for, wait_until
from tests.fakes.wechat_api import AES_KEY, FakeWeChatServer, signature


@pytest.fixture
def plain(app, serve, web_for, wechat_sender):
    dialogue = EchoDialogue()
    server = serve(web_for(channels_for(app, dialogue, wechat_sender=wechat_sender)))
    return server, dialogue, FakeWeChatServer()


def post(server, wechat: FakeWeChatServer, xml: str, **kwargs):
    query, body = wechat.request(xml, **kwargs)
    return server.client.post(f"/wechat?{query}", content=body)


def test_echoes_the_verification_string_when_the_signature_is_right(plain):
    server, _, _ = plain
    stamp = str(int(time.time()))
    good = signature("fake-callback-token", stamp, "42")
    answer = server.client.get(
        "/wechat",
        params={"signature": good, "timestamp": stamp, "nonce": "42", "echostr": "hello"},
    )
    assert answer.status_code == 200 and answer.text == "hello"


def test_refuses_verification_with_a_wrong_signature(plain):
    server, _, _ = plain
    answer = server.client.get(
        "/wechat", params={"signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "x"}
    )
    assert answer.status_code == 403


def test_replies_passively_to_a_text_message(plain):
    server, dialogue, wechat = plain
    answer = post(server, wechat, wechat.text(OPENID, "我还有多少积分"))
    assert answer.status_code == 200
    text = wechat.reply_text(answer.content)
    assert text.startswith("echo 我还有多少积分")
    assert "weixin://bizmsgmenu?msgmenucontent=好的&msgmenuid=1" in text
    assert dialogue.calls[0].text == "我还有多少积分" and dialogue.calls[0].channel == "wechat"


def test_a_forged_signature_gets_403_and_nothing_is_handled(plain, app):
    server, dialogue, wechat = plain
    answer = post(server, wechat, wechat.text(OPENID, "hi"), forged=True)
    assert answer.status_code == 403
    missing = server.client.post("/wechat", content=wechat.text(OPENID, "hi").encode())
    assert missing.status_code == 403
    assert dialogue.calls == []
    with app.database.unit_of_work(write=False) as session:
        assert session.scalars(select(InboundClaim)).all() == []


def test_a_duplicated_msgid_is_handled_once(plain):
    server, dialogue, wechat = plain
    xml = wechat.text(OPENID, "积分", msg_id=987654321)
    first = post(server, wechat, xml)
    again = post(server, wechat, xml)
    assert wechat.reply_text(first.content).startswith("echo 积分")
    assert again.status_code == 200 and again.text == "success"
    assert len(dialogue.calls) == 1


def test_a_retry_while_the_first_is_in_flight_waits_for_it_and_only_one_carries_the_reply(
    app, serve, web_for, wechat_sender
):
    dialogue = EchoDialogue(delay=0.4)
    server = serve(web_for(channels_for(app, dialogue, wechat_sender=wechat_sender)))
    wechat = FakeWeChatServer()
    xml = wechat.text(OPENID, "兑换咖啡券", msg_id=123123123)
    answers = []

    def deliver():
        answers.append(post(server, wechat, xml))

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    texts = sorted(a.text for a in answers)
    assert len(dialogue.calls) == 1
    assert texts.count("success") == 2
    assert [t for t in texts if t != "success"][0].startswith("<xml>")


def test_malformed_xml_gets_400(plain):
    server, dialogue, wechat = plain
    for body in ("<xml><ToUserName>unclosed", "not xml at all", "<xml></xml>"):
        assert post(server, wechat, body).status_code == 400
    assert dialogue.calls == []


def test_an_oversized_body_gets_413(plain):
    server, dialogue, wechat = plain
    huge = wechat.text(OPENID, "积" * 40_000)
    assert post(server, wechat, huge).status_code == 413
    assert dialogue.calls == []


def test_a_slow_answer_falls_back_to_a_customer_service_message(
    app, serve, web_for, wechat_sender, fake_wechat
):
    dialogue = EchoDialogue(delay=1.6)  # passive_reply_seconds is 1.0 in these tests
    channels = channels_for(app, dialogue, wechat_sender=wechat_sender)
    server = serve(web_for(channels))
    wechat = FakeWeChatServer()
    answer = post(server, wechat, wechat.text(OPENID, "慢一点的问题"))
    assert answer.text == "success"
    assert wait_until(lambda: fake_wechat.sent("message/custom/send"))
    sent = fake_wechat.sent("message/custom/send")
    assert len(sent) == 1
    assert sent[0]["touser"] == OPENID
    assert sent[0]["text"]["content"].startswith("echo 慢一点的问题")


def test_safe_mode_decrypts_the_message_and_encrypts_the_reply(app, serve, web_for, wechat_sender):
    dialogue = EchoDialogue()
    server = serve(web_for(channels_for(app, dialogue, wechat_sender, aes_key=AES_KEY)))
    wechat = FakeWeChatServer(aes_key=AES_KEY)
    answer = post(server, wechat, wechat.text(OPENID, "安全模式"))
    assert answer.status_code == 200
    assert b"<Encrypt>" in answer.content
    assert wechat.reply_text(answer.content).startswith("echo 安全模式")


def test_safe_mode_refuses_a_body_encrypted_with_another_key(app, serve, web_for, wechat_sender):
    dialogue = EchoDialogue()
    server = serve(web_for(channels_for(app, dialogue, wechat_sender, aes_key=AES_KEY)))
    stranger = FakeWeChatServer(aes_key="Z" * 43)
    assert post(server, stranger, stranger.text(OPENID, "hi")).status_code in (400, 403)
    assert dialogue.calls == []


def test_subscribe_opens_the_menu_and_unsubscribe_marks_the_member_unreachable(plain, app):
    server, dialogue, wechat = plain
    welcome = post(server, wechat, wechat.event(OPENID, "subscribe"))
    assert wechat.reply_text(welcome.content).startswith("echo [g:menu]")

    def reachability():
        with app.database.unit_of_work(write=False) as session:
            return session.execute(
                select(ChatIdentity.reachable, ChatIdentity.unreachable_reason).where(
                    ChatIdentity.external_id == OPENID
                )
            ).one()

    gone = post(server, wechat, wechat.event(OPENID, "unsubscribe"))
    assert gone.text == "success"
    assert wait_until(lambda: reachability()[0] is False)
    assert "unsubscribed" in reachability()[1]
    post(server, wechat, wechat.event(OPENID, "subscribe"))
    assert reachability() == (True, None)


def test_a_qr_code_with_a_member_number_offers_binding(plain):
    server, dialogue, wechat = plain
    post(server, wechat, wechat.event("o_new_user", "subscribe", key="qrscene_bind_M000003"))
    assert dialogue.calls[-1].button == "i:bind_account:member_no=M000003"


def test_a_menu_click_sends_its_key_as_a_button_payload(plain):
    server, dialogue, wechat = plain
    answer = post(server, wechat, wechat.event(OPENID, "CLICK", key="i:check_points"))
    assert dialogue.calls[-1].button == "i:check_points"
    assert wechat.reply_text(answer.content).startswith("echo [i:check_points]")


def test_tapping_a_menu_link_presses_that_button(plain):
    server, dialogue, wechat = plain
    post(server, wechat, wechat.text(OPENID, "兑换"))
    post(server, wechat, wechat.text(OPENID, "好的", bizmsgmenuid="1"))
    assert dialogue.calls[-1].button == "a:ok" and dialogue.calls[-1].text is None


def test_an_image_gets_a_polite_answer_without_the_engine(plain):
    server, dialogue, wechat = plain
    answer = post(server, wechat, wechat.image(OPENID))
    assert "文字" in wechat.reply_text(answer.content)
    assert dialogue.calls == []


def test_every_message_refreshes_the_customer_service_window(plain, app):
    server, _, wechat = plain
    post(server, wechat, wechat.text("o_someone_new", "你好"))
    from tests.app.channels.conftest import NOW

    assert records.last_inbound_at(app.database, "wechat", "o_someone_new") == NOW


def test_passive_replies_are_recorded_in_the_message_log(plain, app):
    server, _, wechat = plain
    post(server, wechat, wechat.text(OPENID, "积分"))

    def outcomes():
        with app.database.unit_of_work(write=False) as session:
            return session.scalars(
                select(MessageLog.outcome).where(
                    MessageLog.direction == "out", MessageLog.channel == "wechat"
                )
            ).all()

    assert wait_until(outcomes)
    assert outcomes() == ["sent:passive"]


def test_without_a_callback_token_the_route_answers_503_and_health_stays_up(app, serve):
    from app.channels import setup
    from app.web import create_app

    channels = setup.build(app, dialogue=EchoDialogue(), env={})
    server = serve(create_app(app, channels))
    wechat = FakeWeChatServer()
    assert post(server, wechat, wechat.text(OPENID, "hi")).status_code == 503
    assert server.client.post("/telegram/webhook", json={}).status_code == 503
    health = server.client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["channels"] == {"telegram": "off", "wechat": "off"}
    assert any("WECHAT_TOKEN" in p for p in channels.problems["wechat"])
    assert any("TELEGRAM_BOT_TOKEN" in p for p in channels.problems["telegram"])
