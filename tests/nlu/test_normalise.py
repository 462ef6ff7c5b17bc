"""Normalisation folds script, width and case, and keeps offsets into the original text."""

from __future__ import annotations

from nlu.normalise import normalise


def test_traditional_becomes_simplified_with_one_character_for_one():
    result = normalise("我的積分還有多少")

    assert result.text == "我的积分还有多少"
    assert result.span(2, 4) == (2, 4)


def test_a_traditional_phrase_of_characters_that_are_simplified_alone_still_converts():
    # 覆 and 瞭 stay as they are alone; only the phrases 回覆 and 瞭解 make them 复 and 了
    assert normalise("請回覆我，我想瞭解一下").text == "请回复我,我想了解一下"


def test_simplified_text_comes_back_as_it_was():
    text = "积分怎么还没到账，干洗店把衣服洗坏了"

    assert normalise(text).text == text.replace("，", ",")


def test_full_width_letters_digits_and_punctuation_become_half_width_lower_case():
    result = normalise("ＴＩＣＫＥＴ Ｔ１２３４５６！")

    assert result.text == "ticket t123456!"


def test_cjk_punctuation_and_ideographic_space_become_ascii():
    assert normalise("你好，在吗？\u3000好的。").text == "你好,在吗? 好的."


def test_spans_map_back_to_the_original_even_when_a_character_expands():
    original = "Straße ¥99"
    result = normalise(original)

    start = result.text.index("¥99")
    begin, end = result.span(start, start + 3)
    assert result.text.startswith("strasse")
    assert original[begin:end] == "¥99"


def test_control_and_zero_width_characters_do_not_break_offsets():
    original = "积\u200b分\x07余额"
    result = normalise(original)

    assert result.text == "积分 余额"
    begin, end = result.span(3, 5)
    assert original[begin:end] == "余额"
