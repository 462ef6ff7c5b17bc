"""Numbers in text: quantities (`两张`, `3`, `three`) and money amounts (`200元`, `¥99`, `$50`).

Chinese numerals are read here (一 ... 九, 两, 十, 百, 千, 万, 亿, and digit runs
such as 一九九〇). A Chinese quantity spans numeral and measure word (`两张`), as
the training data annotates it; an Arabic one spans the digits alone.
"""

from __future__ import annotations

import re
from decimal import Decimal

from nlu.entities.candidate import Candidate

EXTRACTOR = "NumberExtractor"
CN_NUMERAL = "零〇一二两俩三四五六七八九十百千万亿"
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4}
_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_LARGE_UNITS = {"万": 10_000, "亿": 100_000_000}
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a dozen": 12,
    "a pair of": 2,
}  # fmt: skip
MEASURE_WORDS = "张个份次杯件盒瓶袋箱本支只套包枚条双台位"
# Units after a bare number that make it something other than a quantity.
_NOT_QUANTITY_AFTER = re.compile(
    r"\s*(?:[元块%号月日年点分岁天周秒克斤米级]|积分|小时|分钟|星期|"
    r"(?:yuan|rmb|cny|usd|dollars?|bucks|points?|pts|days?|weeks?|months?|years?|"
    r"hours?|minutes?|am|pm|st|nd|rd|th|%)(?![a-z]))"
)
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"

_CN_QUANTITY = re.compile(rf"(?<!第)(?<![{CN_NUMERAL}])([{CN_NUMERAL}]+)\s*([{MEASURE_WORDS}])")
_LIANG = re.compile(r"俩(?![个张份次杯件])")
_DIGIT_QUANTITY = re.compile(r"(?<![\d.,:/\-a-z¥$])(\d{1,3})(?![\d.,:/\-a-z])")
_WORD_QUANTITY = re.compile(r"(?<![a-z])(" + "|".join(_WORDS) + r")(?![a-z])")
# Counted as on a receipt or a form: `2x coffee voucher`, `free shipping x3`, `数量：3`.
_MARKED_QUANTITY = re.compile(
    r"(?<![a-z0-9])(\d{1,3})\s*[x×](?![a-z0-9])|(?<![a-z0-9])[x×]\s*(\d{1,3})(?![\d.])"
    r"|(?:数量|qty|quantity)\s*[:：]?\s*(\d{1,3})(?![\d.])"
)

_AMOUNT_PREFIX = re.compile(rf"(?:¥|\$|(?<![a-z])(?:rmb|cny|usd|us\$))\s*({_NUMBER})(?![\d.])")
_AMOUNT_SUFFIX = re.compile(
    rf"(?<![\d.,])({_NUMBER})\s*(?:元|块钱|块(?![\u4e00-\u9fff])|(?:yuan|rmb|cny|dollars?|bucks|usd)(?![a-z]))"
)
_CN_AMOUNT = re.compile(
    rf"(?<![{CN_NUMERAL}])([{CN_NUMERAL}]+)\s*(?:元|块钱|块(?![\u4e00-\u9fff]))"
)


def chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral (`二十五`, `两百`, `一万二千`, `一九九〇`), or None."""
    if not text or any(
        ch not in _DIGITS and ch not in _SMALL_UNITS and ch not in _LARGE_UNITS for ch in text
    ):
        return None
    if all(ch in _DIGITS for ch in text):  # a digit run: 一九九〇, 三
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total = section = number = 0
    for ch in text:
        if ch in _DIGITS:
            number = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            section += (number or (1 if ch == "十" else 0)) * _SMALL_UNITS[ch]
            number = 0
        else:
            total = (total + section + number) * _LARGE_UNITS[ch]
            section = number = 0
    return total + section + number


def number_value(text: str) -> str:
    """`1,200.50` -> `1200.5`; `99.00` -> `99`."""
    return format(Decimal(text.replace(",", "")).normalize(), "f")


def find_quantities(text: str) -> list[Candidate]:
    found = []
    for match in _CN_QUANTITY.finditer(text):
        value = chinese_number(match.group(1))
        if value:
            found.append(
                Candidate(match.start(), match.end(), "quantity", str(value), EXTRACTOR, 4)
            )
    for match in _LIANG.finditer(text):
        found.append(Candidate(match.start(), match.end(), "quantity", "2", EXTRACTOR, 4))
    for match in _DIGIT_QUANTITY.finditer(text):
        if _NOT_QUANTITY_AFTER.match(text, match.end()) or int(match.group(1)) == 0:
            continue
        found.append(
            Candidate(
                match.start(), match.end(), "quantity", str(int(match.group(1))), EXTRACTOR, 4
            )
        )
    for match in _MARKED_QUANTITY.finditer(text):
        number = next(group for group in match.groups() if group)
        if int(number):
            found.append(
                Candidate(match.start(), match.end(), "quantity", str(int(number)), EXTRACTOR, 4)
            )
    for match in _WORD_QUANTITY.finditer(text):
        if match.group(1) == "one" and _is_pronoun(text, match):
            continue
        word = str(_WORDS[match.group(1)])
        found.append(Candidate(match.start(), match.end(), "quantity", word, EXTRACTOR, 4))
    return found


# `one` that stands for a thing is no quantity: `the coffee one`, `that one`, `one of them`.
_ONE_AS_PRONOUN_BEFORE = re.compile(
    r"\b(?:the|that|this|which|another|other|any|each|every|no|same)(?:\s+[a-z'-]+){0,3}\s+$"
)
_ONE_AS_PRONOUN_AFTER = re.compile(r"\s+of\b|'s\b")


def _is_pronoun(text: str, one: re.Match) -> bool:
    return bool(
        _ONE_AS_PRONOUN_BEFORE.search(text, 0, one.start())
        or _ONE_AS_PRONOUN_AFTER.match(text, one.end())
    )


def find_amounts(text: str) -> list[Candidate]:
    found = []
    for regex in (_AMOUNT_PREFIX, _AMOUNT_SUFFIX):
        for match in regex.finditer(text):
            digits = number_value(match.group(1))
            found.append(Candidate(match.start(), match.end(), "amount", digits, EXTRACTOR, 2))
    for match in _CN_AMOUNT.finditer(text):
        value = chinese_number(match.group(1))
        if value is not None:
            found.append(Candidate(match.start(), match.end(), "amount", str(value), EXTRACTOR, 2))
    return found
