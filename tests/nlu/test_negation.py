"""A negated request is not the request: unsubscribing, unlinking and asking for a person
act at once, with no question asked, so reading "我可没说要退订" as unsubscribing or "不需要
转人工了" as a handover would act against the member's words. The texts here are not in
the training data."""

from __future__ import annotations

import pytest

from nlu.features import NEGATED_MARK, WORD_MARK, analyse


@pytest.mark.parametrize(
    "text",
    [
        "我可没说要退订",
        "千万别退订",
        "别把我退订了",
        "i never asked to unsubscribe",
        "please don't unsubscribe me from anything",
        "please do not remove me from the mailing list",
        "不要取消我的订阅",
        "don't stop emailing me deals",
        "取消我的退订",  # the verbs that undo negate too
        "帮我关掉免打扰",
        "i never said stop sending offers",  # a stop that is negated: the parity feature
        "我没让你们停推送啊",
        "没说不要推送",
        "不要关掉我的活动提醒",
        "把勿扰模式关掉",  # turning off "do not disturb": two negations
        "关掉请勿打扰",
    ],
)
def test_a_negated_unsubscribe_keeps_the_messages(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "subscribe"


@pytest.mark.parametrize(
    "text",
    [
        "不想再收到推送",
        "不要给我发营销短信",
        "no more promos please",
        "stop emailing me",
        "我要退订",
        "i do not wish to get campaign messages",
        "以后不要发广告给我",
        "把营销推送停了",
        "别来烦我",
    ],
)
def test_asking_not_to_be_sent_anything_is_still_unsubscribing(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "unsubscribe"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("千万别解绑我的会员", "deny"),  # unlinking acts at once
        ("please don't unlink my membership", "deny"),
        ("别取消我的绑定", "deny"),  # 别 and 取消: even, yet a no, not a subscription
        ("不需要转人工了", "deny"),  # so does asking for a person
        ("i do not need to speak with an agent", "deny"),
        ("我要解绑", "unlink_account"),
        ("i want a human", "human_handoff"),
        ("删除我的数据", "erase_data"),
    ],
)
def test_a_negated_request_is_a_no_and_the_request_itself_still_acts(nlu_parser, text, intent):
    assert nlu_parser.parse(text)["intent"]["name"] == intent


def test_the_words_after_a_negation_count_again_marked_and_the_plain_ones_stay():
    counts = analyse("我不想退订")
    assert counts["退订"] and counts[NEGATED_MARK + "退订"]
    assert not any(g.startswith(NEGATED_MARK) for g in analyse("我要退订"))
    english = analyse("don't unsubscribe me")
    assert any(g.startswith(WORD_MARK + NEGATED_MARK + "unsubscribe") for g in english)


@pytest.mark.parametrize(
    "text",
    [
        "这个号不用了，帮我解绑",
        "i don't use this chat anymore, unlink it",
        "not my phone any more. remove the link please",
    ],
)
def test_a_negation_in_one_clause_does_not_undo_the_request_in_the_next(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "unlink_account"
