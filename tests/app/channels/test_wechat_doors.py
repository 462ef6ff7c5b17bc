"""The WeChat door: a signed query is good for a few minutes and for one message, safe
mode takes nothing in plaintext, and what is malformed is refused without being logged."""

from __future__ import annotations

import logging
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from storage.models import SignedRequest
from tests.app.channels.conftest import OPENID, EchoDialogue, channels_for
from tests.fakes.wechat_api import AES_KEY, FakeWeChatServer


@pytest.fixture
def plain(app, serve, web_for, wechat_sender):
    dialogue = EchoDialogue()
    server = serve(web_for(channels_for(app, dialogue, wechat_sender=wechat_sender)))
    return server, dialogue, FakeWeChatServer()


def test_a_signed_query_older_than_five_minutes_is_refused(plain):
    server, dialogue, wechat = plain
    query, body = wechat.request(wechat.text(OPENID, "积分"), timestamp=time.time() - 400)
    assert server.client.post(f"/wechat?{query}", content=body).status_code == 403
    query, body = wechat.request(wechat.text(OPENID, "积分"), timestamp=time.time() + 400)
    assert server.client.post(f"/wechat?{query}", content=body).status_code == 403
    assert dialogue.calls == []


def test_a_signed_query_replayed_with_another_body_is_refused(plain):
    server, dialogue, wechat = plain
    query, body = wechat.request(wechat.text(OPENID, "积分"))
    assert server.client.post(f"/wechat?{query}", content=body).status_code == 200
    forged = wechat.text("o_someone_else_entirely_0001", "兑换咖啡券").encode()
    replay = server.client.post(f"/wechat?{query}", content=forged)
    assert replay.status_code == 403
    assert [c.text for c in dialogue.calls] == ["积分"]


def test_the_same_signed_query_and_body_again_is_a_retry_and_answered_once(plain):
    server, dialogue, wechat = plain
    query, body = wechat.request(wechat.text(OPENID, "积分"))
    first = server.client.post(f"/wechat?{query}", content=body)
    again = server.client.post(f"/wechat?{query}", content=body)
    assert wechat.reply_text(first.content).startswith("echo 积分")
    assert again.status_code == 200 and again.text == "success"
    assert len(dialogue.calls) == 1


def test_a_replay_is_refused_by_another_process_on_the_same_database(
    app, serve, web_for, wechat_sender
):
    first = serve(web_for(channels_for(app, EchoDialogue(), wechat_sender=wechat_sender)))
    other_dialogue = EchoDialogue()
    other = serve(web_for(channels_for(app, other_dialogue, wechat_sender=wechat_sender)))
    wechat = FakeWeChatServer()
    query, body = wechat.request(wechat.text(OPENID, "积分"))
    assert first.client.post(f"/wechat?{query}", content=body).status_code == 200
    forged = wechat.text(OPENID, "兑换咖啡券").encode()
    assert other.client.post(f"/wechat?{query}", content=forged).status_code == 403
    assert other_dialogue.calls == []
    with app.database.unit_of_work(write=False) as session:
        assert len(session.scalars(select(SignedRequest)).all()) == 1


def test_safe_mode_refuses_a_plaintext_message(app, serve, web_for, wechat_sender):
    dialogue = EchoDialogue()
    server = serve(web_for(channels_for(app, dialogue, wechat_sender, aes_key=AES_KEY)))
    plaintext = FakeWeChatServer()
    query, body = plaintext.request(plaintext.text(OPENID, "积分"))
    assert server.client.post(f"/wechat?{query}", content=body).status_code == 403
    assert dialogue.calls == []


def test_safe_mode_takes_plaintext_in_compatible_mode(app, serve, web_for, wechat_sender):
    dialogue = EchoDialogue()
    channels = channels_for(app, dialogue, wechat_sender, aes_key=AES_KEY, compatible_mode=True)
    server = serve(web_for(channels))
    plaintext = FakeWeChatServer()
    query, body = plaintext.request(plaintext.text(OPENID, "积分"))
    answer = server.client.post(f"/wechat?{query}", content=body)
    assert plaintext.reply_text(answer.content).startswith("echo 积分")


def test_safe_mode_refuses_a_message_whose_msg_signature_is_wrong(
    app, serve, web_for, wechat_sender
):
    dialogue = EchoDialogue()
    server = serve(web_for(channels_for(app, dialogue, wechat_sender, aes_key=AES_KEY)))
    wechat = FakeWeChatServer(aes_key=AES_KEY)
    query, body = wechat.request(wechat.text(OPENID, "积分"))
    tampered = query.replace("msg_signature=", "msg_signature=0")
    assert server.client.post(f"/wechat?{tampered}", content=body).status_code == 403
    assert dialogue.calls == []


@pytest.mark.parametrize("msg_id", ["abc", "1e99", "-", "9" * 400])
def test_a_msgid_that_is_not_a_number_gets_400(plain, msg_id):
    server, dialogue, wechat = plain
    xml = wechat.text(OPENID, "积分").replace("</MsgId>", "").split("<MsgId>")[0]
    xml += f"<MsgId>{msg_id}</MsgId></xml>"
    query, body = wechat.request(xml)
    assert server.client.post(f"/wechat?{query}", content=body).status_code == 400
    assert dialogue.calls == []


def test_a_malformed_body_is_refused_without_its_content_in_the_log(plain, caplog):
    server, _, wechat = plain
    secret = "M000003 1995-02-14"
    with caplog.at_level(logging.DEBUG):
        query, body = wechat.request(f"<xml><Content>{secret}</Content><MsgId>x</xml>")
        assert server.client.post(f"/wechat?{query}", content=body).status_code == 400
    assert "M000003" not in caplog.text and "1995-02-14" not in caplog.text


def test_nul_bytes_and_lone_surrogates_never_reach_the_engine(plain):
    server, dialogue, wechat = plain
    query, body = wechat.request(wechat.text(OPENID, "积\x00分"))
    assert server.client.post(f"/wechat?{query}", content=body).status_code in (200, 400)
    assert all("\x00" not in (c.text or "") for c in dialogue.calls)


FIELD = st.text(max_size=30) | st.sampled_from(["abc", "-1", "9" * 400, "", "1e99", "0"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["text", "event", "image", "voice", "location", "link", "x"]),
    fields=st.dictionaries(
        st.sampled_from(
            ["MsgId", "CreateTime", "Content", "Event", "EventKey", "FromUserName", "bizmsgmenuid"]
        ),
        FIELD,
    ),
    raw=st.none() | st.binary(max_size=200),
)
def test_any_signed_body_is_answered_200_400_or_403_never_500(plain, kind, fields, raw):
    server, _, wechat = plain
    fields.setdefault("FromUserName", OPENID)
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    xml = f"<xml><ToUserName>gh</ToUserName><MsgType>{kind}</MsgType>{inner}</xml>"
    query, body = wechat.request(xml)
    answer = server.client.post(f"/wechat?{query}", content=raw if raw is not None else body)
    assert answer.status_code in (200, 400, 403)
