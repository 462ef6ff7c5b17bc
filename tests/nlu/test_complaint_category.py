"""Complaint categories: a classifier of the whole description, with the keyword lookup."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from nlu.normalise import normalise

DATA = Path(__file__).resolve().parents[2] / "nlu" / "data" / "complaint_categories.yml"
LANGUAGES = {"zh-Hans", "zh-Hant", "en"}


def category(parser, text):
    return next(
        (e["value"] for e in parser.parse(text)["entities"] if e["entity"] == "complaint_category"),
        None,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我要投诉，订单A20261101快递一直没到", "delivery_delay"),
        ("I want to complain, my parcel never arrived, order 4500123456", "delivery_delay"),
        ("收银员把我的积分算错了", "points_benefits"),
        ("杯子收到就是碎的", "product_quality"),
        ("在你们商城下的单，订单号 202611051234567，面霜收到已经过期了", "product_quality"),
        ("marketplace order 202611051234567: the face cream was expired", "product_quality"),
        ("店員態度超差，還對我大小聲", "service_attitude"),
        ("the app charged my card twice for one coffee", "billing_refund"),
        ("包裹寄了兩週都還沒收到", "delivery_delay"),
        ("客服一直不回我消息，态度很敷衍", "service_attitude"),
    ],
)
def test_a_complaint_gets_the_category_its_description_says(nlu_parser, text, expected):
    assert category(nlu_parser, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我要反映个问题，毛衣洗了一次就起球", "product_quality"),
        ("投诉，订单SO-2026-88123，耳机左边没声音", "product_quality"),
        ("我要投诉，导购一直催我办卡", "service_attitude"),
        ("投訴一下，訂單號碼 HK-2026-5521 的商品有瑕疵", "product_quality"),
        ("I'd like to file a complaint. My parcel is two weeks late", "delivery_delay"),
        ("re order A1234567: I was billed twice", "billing_refund"),
        ("I want to complain, the staff ignored me", "service_attitude"),
    ],
)
def test_a_description_behind_a_preamble_keeps_its_category(nlu_parser, text, expected):
    """`我要投诉，` and `complaint about order …:` are what complaints without a category are
    made of; the description after them still decides."""
    assert category(nlu_parser, text) == expected


def test_an_expired_product_is_product_quality_even_though_expired_benefits_are_a_category(
    nlu_parser,
):
    assert category(nlu_parser, "买的饼干是过期的，吃了肚子疼") == "product_quality"
    assert category(nlu_parser, "我的券过期了都没人提醒，要投诉") == "points_benefits"


@pytest.mark.parametrize(
    "text",
    ["我还有多少积分", "積分什麼時候過期", "what are the membership tiers", "hello", "兑换咖啡券"],
)
def test_a_text_that_is_not_a_complaint_gets_no_category(nlu_parser, text):
    result = nlu_parser.parse(text)

    assert category(nlu_parser, text) is None
    assert "complaint_category" not in result


@pytest.mark.parametrize(
    ("text", "expected"),
    [("the fries were cold", "product_quality"), ("my hot chocolate was cold", "product_quality")],
)
def test_inside_the_complaint_form_small_talk_about_our_goods_gets_its_category(
    nlu_parser, text, expected
):
    """Alone these read as small talk; told to "what happened?" they are the goods' quality."""
    assert nlu_parser.parse(text)["intent"]["name"] == "out_of_scope"
    assert nlu_parser.complaint_category(text)["name"] == expected


@pytest.mark.parametrize(
    "text", ["是的", "yes", "hello", "how many points do i have", "算了", "呃", "不是"]
)
def test_inside_the_complaint_form_a_yes_a_greeting_or_another_request_gets_no_category(
    nlu_parser, text
):
    """The category classifier only ever saw complaints: alone, it finds one in anything."""
    assert nlu_parser.complaint_category(text) is None


@pytest.mark.parametrize("text", ["我要投诉", "I want to file a complaint"])
def test_a_complaint_without_a_description_gets_no_category_so_the_form_asks(nlu_parser, text):
    assert category(nlu_parser, text) is None


def test_the_category_carries_its_confidence_and_its_extractor(nlu_parser):
    result = nlu_parser.parse("快递一个星期都没到，太慢了")
    entity = next(e for e in result["entities"] if e["entity"] == "complaint_category")

    assert entity["value"] == result["complaint_category"]["name"] == "delivery_delay"
    assert 0.45 <= entity["confidence"] == result["complaint_category"]["confidence"] <= 1.0
    assert entity["extractor"] == "ComplaintCategoryClassifier"
    assert 0 <= entity["start"] < entity["end"] <= len(result["text"])


def test_one_text_gets_at_most_one_category(nlu_parser):
    result = nlu_parser.parse("东西坏了，退款也一直不到账，快递还慢")

    assert [e["entity"] for e in result["entities"]].count("complaint_category") <= 1


def test_every_category_has_forty_examples_in_each_language_and_script():
    """Counted as the engine sees them: a Traditional text that is only a Simplified one in
    the other script is the same text once folded, and counts for one script only."""
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))["complaint_categories"]
    texts = defaultdict(set)
    for block in raw:
        for line in block["examples"].splitlines():
            if line.strip().startswith("- "):
                texts[block["category"], block["language"]].add(normalise(line.strip()[2:]).text)

    for name in {name for name, _ in texts}:
        simplified = texts[name, "zh-Hans"]
        for language in LANGUAGES:
            own = texts[name, language] - (simplified if language == "zh-Hant" else set())
            assert len(own) >= 40, (name, language)


def test_the_categories_learnt_are_the_configured_complaint_categories(nlu_model, config):
    from nlu.complaint_category import NO_CATEGORY

    learnt = set(nlu_model.category.labels) - {NO_CATEGORY}
    assert learnt == set(config.complaints.categories)
