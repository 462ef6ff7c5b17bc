"""Order numbers: every retailer format, before dates, phones and numbers; no false alarms."""

from __future__ import annotations

import pytest

from nlu.entities.orders import order_in_answer
from nlu.normalise import normalise


def found(parser, text):
    return [
        (e["entity"], text[e["start"] : e["end"]], e["value"])
        for e in parser.parse(text)["entities"]
    ]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("我要投诉，订单A20261101快递一直没到", "A20261101"),
        ("I want to complain, my parcel never arrived, order 4500123456", "4500123456"),
        ("订单号：SO-2026-88123 还没发货", "SO-2026-88123"),
        ("order no. JD-88123-X is late", "JD-88123-X"),
        ("order #4500123 was charged twice", "4500123"),
        ("我的訂單號是SO-2026-88123", "SO-2026-88123"),
        ("order number is a12345678", "A12345678"),
        ("单号 98765432 的杯子碎了", "98765432"),
        ("订单JD-2026/11/05-0042的面霜过期了", "JD-2026/11/05-0042"),
        ("my order ref ab12cd34ef never came", "AB12CD34EF"),
        ("Reference: ab12cd34ef, still waiting", "AB12CD34EF"),
        ("order id so_2026_88123 was wrong", "SO_2026_88123"),
        ("訂單編號：TB20261105-0042 少發了一件", "TB20261105-0042"),
        ("交易号 202611050042 扣了两次钱", "202611050042"),
        ("Order No.: 113-1234567-1234567", "113-1234567-1234567"),
        ("my order number was 88123456", "88123456"),
        ("小票号 00420511 积分没到账", "00420511"),
        ("purchase #A1B2C3D4 was charged twice", "A1B2C3D4"),
        ("我在2026-11-01下的订单A-7781还没到", "A-7781"),  # letters and digits split by a dash
        ("订单号 8823 的杯子碎了", "8823"),  # after a cue that names a number, three digits do
        ("order no. 552 arrived broken", "552"),
        ("my order # is 7731, still not here", "7731"),
    ],
)
def test_an_order_number_after_a_cue_word_is_found_in_any_retailer_format(nlu_parser, text, number):
    orders = [(s, v) for entity, s, v in found(nlu_parser, text) if entity == "order_id"]
    assert [v for _, v in orders] == [number]
    assert orders[0][0].upper() == number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("这单4500123456还没到", "4500123456"),
        ("A20261101 never arrived", "A20261101"),
        ("SO-2026-88123 还没发货", "SO-2026-88123"),
        ("淘宝 202611051234567890 退款呢", "202611051234567890"),
        ("113-1234567-1234567 arrived broken", "113-1234567-1234567"),
        ("拼多多 201105-123456789012345 还没退款", "201105-123456789012345"),
    ],
)
def test_a_long_number_or_a_letter_and_digit_mix_is_an_order_number_without_a_cue(
    nlu_parser, text, number
):
    assert [v for e, _, v in found(nlu_parser, text) if e == "order_id"] == [number]


def test_an_order_number_with_letters_is_not_read_as_a_date(nlu_parser):
    entities = found(nlu_parser, "我要投诉，订单A20261101快递一直没到")

    assert not [e for e in entities if e[0] == "date"]
    assert ("order_id", "A20261101", "A20261101") in entities


def test_an_order_number_made_of_a_date_after_a_cue_is_an_order_not_a_date(nlu_parser):
    entities = found(nlu_parser, "订单20261101到现在都没发货")

    assert [e for e in entities if e[0] in {"order_id", "date", "amount", "quantity"}] == [
        ("order_id", "20261101", "20261101")
    ]


def test_a_phone_number_inside_a_cued_order_number_is_not_a_phone(nlu_parser):
    entities = found(nlu_parser, "order 13800000001 never came")

    assert [e for e in entities if e[0] != "complaint_category"] == [
        ("order_id", "13800000001", "13800000001")
    ]


@pytest.mark.parametrize(
    ("text", "entity", "surface"),
    [
        ("我的电话13800000001", "phone", "13800000001"),
        ("my phone is 13800000001", "phone", "13800000001"),
        ("13800000001", "phone", "13800000001"),
        ("会员号M000001", "member_no", "M000001"),
        ("工单T000123怎么样了", "ticket_id", "T000123"),
        ("ticket t000123 status", "ticket_id", "t000123"),
        ("call me on 138-0000-0001", "phone", "138-0000-0001"),
    ],
)
def test_phones_member_numbers_and_ticket_numbers_are_not_order_numbers(
    nlu_parser, text, entity, surface
):
    entities = found(nlu_parser, text)

    assert entity in [e for e, s, _ in entities if s == surface]
    assert "order_id" not in [e for e, _, _ in entities]


@pytest.mark.parametrize(
    "text",
    [
        "我要兑换2张咖啡券",
        "订单2张",
        "2026年的订单还没到",
        "my order from 2026 is late",
        "12345",
        "订单123",
        "order 2 cups",
        "order ref 42",
        "reference to my last complaint",
        "2026/11/05 的订单还没到",
        "my order from 2026-11-05 is late",
        "order 3x2kg rice",
        "order 100ml of milk",
        "#100 best seller",
    ],
)
def test_quantities_years_and_short_numbers_are_not_order_numbers(nlu_parser, text):
    assert "order_id" not in [e for e, _, _ in found(nlu_parser, text)]


def test_nothing_else_is_extracted_from_inside_an_order_number(nlu_parser):
    entities = found(nlu_parser, "订单号 SO-2026-88123 多扣了 ¥50")

    assert ("order_id", "SO-2026-88123", "SO-2026-88123") in entities
    assert ("amount", "¥50", "50") in entities
    assert all(e[0] in {"order_id", "amount", "complaint_category"} for e in entities)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("订单号 A2026 1101 还没到", "A20261101"),
        ("订单号 A 20261101 坏了", "A20261101"),
        ("单号 SF 1234567890123 没到", "SF1234567890123"),
        ("順豐運單號 SF 1234 5678 9012 3 三天沒動", "SF1234567890123"),
        ("订单号 3512 3456 7890 1234 567 东西坏了", "3512345678901234567"),
        ("order 302 1234567 7654321 missing", "30212345677654321"),
        ("订单号A2026 1101还没到", "A20261101"),
    ],
)
def test_an_order_number_pasted_in_groups_with_spaces_is_one_number(nlu_parser, text, number):
    entities = found(nlu_parser, text)

    assert [e[2] for e in entities if e[0] == "order_id"] == [number]
    assert not [e for e in entities if e[0] in {"date", "quantity", "number"}]


@pytest.mark.parametrize(
    "text",
    [
        "订单号 A20261101 2 件坏了",
        "订单号 A20261101 11月5号下的单",
        "订单号 A20261101 2026-11-05下的单",
        "订单 A20261101 2000 积分没到",
        "订单号 A20261101 13812345678 联系我",
        "order 12345678 5000 points missing",
        "order 12345678 200 dollars",
    ],
)
def test_a_quantity_date_phone_or_amount_after_an_order_number_is_no_part_of_it(nlu_parser, text):
    orders = [e[2] for e in found(nlu_parser, text) if e[0] == "order_id"]

    assert orders in (["A20261101"], ["12345678"])


@pytest.mark.parametrize(
    ("answer", "number"),
    [
        ("3512 3456 7890 1234 567", "3512345678901234567"),
        ("SF 1234 5678 9012 3", "SF1234567890123"),
    ],
)
def test_an_order_number_answered_in_groups_is_taken_whole(answer, number):
    assert order_in_answer(normalise(answer).text) == number


def test_two_order_numbers_answered_together_are_not_one():
    assert order_in_answer(normalise("A20261101 and A20261102").text) is None


def test_a_date_written_with_slashes_inside_an_order_number_is_not_a_date(nlu_parser):
    entities = found(nlu_parser, "订单JD-2026/11/05-0042的面霜过期了")

    assert [e for e in entities if e[0] in {"order_id", "date", "quantity"}] == [
        ("order_id", "JD-2026/11/05-0042", "JD-2026/11/05-0042")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "20261105123456 还没到",
        "订单号:2026-11-05-0042 少发了",
        "单号 YT1234567890123 快递丢了",
        "my order 4500123456 never arrived",
    ],
)
def test_a_complaint_that_names_an_order_number_is_not_read_as_a_phone_number(nlu_parser, text):
    """The digits of an order number count as one mark, not as the digits of the phone
    numbers that binding and profile texts carry."""
    assert nlu_parser.parse(text)["intent"]["name"] == "file_complaint"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我要退订单 JD-2026-5566", "file_complaint"),  # 退 + 订单: return an order
        ("退订单 4500777888 的货", "file_complaint"),
        ("我要退訂單 SO-2026-99001", "file_complaint"),
        ("我要退订", "unsubscribe"),  # 退订: no more messages
        ("退订营销短信", "unsubscribe"),
    ],
)
def test_returning_an_order_is_not_unsubscribing(nlu_parser, text, intent):
    assert nlu_parser.parse(text)["intent"]["name"] == intent


@pytest.mark.parametrize(
    "text", ["11/05买的 A20261105 少了3件", "我在11/05买的，单号 A20261105，少发了3件"]
)
def test_a_day_written_with_slashes_is_not_read_as_a_score(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "file_complaint"


@pytest.mark.parametrize("text", ["4/5", "给个10/10", "rate 3/5"])
def test_a_score_out_of_five_or_ten_is_still_a_rating(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "rate_service"
