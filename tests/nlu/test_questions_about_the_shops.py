"""Questions about the shops themselves (hours, addresses, stock, jobs) are out of scope:
`is the shanghai store open on sunday` got the complaint form. A complaint about a shop,
and a membership question asked about one, are still ours. The texts here are not in
the training data."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text",
    [
        "你们店明天几点开",
        "春节期间门店营业吗",
        "广州哪里有你们的店",
        "这个包还有黑色的吗",
        "店里招兼职吗",
        "what are your opening times on saturday",
        "is there a store near the airport",
        "do you have this in blue",
        "is the downtown shop open on new year's day",
    ],
)
def test_a_question_about_the_shops_is_out_of_scope(nlu_parser, text):
    assert nlu_parser.parse(text)["intent"]["name"] == "out_of_scope"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("门店关门比写的时间早，白跑一趟", "file_complaint"),
        ("店里的衣服标价和结账价格不一样", "file_complaint"),
        ("the store was closed during opening hours", "file_complaint"),
        ("the shop gave me the wrong size and won't exchange it", "file_complaint"),
        ("门店店员不让我试穿还甩脸色", "file_complaint"),
        ("can i earn points in the store", "ask_rules"),
    ],
)
def test_a_complaint_or_membership_question_about_a_shop_is_still_ours(nlu_parser, text, intent):
    assert nlu_parser.parse(text)["intent"]["name"] == intent
