"""A negated request is not the request: unsubscribing, unlinking and asking for a person
act at once, with no question asked, so reading "我可没说要退订" as unsubscribing or "不需要
转人工了" as a handover would act against the member's words. The texts here are not in
the training data."""

from __future__ import annotations

import pytest

from nlu.features import POLARITY_MARK, WORD_MARK, analyse


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
        "oops, I unsubscribed by accident",
        "reverse the unsubscribe I did yesterday",
        "the unsubscribe was a mistake, put me back",
        "I regret turning off the promotions",
        "刚才误点了退订",
        "我后悔关掉推送了",
        "不小心退订了，帮我改回来",
        "undo the opt out please",
        "revert my marketing preference, I want offers again",
        "I didn't mean to unsubscribe",
        "hit unsubscribe accidentally, sorry",
        "can you undo that unsubscribe",
        "regret opting out of your newsletter",
        "误操作退订了",
        "退订按错了",
        "手滑点了退订，还想收",
        "我退订是误会",
        "後悔取消訂閱了",
        "I opted out without meaning to",
        "把退订撤销掉",
    ],
)
def test_undoing_or_regretting_an_unsubscribe_asks_for_the_messages_back(nlu_parser, text):
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
        "I refuse to get marketing texts",  # refusing stops, as stopping does
        "拒收推广短信",
        "reject all promotional messages",
        "我拒绝接收你们的广告",
        "i reject marketing emails",
        "refuse promotional sms",
        "拒绝一切营销推送",
        "请拒收我的促销信息",
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


def test_each_word_of_a_clause_is_paired_with_its_polarity_and_stays_plain_too():
    wanted, refused = analyse("别停推送"), analyse("停推送")
    assert wanted["推送"] and refused["推送"]
    assert wanted[WORD_MARK + POLARITY_MARK + "+推送"]
    assert refused[WORD_MARK + POLARITY_MARK + "-推送"]
    assert not any(POLARITY_MARK in gram for gram in analyse("我要推送"))
    english = analyse("don't unsubscribe me from offers")
    assert english[WORD_MARK + POLARITY_MARK + "+offers"]


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


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("能不能以后别给我发广告", "unsubscribe"),
        ("可以不可以把推送关了", "unsubscribe"),
        ("你们能不能停止发短信", "unsubscribe"),
        ("我能不能取消订阅", "unsubscribe"),
        ("可不可以不要再推送了", "unsubscribe"),
        ("是不是回复TD就能退订", "unsubscribe"),
        ("能不能重新给我发优惠信息", "subscribe"),
        ("可不可以把推送打开", "subscribe"),
        ("我还能不能订阅活动消息", "subscribe"),
        ("能不能解除绑定", "unlink_account"),
        ("可以不可以解绑这个微信", "unlink_account"),
        ("能不能绑定我的会员卡", "bind_account"),
        ("能不能转人工", "human_handoff"),
        ("有没有客服在线", "human_handoff"),
        ("上周的积分到账了没", "points_history"),
        ("积分加上了没有", "points_history"),
    ],
)
def test_a_chinese_yes_no_question_asks_for_the_thing_it_names(nlu_parser, text, intent):
    """能不能, 有没有, 可以不可以 and a closing 了没 ask; they refuse nothing. Counted as
    negations, `我能不能取消订阅` was read as `subscribe` and `能不能解除绑定` as `deny`."""
    assert nlu_parser.parse(text)["intent"]["name"] == intent


def test_a_yes_no_question_or_a_word_said_twice_does_not_flip_the_polarity():
    polarity = WORD_MARK + POLARITY_MARK
    assert analyse("能不能退订")[polarity + "-"]
    assert not any(POLARITY_MARK in gram for gram in analyse("有没有人工"))
    assert analyse("别发了别发了")[polarity + "-"]  # one 别, said twice: still a stop
    assert analyse("no no no")[polarity + "-"]


@pytest.mark.parametrize(
    "text",
    ["i unsubscribed last week and you still text me", "我上周就退订了怎么还在发"],
)
def test_a_member_still_messaged_after_unsubscribing_is_never_subscribed_again(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] != "subscribe"


def test_other_免_别_and_停_words_are_not_negations():
    for text in ("别人的积分", "超市别家的会员卡", "会员级别", "免运费券", "停车场"):
        assert not any(POLARITY_MARK in gram for gram in analyse(text)), text
    for text in ("别发了", "免打扰", "停发推送"):
        assert any(POLARITY_MARK in gram for gram in analyse(text)), text


@pytest.mark.parametrize(
    "text",
    [
        "无须推送优惠",
        "禁止推送广告",
        "谢绝一切营销信息",
        "以后免发短信",
        "i decline promotional offers",
    ],
)
def test_forbidding_declining_or_needing_no_messages_is_unsubscribing(nlu_parser, text):
    """无须, 禁止, 谢绝, 免 before a verb and "decline" negate: without them `无需再给我推送`
    and `禁止给我发营销短信` read as subscribing."""
    assert nlu_parser.parse(text)["intent"]["name"] == "unsubscribe"


@pytest.mark.parametrize(
    "text",
    [
        "please stop the texts and take me off the list",
        "unsubscribe me and delete me from your mailing list",
        "opt me out and stop emailing me",
        "block these ads and unsubscribe",
        "unsubscribe 退订",
        "停止推送 我要退订",
        "别再发短信并且取消订阅",
        "退订退订 别发了",
        "关掉推送然后退订",
        "不要推送 也不要短信",
    ],
)
def test_two_stops_in_one_message_add_up_to_unsubscribing(nlu_parser, text):
    """Counted in one clause, two stops made an even number and read as subscribing (8 of
    these 10 at 0.98 or more): joined requests and a space between Chinese phrases end a
    clause."""
    assert nlu_parser.parse(text)["intent"]["name"] == "unsubscribe"


@pytest.mark.parametrize(
    "text",
    [
        "为什么还在发，不是退订了吗",
        "我上个月不是就退订了吗，怎么还发",
        "难道我没取消订阅？",
        "我不是取消订阅了吗",
        "didn't i already unsubscribe",
        "haven't i unsubscribed already?",
        "didn't i tell you to stop messaging me",
        "why don't you just unsubscribe me",
        "can't you stop sending these",
    ],
)
def test_a_rhetorical_question_about_unsubscribing_never_reads_as_subscribing(nlu_parser, text):
    """不是…吗, 难道 and "didn't i" presume the member unsubscribed: before, 7 of these 9
    read as subscribing."""
    assert nlu_parser.parse(text)["intent"]["name"] != "subscribe"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我能不能取消訂閱", "unsubscribe"),
        ("停止推送並且退訂", "unsubscribe"),
        ("無需再推送", "unsubscribe"),
        ("有沒有真人客服", "human_handoff"),
        ("如果我退訂，積分還在嗎", "ask_rules"),
        ("別人能幫我解綁嗎", "ask_rules"),
    ],
)
def test_the_same_readings_hold_in_traditional_chinese(nlu_parser, text, intent):
    assert nlu_parser.parse(text)["intent"]["name"] == intent


@pytest.mark.parametrize(
    "text",
    [
        "退订按钮点不了",
        "怎么都取消不了订阅",
        "退订没用",
        "不知道在哪里退订",
        "there's no option to opt out",
        "i can't turn off the notifications",
        "unsubscribe doesn't work",
        "i don't understand how to opt out",
    ],
)
def test_a_member_who_cannot_unsubscribe_still_wants_to(nlu_parser, text):
    """Not being able (不了, 没用, can't, doesn't work, no option) or not knowing how is no
    refusal: before, 7 of 8 such texts read as subscribing."""
    assert nlu_parser.parse(text)["intent"]["name"] == "unsubscribe"


def test_i_will_not_unsubscribe_keeps_the_messages(nlu_parser):
    assert nlu_parser.parse("我不会退订的")["intent"]["name"] == "subscribe"


@pytest.mark.parametrize(
    "text",
    [
        "别再发错货号给我了",
        "你们不要再寄烂掉的水果了",
        "别再发快过期的牛奶了",
        "不要再送错门牌号了",
        "stop sending me the wrong flavour",
        "please quit sending me items with torn packaging",
        "don't ship me cracked plates again",
        "stop sending the parcel to my old address",
    ],
)
def test_stop_sending_me_wrong_goods_is_a_complaint_not_an_unsubscribe(nlu_parser, text):
    """What is sent here is goods, not messages: 5 of these 8 read as unsubscribing, which
    acts at once."""
    assert nlu_parser.parse(text)["intent"]["name"] == "file_complaint"


@pytest.mark.parametrize(
    "text",
    [
        "别再给我发促销短信了",
        "不要再推送活动了",
        "stop sending me promotional emails",
        "quit messaging me about sales",
    ],
)
def test_stop_sending_me_offers_is_still_an_unsubscribe(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "unsubscribe"
