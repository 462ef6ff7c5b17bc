"""Asking what an action would do is a question about the rules, not the action:
unlinking and unsubscribing act at once, so "解绑之后积分还在吗" must not unlink the chat.
The texts here are not in the training data."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text",
    [
        "解绑之后积分还在吗",
        "退订之后还能收到订单通知吗",
        "退订后还有生日积分吗",
        "if i unsubscribe will i still get order updates",
        # a condition: 如果, 要是, 的话, if, what happens
        "如果我退订，积分还在吗",
        "假如我取消订阅，生日礼还有吗",
        "要是我退订短信，还能收到快递通知吗",
        "要是退订了会员会不会没了",
        "万一解绑了，积分会不会丢",
        "如果我解綁，會員等級會保留嗎",
        "退訂的話積分會不會清空",
        "如果解除绑定，我的券还能用吗",
        "if i unsubscribe will i lose my points",
        "if i opt out of promotions do i keep my tier",
        "what happens if i unlink my telegram",
        "if i stop the marketing messages will i miss my birthday gift",
        # what the word means, when it takes effect, who may do it
        "退订会马上生效吗",
        "取消订阅是什么意思",
        "解绑和注销有什么区别",
        "解绑之后会员权益还在吗",
        "别人能帮我解绑吗",  # 别人 is "someone else", not "don't"
        "does unlinking delete my points",
        "is there a waiting period after unlinking",
        "is unsubscribing permanent",
    ],
)
def test_a_question_about_what_an_action_does_is_a_rules_question(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "ask_rules"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我要解绑", "unlink_account"),
        ("unsubscribe me", "unsubscribe"),
        ("退订", "unsubscribe"),
        # a polite if is no condition
        ("如果可以的话帮我退订", "unsubscribe"),
        ("如果可以，帮我把推送关掉", "unsubscribe"),
        ("方便的話幫我退訂", "unsubscribe"),
        ("if possible, please stop sending me promos", "unsubscribe"),
        ("if you don't mind, unlink this account", "unlink_account"),
        ("麻烦如果可以的话转个人工", "human_handoff"),
    ],
)
def test_the_action_asked_for_plainly_or_politely_still_acts(nlu_parser, text, intent):
    assert nlu_parser.parse(text)["intent"]["name"] == intent
