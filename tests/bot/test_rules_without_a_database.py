"""The small pure rules the conversations rest on: reading answers, guessing the
language, global words, button payloads, ticket priority and deadlines."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import payloads, ticket_rules
from core.config import DEFAULT_ORDER_ID_PATTERN
from core.global_words import global_word
from core.language import guess
from handlers.conversation import answers
from handlers.conversation.complaints import asks_only_to_complain

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1990-05-20", date(1990, 5, 20)),
        ("1990/5/20", date(1990, 5, 20)),
        ("1990年5月20日", date(1990, 5, 20)),
        ("19900520", date(1990, 5, 20)),
        ("born 1985-11-03, thanks", date(1985, 11, 3)),
        ("1990-02-30", None),
        ("2030-01-01", None),
        ("1850-01-01", None),
        ("not a date", None),
        ("九二年三月八号", date(1992, 3, 8)),
        ("95年2月14", date(1995, 2, 14)),
        ("一九九零年五月二十日", date(1990, 5, 20)),
        ("我是05年10月1日生的", date(2005, 10, 1)),
        ("二零零一年十二月三十一号", date(2001, 12, 31)),
        ("九二年二月三十号", None),
    ],
)
def test_a_birthday_is_read_from_what_members_type(typed, expected):
    assert answers.birthday(typed, None, TODAY) == expected


def test_the_nlu_date_entity_wins_over_the_text():
    assert answers.birthday("生日是那天", "1995-02-14", TODAY) == date(1995, 2, 14)


def test_phone_numbers_member_numbers_and_order_numbers_are_told_apart():
    assert answers.phone("138 0000 0002") == "13800000002"
    assert answers.phone("12345") is None
    assert answers.member_no("my number is m000003") == "M000003"
    assert answers.order_id("order 123456789012, please", ORDERS) == "123456789012"
    assert answers.order_id("1234", ORDERS) is None
    assert answers.order_id("123456789012345678901", ORDERS) is None


ORDERS = DEFAULT_ORDER_ID_PATTERN


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("我要投诉，快递一个星期都没到，订单号A20261101", "A20261101"),
        ("4500123456", "4500123456"),
        ("訂單號是so-2026-88123", "SO-2026-88123"),
        ("淘宝订单 3421987766554433221", "3421987766554433221"),
        ("my order is SO-2026-88123 thanks", "SO-2026-88123"),
        ("13800000001", None),  # a phone number
        ("20261101", None),  # a date
        ("2026-11-01", None),
        ("M000001", None),  # a member number
        ("T000001", None),  # a ticket number
        ("iPhone15 坏了", None),
    ],
)
def test_an_order_number_is_read_in_any_shops_format_and_never_as_a_date(typed, expected):
    assert answers.order_id(typed, ORDERS) == expected


def test_an_order_number_is_never_read_as_a_birthday():
    assert answers.birthday("A20261101", None, TODAY) is None


def test_the_nlus_order_number_is_taken_whole_before_the_shops_format():
    assert answers.order_id("订单JD-2026/11/05-0042", ORDERS, "JD-2026/11/05-0042") == (
        "JD-2026/11/05-0042"
    )


@pytest.mark.parametrize("span", ["the parcel", "2026-11-05", "M000001", "12", "order 4500"])
def test_an_entity_that_is_no_order_number_is_not_taken_whatever_backend_gave_it(span):
    assert answers.order_id("my parcel from 2026-11-05 is late", ORDERS, span) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ab12cd34ef", "AB12CD34EF"),
        ("  #88123456. ", "88123456"),
        ("ＡＢ１２ＣＤ３４ＥＦ", "AB12CD34EF"),
        ("abc", None),
        ("1234", None),
        ("2026-11-05", None),
        ("no idea", None),
    ],
)
def test_a_reply_to_the_order_question_is_read_whole_as_an_order_number(typed, expected):
    assert answers.order_id(typed, ORDERS, asked=True) == expected


def test_another_shops_order_format_is_a_matter_of_configuration():
    assert answers.order_id("order JD#8812", r"JD#\d{4}") == "JD#8812"


CATEGORIES = [
    "delivery_delay",
    "product_quality",
    "service_attitude",
    "points_benefits",
    "billing_refund",
    "other",
]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("快递的问题", "delivery_delay"),
        ("物流太慢了一个星期都没到", "delivery_delay"),
        ("質量太差", "product_quality"),
        ("the staff was rude to me", "service_attitude"),
        ("积分没到账", "points_benefits"),
        ("多扣了我的钱，要退款", "billing_refund"),
        ("别的问题", "other"),
        ("嗯", None),
    ],
)
def test_a_typed_answer_that_names_or_describes_a_category_is_read(typed, expected):
    assert answers.complaint_category(typed, CATEGORIES) == expected


@pytest.mark.parametrize(
    ("text", "only_asks"),
    [
        ("投诉", True),
        ("我要投诉！", True),
        ("我想投诉一下", True),
        ("我要投诉你们", True),
        ("i want to complain", True),
        ("complaint please", True),
        ("I'd like to file a formal complaint", True),
        ("how do I lodge a complaint", True),
        ("the staff laughed at me", False),
        ("衣服洗一次就缩水了", False),
        ("my coffee was cold", False),
        ("i want to complain about the delivery", False),
        ("投诉你们的快递员", False),
    ],
)
def test_a_bare_request_to_complain_is_told_from_a_description(text, only_asks):
    assert asks_only_to_complain(text) is only_asks


@pytest.mark.parametrize(
    ("typed", "place"),
    [
        ("the first one", 0),
        ("第二个", 1),
        ("第3张", 2),
        ("the last one", -1),
        ("最后那个", -1),
        ("头一个", 0),
        ("the coffee one", None),
        ("第十个", None),
    ],
)
def test_a_place_in_the_list_of_buttons_is_read_from_an_ordinal(typed, place):
    assert answers.place_in_list(typed) == place


def test_the_nlu_category_wins_when_it_gives_one():
    assert answers.complaint_category("whatever", CATEGORIES, "billing_refund") == "billing_refund"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2分，还是没解决", 2),
        ("5", 5),
        ("4 stars", 4),
        ("★★★", 3),
        ("五星好评", 5),
        ("很满意", 5),
        ("太差了", 1),
        ("還不錯", 4),
        ("Terrible service", 1),
        ("excellent!", 5),
        ("12", None),
        ("2 weeks late", None),
        ("兑换2张咖啡券", None),
        # A score inside a sentence: `给个4分` was "no ticket waiting for your rating", and
        # `还行吧，给个4分` recorded 3.
        ("给个4分", 4),
        ("还行吧，给个4分", 4),
        ("给你们打五分", 5),
        ("满分", 5),
        ("I would give it a 4", 4),
        ("rating: 4", 4),
        ("等了三分钟", None),
    ],
)
def test_a_typed_rating_is_read_from_numbers_stars_and_words(typed, expected):
    assert answers.rating(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("yes", True),
        ("好的", True),
        ("Sure!", True),
        ("不用了", False),
        ("No thanks", False),
        ("没毛病", True),  # a yes made with 没
        ("妥妥的", True),
        ("Roger that", True),
        ("不对", False),
        ("Never mind", False),
        ("👌", True),
        ("有", True),  # to 有订单号吗？: the NLU read it as the 没有 it was taught
        ("有的", True),
        ("yes I have one", True),
        ("没有", False),
        ("兑换咖啡券", None),  # not an answer: the NLU reads it
    ],
)
def test_a_typed_yes_or_no_is_read(typed, expected):
    assert answers.yes_or_no(typed) is expected


def test_a_question_is_told_from_a_statement():
    assert answers.is_question("我还有多少积分")
    assert answers.is_question("what do I get on my birthday")
    assert not answers.is_question("快递一个星期都没到")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("积分咋还没到账呢，上周六买了两件衬衫", True),
        ("为啥我的券用不了", True),
        ("这件衣服质量不咋样", False),
        ("我在店里呢", True),  # as before: a message ending in 呢
    ],
)
def test_a_chinese_question_may_end_its_clause_rather_than_the_message(text, expected):
    assert answers.is_question(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the app keeps crashing when i open my vouchers", True),
        ("热线打了一上午全是忙音", True),
        ("这批饼干有股异味", True),
        ("the paint on the new kettle is peeling off", True),
        ("what a rip-off, £12 for a candle", True),
        ("积分莫名其妙清零了", True),
        ("今天天气真好", False),
        ("thanks, that's all", False),
    ],
)
def test_a_trouble_told_in_everyday_words_says_something_is_wrong(text, expected):
    """An out-of-scope trouble that says so is offered as a complaint (it may be ours):
    `the new lamp flickers` and `app老是闪退` said nothing wrong to this word list."""
    assert answers.says_something_is_wrong(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("let me explain what happened last week", False),
        ("the cashier refused to show me the receipt", False),
        ("whatever, the cup arrived broken", False),
        ("somehow my parcel went to the wrong city", False),
        ("so what's my balance", True),
        ("hi, how do i redeem a voucher", True),
        ("my order is late. when will it arrive", True),
        ("Which store was it", True),
    ],
)
def test_an_english_question_word_asks_only_where_a_clause_begins(text, expected):
    """`show` holds `how` and `explain what happened` holds `what`: read anywhere, such
    descriptions counted as questions and left the complaint form for an answer."""
    assert answers.is_question(text) is expected


@pytest.mark.parametrize(
    ("entity", "expected"),
    [("2", 2), ("两", 2), ("三", 3), ("0", None), (None, None), ("many", None)],
)
def test_a_quantity_is_a_positive_whole_number(entity, expected):
    assert answers.quantity(entity) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我还有多少积分", "zh"),
        ("pts left?", "en"),
        ("hello", "en"),
        ("M000001", None),
        ("13800000001", None),
        ("ok", None),
        ("👍", None),
    ],
)
def test_the_language_is_guessed_only_from_telling_text(text, expected):
    assert guess(text) == expected


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("取消", "cancel"),
        ("算了！", "cancel"),
        ("Cancel", "cancel"),
        ("菜单", "menu"),
        ("/start bind_M000001", "menu"),
        ("转人工", "person"),
        ("agent", "person"),
        ("退订", "unsubscribe"),
        ("取消订单怎么办", None),
        ("人工客服电话是多少", None),
    ],
)
def test_global_words_match_the_whole_message_only(text, word):
    assert global_word(text) == word


def test_every_payload_kind_decodes_to_what_was_encoded():
    assert payloads.decode(
        payloads.intent("redeem_benefit", benefit="coffee_voucher")
    ).entities == {"benefit": "coffee_voucher"}
    pressed = payloads.decode(payloads.confirm("ab12cd34", False))
    assert (pressed.kind, pressed.confirmation, pressed.yes) == ("confirm", "ab12cd34", False)
    assert payloads.decode(payloads.answer("skip")).value == "skip"
    assert payloads.decode(payloads.global_word("person")).kind == "global"
    assert payloads.decode(payloads.language("en")).value == "en"
    with pytest.raises(payloads.BadPayload):
        payloads.decode("x:nonsense")


def test_urgent_words_regulators_and_safety_make_a_ticket_urgent(config):
    keywords = config.complaints.urgent_keywords
    assert ticket_rules.is_urgent("孩子吃了过敏，我要打12315", keywords)
    assert ticket_rules.is_urgent("I will call my LAWYER", keywords)
    assert not ticket_rules.is_urgent("快递有点慢", keywords)


def test_food_poisoning_a_hospital_or_glass_in_food_make_a_ticket_urgent(config):
    keywords = config.complaints.urgent_keywords
    assert ticket_rules.is_urgent("我小孩吃了你们的蛋糕上吐下泻 现在在医院", keywords)
    assert ticket_rules.is_urgent("食物中毒了！吃了你们店的沙拉", keywords)
    assert ticket_rules.is_urgent("你们的蛋糕里有玻璃碎片 很危险", keywords)
    assert ticket_rules.is_urgent("I got food poisoning from your sandwich", keywords)
    assert not ticket_rules.is_urgent("玻璃杯收到就碎了", keywords)


def test_priority_puts_urgent_first_then_vip_and_requests_last():
    assert ticket_rules.priority("complaint", urgent=True, vip=True) == "urgent"
    assert ticket_rules.priority("complaint", urgent=False, vip=True) == "high"
    assert ticket_rules.priority("handoff", urgent=False, vip=False) == "normal"
    assert ticket_rules.priority("request", urgent=False, vip=False) == "low"


def test_deadlines_follow_the_service_levels_of_the_configuration(config):
    opened = datetime(2026, 11, 25, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    levels = config.service_levels
    urgent = ticket_rules.deadlines(opened, urgent=True, vip=False, levels=levels)
    vip = ticket_rules.deadlines(opened, urgent=False, vip=True, levels=levels)
    normal = ticket_rules.deadlines(opened, urgent=False, vip=False, levels=levels)
    assert urgent.first_response - opened == timedelta(hours=levels.first_response.urgent)
    assert vip.first_response - opened == timedelta(hours=levels.first_response.vip)
    assert normal.first_response - opened == timedelta(hours=levels.first_response.normal)
    assert normal.resolution - opened == timedelta(hours=levels.resolution)
    assert ticket_rules.number(123) == "T000123"
