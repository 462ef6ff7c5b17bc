"""Members' typos are read as the words the model knows; real words and codes are not."""

from __future__ import annotations

import pytest

from nlu.spelling import Speller

KNOWN = ["unsubscribe", "subscribe", "cancel", "benefits", "membership", "point", "shipping"]


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(KNOWN)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("i want to unsubscibe", "i want to unsubscribe"),  # a letter left out
        ("unsubscrbe pls", "unsubscribe pls"),
        ("cnacel", "cancel"),  # two letters swapped
        ("show my benifits", "show my benefits"),  # a letter wrong
        ("membershipp", "membership"),  # a letter too many
        ("我要unsubscibe", "我要unsubscribe"),  # between Chinese characters too
        ("unsubscibe一下", "unsubscribe一下"),
    ],
)
def test_a_typo_one_edit_from_a_known_word_reads_as_that_word(speller, typed, read):
    assert speller.correct(typed) == read


@pytest.mark.parametrize(
    "text",
    [
        "print my receipt",  # `print` is one edit from `point`, but an English word
        "my shopping list",  # likewise `shipping`
        "cnacle",  # two edits from `cancel`
        "teh",  # too short to guess
        "order ab12345cd",  # the letters of a code
        "退订推送",
    ],
)
def test_real_words_far_typos_short_words_codes_and_chinese_are_left_alone(speller, text):
    assert speller.correct(text) == text


def test_a_typo_as_close_to_two_known_words_is_left_alone():
    assert Speller(["cart", "card"]).correct("carx") == "carx"


@pytest.mark.parametrize(
    ("typed", "intent"),
    [
        ("i want to unsubscibe", "unsubscribe"),  # was `subscribe`
        ("plz unsubcribe me", "unsubscribe"),  # was `subscribe`
        ("cancle the form", "cancel"),  # was `file_complaint`
        ("remind me of my vouchres", "my_vouchers"),  # was a fallback
    ],
)
def test_a_request_with_a_typo_in_its_deciding_word_is_understood(nlu_parser, typed, intent):
    assert nlu_parser.parse(typed)["intent"]["name"] == intent


def test_entities_keep_the_offsets_of_what_the_member_typed(nlu_parser):
    text = "cancle order 4500123456"
    result = nlu_parser.parse(text)
    order = next(e for e in result["entities"] if e["entity"] == "order_id")
    assert text[order["start"] : order["end"]] == "4500123456"
