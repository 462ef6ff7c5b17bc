"""Entities: the right values, and offsets that cut the surface out of the original text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlu.entities.gazetteer import build_gazetteer
from nlu.entities.numbers import find_quantities
from nlu.training_data import EntitySpan, Example, TrainingData, load_training_data

# Golden entity values of these types are written as surfaces (`¥99`, `1993年6月6日`);
# the engine normalises them (amount -> plain number, date -> ISO), so for these the
# test checks the surface and the normalised form instead of the golden value.
NORMALISED = {
    "amount": re.compile(r"^\d+(\.\d+)?$"),
    "date": re.compile(r"^(\d{4}|-)-\d\d-\d\d$"),
}


def found(parser, text):
    return [
        (e["entity"], text[e["start"] : e["end"]], e["value"])
        for e in parser.parse(text)["entities"]
    ]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_golden_entities_are_found_with_their_values_and_exact_offsets(
    nlu_parser, golden, language
):
    for case in golden[language]["entities"]:
        text = case["text"]
        result = nlu_parser.parse(text)
        got = {(e["entity"], text[e["start"] : e["end"]]): e["value"] for e in result["entities"]}
        for expected in case["entities"]:
            key = (expected["entity"], expected["text"])
            assert key in got, f"{text!r}: {key} not among {sorted(got)}"
            pattern = NORMALISED.get(expected["entity"])
            if pattern:
                assert pattern.match(got[key]), f"{text!r}: {key} -> {got[key]!r}"
            else:
                assert got[key] == str(expected["value"]), f"{text!r}: {key}"


def test_two_zhang_is_quantity_two(nlu_parser):
    assert ("quantity", "两张", "2") in found(nlu_parser, "我要兑换两张咖啡券")


@pytest.mark.parametrize(
    ("text", "surface", "value"),
    [
        ("兑换三个生日蛋糕", "三个", "3"),
        ("来5份包邮券", "5", "5"),
        ("I want two coffee vouchers", "two", "2"),
        ("redeem 2 please", "2", "2"),
        ("换十二张咖啡券", "十二张", "12"),
        ("我要兌換兩張咖啡券", "兩張", "2"),
        # Counted as on a receipt or a form (they were read as 1).
        ("2x coffee voucher", "2x", "2"),
        ("redeem free shipping x3", "x3", "3"),
        ("兑换咖啡券，数量：3", "数量：3", "3"),
    ],
)
def test_quantities_in_chinese_and_arabic_numerals_and_english_words(
    nlu_parser, text, surface, value
):
    assert ("quantity", surface, value) in found(nlu_parser, text)


@pytest.mark.parametrize(
    ("text", "surface", "value"),
    [
        ("花了200元", "200元", "200"),
        ("多扣了¥99", "¥99", "99"),
        ("I paid $50", "$50", "50"),
        ("退我二百元", "二百元", "200"),
        ("paid 1,299.50 yuan", "1,299.50 yuan", "1299.5"),
        ("多扣了￥９９", "￥９９", "99"),
    ],
)
def test_amounts_become_plain_numbers(nlu_parser, text, surface, value):
    assert ("amount", surface, value) in found(nlu_parser, text)


@pytest.mark.parametrize(
    ("text", "surface", "value"),
    [
        ("生日是1990-05-20", "1990-05-20", "1990-05-20"),
        ("生日是1990年5月20日", "1990年5月20日", "1990-05-20"),
        ("生日一九九〇年五月二十日", "一九九〇年五月二十日", "1990-05-20"),
        ("born 20 May 1990", "20 May 1990", "1990-05-20"),
        ("born May 20, 1990", "May 20, 1990", "1990-05-20"),
        ("生日5月20号", "5月20号", "--05-20"),
        ("生日2月30号", None, None),
    ],
)
def test_dates_become_iso_and_impossible_dates_are_skipped(nlu_parser, text, surface, value):
    dates = [(s, v) for entity, s, v in found(nlu_parser, text) if entity == "date"]
    assert dates == ([(surface, value)] if surface else [])


def test_ticket_and_member_numbers_are_upper_cased(nlu_parser):
    entities = found(nlu_parser, "工单t000123，会员号m000456")

    assert ("ticket_id", "t000123", "T000123") in entities
    assert ("member_no", "m000456", "M000456") in entities


def test_a_phone_number_is_not_found_inside_an_order_number(nlu_parser):
    entities = found(nlu_parser, "订单1380000000123456没到")

    assert [e for e in entities if e[0] != "complaint_category"] == [
        ("order_id", "1380000000123456", "1380000000123456")
    ]


def test_offsets_stay_valid_for_full_width_and_traditional_text(nlu_parser):
    text = "請查工單Ｔ０００１２３，手機１３８０００００００１"
    entities = found(nlu_parser, text)

    assert ("ticket_id", "Ｔ０００１２３", "T000123") in entities
    assert ("phone", "１３８０００００００１", "13800000001") in entities


def test_a_missing_letter_in_an_english_benefit_name_is_forgiven(nlu_parser):
    assert ("benefit", "coffe voucher", "coffee_voucher") in found(nlu_parser, "coffe voucher")


def test_a_filler_inside_a_chinese_complaint_phrase_is_forgiven(nlu_parser):
    assert ("complaint_category", "质量很差", "product_quality") in found(
        nlu_parser, "衣服质量很差"
    )


def test_benefit_names_from_the_catalogue_are_recognised(nlu_model, config):
    from nlu.parser import EmbeddedParser

    parser = EmbeddedParser(nlu_model, config.nlu.fallback_threshold)
    parser.set_benefit_names({"spa_day": ["水疗体验券", "Spa day"]})

    assert ("benefit", "水疗体验券", "spa_day") in found(parser, "我想兑换水疗体验券")
    assert ("benefit", "Spa day", "spa_day") in found(parser, "redeem a Spa day")
    assert ("benefit", "咖啡券", "coffee_voucher") in found(parser, "咖啡券")


def test_later_catalogue_names_replace_earlier_ones(nlu_model):
    from nlu.parser import EmbeddedParser

    parser = EmbeddedParser(nlu_model)
    parser.set_benefit_names({"spa_day": ["水疗体验券"]})
    parser.set_benefit_names({"gym_pass": ["健身卡"]})

    assert not [e for e in found(parser, "水疗体验券") if e[0] == "benefit"]
    assert ("benefit", "健身卡", "gym_pass") in found(parser, "健身卡")


def test_every_annotated_training_entity_of_a_lookup_type_is_found_again(nlu_parser):
    """The entity tables hold the annotations, so training examples round-trip (a longer
    name around an annotated one, `咖啡券` for `[咖啡]券`, counts as found). A category
    annotated over a whole description is the classifier's to find, wherever its span."""
    data = load_training_data(Path(__file__).resolve().parents[2] / "nlu" / "data")
    misses = []
    for example in data.examples:
        entities = nlu_parser.parse(example.text)["entities"]
        for span in example.entities:
            if span.entity not in {"benefit", "language", "complaint_category"}:
                continue
            whole = span.start == 0 and span.end == len(example.text)
            if not any(
                e["entity"] == span.entity
                and e["value"] == span.value
                and (whole or e["start"] <= span.start and span.end <= e["end"])
                for e in entities
            ):
                misses.append((example.text, span.entity, example.text[span.start : span.end]))
    assert misses == []


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("change it to the free shipping one", None),
        ("the coffee one", None),
        ("that one", None),
        ("one of them", None),
        ("the one with the cake", None),
        ("one coffee voucher", "1"),
        ("just one", "1"),
        ("give me one more", "1"),
    ],
)
def test_one_that_stands_for_a_thing_is_no_quantity(text, quantity):
    found = [c.value for c in find_quantities(text)]
    assert found == ([quantity] if quantity else [])


def test_a_description_annotated_whole_for_its_category_is_no_lookup_surface():
    """Looked up word for word, with a typo variant for every letter, 460 descriptions held
    60 MB in every parser; the classifier reads their category."""
    described = "the shoes fell apart after a day"
    data = TrainingData(
        examples=[
            Example(described, "file_complaint", (EntitySpan(0, 32, "complaint_category", "q"),)),
            Example("质量差", "file_complaint", (EntitySpan(0, 3, "complaint_category", "q"),)),
            Example(
                "it was broken again",
                "file_complaint",
                (EntitySpan(7, 13, "complaint_category", "q"),),
            ),
        ]
    )

    surfaces = build_gazetteer(data)[0]["complaint_category"]

    assert described not in surfaces
    assert {"质量差", "broken"} <= set(surfaces)
