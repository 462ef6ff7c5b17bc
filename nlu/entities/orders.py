"""Order numbers in every retailer format: `A20261101`, `4500123456`, `SO-2026-88123`,
`JD-2026/11/05-0042`, `so_2026_88123`, `113-1234567-1234567`.

After a cue word (`订单`, `订单号`, `单号`, `交易号`, `小票号`, `order`, `order no.`, `order ref`,
`reference`, `purchase`, `receipt`, `#`) a token of letters and digits, joined by single
dashes, slashes or underscores, is an order number when it has at least five digits, or
letters and three digits in six characters or more (`ab12cd34ef`) or split by a dash
(`a-7781`); after a cue that names a number (`订单号`, `order no.`, `order #`, `ref`) three
digits are enough (`订单号 8823`). A bare date (`2026-11-05`) stays a date. A cued order
number outranks every other extractor, so the date, phone or amount inside it is not
extracted separately. Without a cue only unmistakable shapes count: a run of ten or more
digits that is not a mobile phone number, digit groups with thirteen digits or more, or a
mix of letters and at least six digits.
After a cue, groups pasted with spaces between them are one number (`订单号 3512 3456 7890 1234
567`, `单号 SF 1234567890123`, `订单号 A2026 1101`): taking the first group alone recorded
`A2026`, a wrong order the member never sees. A group that a unit follows (`2 件`, `3 天`,
`11月`, `200 dollars`) or a mobile number is no part of it.
Member numbers (`M000001`) and ticket numbers (`T000123`) are never order numbers.
Works on normalised text (lower case, half-width, Simplified Chinese).
"""

from __future__ import annotations

import re
from functools import lru_cache

from nlu.entities.candidate import Candidate

EXTRACTOR = "OrderNumberExtractor"
CUED_PRIORITY = -1  # a cue makes it certain: beats phone, member, date and number readings
BARE_PRIORITY = 0
MIN_CUED_DIGITS = 5  # fewer is a quantity, a year or a price, not an order number
MIN_CUED_MIXED_DIGITS = 3  # `ab12cd34ef`: letters make a short digit count unmistakable...
MIN_CUED_MIXED_LENGTH = 6  # ...once the token is longer than a size or a model (`2pcs`, `a4`)
MIN_NUMBERED_DIGITS = 3  # after `订单号` or `order no.` a short number is still the number
MIN_BARE_MIXED_DIGITS = 6
MIN_BARE_DIGIT_RUN = 10
MIN_BARE_GROUPED_DIGITS = 13  # above a phone (11) or landline (12) written in groups

_TOKEN = r"[a-z0-9](?:[a-z0-9]|[-/_](?=[a-z0-9]))*"
_CUE = re.compile(
    r"(?:(?<![工运])订单(?:号码|编号|编码|号)?|(?<![工])单号|交易(?:单)?号|流水号|小票(?:号码|号)?"
    r"|(?<![a-z])(?:order|purchase|transaction|receipt|reference|ref)(?![a-z])"
    r"(?:\s*(?:no\.?|number|num|id|reference|ref\.?|#))?"
    r"|(?<![\w#])#)"
    r"(?:\s*(?:is|was|:|#|=|是|为|-))*\s*"
    rf"(?P<token>{_TOKEN})(?![a-z0-9])"
)
_BARE = re.compile(rf"(?<![a-z0-9-]){_TOKEN}(?![a-z0-9])")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_OTHER_NUMBERS = re.compile(r"[mt]\d{6}")  # member and ticket numbers
_DATE = re.compile(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}")
_NUMBERED = re.compile(r"号|\b(?:no|number|num|id|ref|reference)\b|\w\s*#")  # not a bare `#`
_ANY_DIGIT = re.compile(r"\d")
_SPLIT_MIXED = re.compile(r"[a-z][-/_]\d|\d[-/_][a-z]")  # `a-7781`, `7781-b`
# One more group after a space (not a date's or a time's first part: `2026-11-05`), and
# what follows it: the end, punctuation, a Chinese character or a word.
_NEXT_GROUP = re.compile(
    r" +(?P<group>[a-z0-9]+)(?![a-z0-9]|[-/_.:][a-z0-9])"
    r"(?= *(?P<after>$|[^\sa-z0-9]|(?P<word>[a-z]+)|[0-9]))"
)
# An answer in groups: a short prefix of letters or a group with digits, then groups with digits.
_SPACED_ANSWER = re.compile(r"(?:[a-z]{1,3}|[a-z0-9]*[0-9][a-z0-9]*)(?: [a-z0-9]*[0-9][a-z0-9]*)+")
_UNITS = set("年月日号点时分秒件个只双条元块角毛次天周张台杯盒瓶包箱支份套位人斤克米寸码积")
MAX_PREFIX = 3  # letters: a courier's or a shop's prefix, `sf`, `ems`, `a`
_SHORT_WORDS = frozenset(
    [
        "is",
        "was",
        "no",
        "for",
        "the",
        "and",
        "on",
        "of",
        "my",
        "at",
        "in",
        "to",
        "by",
        "it",
        "me",
        "we",
        "you",
        "has",
        "had",
    ]
)
_UNIT_WORDS = frozenset(
    [
        "points",
        "pts",
        "point",
        "dollars",
        "usd",
        "hkd",
        "sgd",
        "rmb",
        "yuan",
        "items",
        "item",
        "pieces",
        "pcs",
        "days",
        "weeks",
        "hours",
        "times",
        "boxes",
        "cups",
        "bottles",
        "x",
    ]
)
MIN_GROUP_BEFORE_A_WORD = 4  # `order 12345678 200 dollars`: three digits before a word count


def _digits(token: str) -> int:
    return sum(char.isdigit() for char in token)


def _has_letter(token: str) -> bool:
    return any(char.isalpha() for char in token)


def _is_cued_order(token: str, numbered: bool) -> bool:
    if _OTHER_NUMBERS.fullmatch(token) or _DATE.fullmatch(token):
        return False
    digits = _digits(token)
    if numbered and digits >= MIN_NUMBERED_DIGITS:
        return True
    mixed = (
        _has_letter(token)
        and digits >= MIN_CUED_MIXED_DIGITS
        and (
            sum(char.isalnum() for char in token) >= MIN_CUED_MIXED_LENGTH
            or _SPLIT_MIXED.search(token) is not None
        )
    )
    return digits >= MIN_CUED_DIGITS or mixed


def _is_bare_order(token: str) -> bool:
    if _OTHER_NUMBERS.fullmatch(token):
        return False
    if token.isdigit():
        return len(token) >= MIN_BARE_DIGIT_RUN and not _MOBILE.fullmatch(token)
    if not _has_letter(token):
        return _digits(token) >= MIN_BARE_GROUPED_DIGITS
    return _digits(token) >= MIN_BARE_MIXED_DIGITS


def _with_groups(text: str, token: str, end: int) -> tuple[str, int]:
    """The cued token and the groups pasted after it with spaces, joined; and where it ends.
    Letters alone start a number only as a short prefix (`sf`, `jd`, `a`), not as a word
    (`my order from 2026 is late`)."""
    if not _ANY_DIGIT.search(token) and (len(token) > MAX_PREFIX or token in _SHORT_WORDS):
        return token, end
    while (more := _NEXT_GROUP.match(text, end)) and _continues(more):
        token, end = token + more["group"], more.end("group")
    return token, end


def _continues(more: re.Match) -> bool:
    group, after, word = more["group"], more["after"], more["word"]
    if not _ANY_DIGIT.search(group) or _MOBILE.fullmatch(group) or _OTHER_NUMBERS.fullmatch(group):
        return False
    if after and after[0] in _UNITS:
        return False
    return not word or (len(group) >= MIN_GROUP_BEFORE_A_WORD and word not in _UNIT_WORDS)


def order_in_answer(text: str) -> str | None:
    """The order number a reply to "what is the order number?" consists of: the question is
    its cue, so `ab12cd34ef` or `88123456` alone counts. Normalised text."""
    token = text.strip(" \t\n.,;:!?#()[]\"'")
    if _SPACED_ANSWER.fullmatch(token):  # `3512 3456 7890 1234 567`, `SF 1234 5678 9012 3`
        token = token.replace(" ", "")
    if re.fullmatch(_TOKEN, token) and _is_cued_order(token, numbered=False):
        return token.upper()
    return None


@lru_cache(maxsize=256)  # a parse asks twice for the same text: features, then entities
def find_orders(text: str) -> tuple[Candidate, ...]:
    if not _ANY_DIGIT.search(text):  # most messages: every order number has digits
        return ()
    found = []
    cued: list[tuple[int, int]] = []
    for match in _CUE.finditer(text):
        start, end = match.span("token")
        token, end = _with_groups(text, match["token"], end)
        numbered = _NUMBERED.search(text, match.start(), start) is not None
        if _is_cued_order(token, numbered):
            cued.append((start, end))
            found.append(Candidate(start, end, "order_id", token.upper(), EXTRACTOR, CUED_PRIORITY))
    for match in _BARE.finditer(text):
        token = match.group(0)
        inside = any(start <= match.start() < end for start, end in cued)
        if not inside and _is_bare_order(token):
            found.append(
                Candidate(
                    match.start(), match.end(), "order_id", token.upper(), EXTRACTOR, BARE_PRIORITY
                )
            )
    return tuple(found)
