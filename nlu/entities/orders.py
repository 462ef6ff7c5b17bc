"""Order numbers in every retailer format: `A20261101`, `4500123456`, `SO-2026-88123`, `JD-88123-X`.

After a cue word (`订单`, `订单号`, `单号`, `order`, `order no.`, `order number`, `#`) a
token of letters, digits and single dashes with at least five digits is an order number;
it outranks every other extractor, so the date, phone or amount inside it is not
extracted separately. Without a cue only unmistakable shapes count: a run of ten or more
digits that is not a mobile phone number, or a mix of letters and at least six digits.
Member numbers (`M000001`) and ticket numbers (`T000123`) are never order numbers.
Works on normalised text (lower case, half-width, Simplified Chinese).
"""

from __future__ import annotations

import re

from nlu.entities.candidate import Candidate

EXTRACTOR = "OrderNumberExtractor"
CUED_PRIORITY = -1  # a cue makes it certain: beats phone, member, date and number readings
BARE_PRIORITY = 0
MIN_CUED_DIGITS = 5  # fewer is a quantity, a year or a price, not an order number
MIN_BARE_MIXED_DIGITS = 6
MIN_BARE_DIGIT_RUN = 10

_TOKEN = r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*"
_CUE = re.compile(
    r"(?:(?<![工运])订单(?:号码|编号|号)?|(?<![工])单号|(?<![a-z])order(?:\s*(?:no\.?|number|num|id|#))?"
    r"|(?<![\w#])#)"
    r"(?:\s*(?:is|:|#|=|是|为|-))*\s*"
    rf"(?P<token>{_TOKEN})(?![a-z0-9])"
)
_BARE = re.compile(rf"(?<![a-z0-9-]){_TOKEN}(?![a-z0-9])")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_OTHER_NUMBERS = re.compile(r"[mt]\d{6}")  # member and ticket numbers


def _digits(token: str) -> int:
    return sum(char.isdigit() for char in token)


def _is_cued_order(token: str) -> bool:
    return _digits(token) >= MIN_CUED_DIGITS and not _OTHER_NUMBERS.fullmatch(token)


def _is_bare_order(token: str) -> bool:
    if _OTHER_NUMBERS.fullmatch(token):
        return False
    if token.isdigit():
        return len(token) >= MIN_BARE_DIGIT_RUN and not _MOBILE.fullmatch(token)
    has_letter = any(char.isalpha() for char in token)
    return has_letter and _digits(token) >= MIN_BARE_MIXED_DIGITS


def find_orders(text: str) -> list[Candidate]:
    found = []
    cued = set()
    for match in _CUE.finditer(text):
        token = match["token"]
        if _is_cued_order(token):
            start, end = match.span("token")
            cued.add(start)
            found.append(Candidate(start, end, "order_id", token.upper(), EXTRACTOR, CUED_PRIORITY))
    for match in _BARE.finditer(text):
        token = match.group(0)
        if match.start() not in cued and _is_bare_order(token):
            found.append(
                Candidate(
                    match.start(), match.end(), "order_id", token.upper(), EXTRACTOR, BARE_PRIORITY
                )
            )
    return found
