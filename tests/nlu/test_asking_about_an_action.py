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
    ],
)
def test_a_question_about_what_an_action_does_is_a_rules_question(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "ask_rules"


@pytest.mark.parametrize(
    ("text", "intent"),
    [("我要解绑", "unlink_account"), ("unsubscribe me", "unsubscribe"), ("退订", "unsubscribe")],
)
def test_the_action_asked_for_plainly_still_acts(nlu_parser, text, intent):
    assert nlu_parser.parse(text)["intent"]["name"] == intent
