"""Dates: `1990-05-20`, `1990年5月20日`, `一九九〇年五月二十日`, `20 May 1990`, `May 20, 1990`.

A full date becomes ISO `1990-05-20`; a month and day without a year (`5月20号`,
`May 20`) becomes ISO 8601's year-less form `--05-20`. Impossible dates are skipped.
"""

from __future__ import annotations

import re
from datetime import date

from nlu.entities.candidate import Candidate
from nlu.entities.numbers import chinese_number

EXTRACTOR = "DateExtractor"
_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = r"(?<![a-z])(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?(?![a-z\d])"
_YEAR = r"(?P<year>(?:19|20)\d\d)(?!\d)"
_CN_DIGIT = "零〇一二三四五六七八九"
_CN_SMALL = "一二三四五六七八九十"

_PATTERNS = [
    re.compile(
        rf"(?<!\d){_YEAR}\s*[-/.年]\s*(?P<month>\d{{1,2}})\s*[-/.月]\s*(?P<day>\d{{1,2}})(?!\d)"
        r"\s*[日号]?"
    ),
    re.compile(
        rf"(?P<year>[{_CN_DIGIT}]{{4}})年(?P<month>[{_CN_SMALL}]{{1,2}})月"
        rf"(?P<day>[{_CN_SMALL}]{{1,3}})[日号]?"
    ),
    re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)(?P<month>[01]\d)(?P<day>[0-3]\d)(?!\d)"),
    re.compile(rf"(?<!\d){_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}"),
    re.compile(rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}"),
    re.compile(r"(?<![\d/])(?P<first>\d{1,2})/(?P<second>\d{1,2})/" + _YEAR),
    # Month and day without a year.
    re.compile(r"(?<![\d年])(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]"),
    re.compile(
        rf"(?<![{_CN_DIGIT}年])(?P<month>[{_CN_SMALL}]{{1,2}})月(?P<day>[{_CN_SMALL}]{{1,3}})[日号]"
    ),
    re.compile(rf"(?<!\d){_DAY}\s+(?:of\s+)?{_MONTH}(?![a-z])"),
    re.compile(rf"{_MONTH}\s+{_DAY}"),
]


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else chinese_number(text)


def _month(text: str) -> int | None:
    return _MONTHS.get(text) or _number(text)


def _iso(year: int | None, month: int | None, day: int | None) -> str | None:
    if month is None or day is None:
        return None
    try:
        if year is None:
            date(2000, month, day)  # a leap year: 29 February is a birthday too
            return f"--{month:02d}-{day:02d}"
        if not 1900 <= year <= 2100:
            return None
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _value(match: re.Match) -> str | None:
    fields = match.groupdict()
    year = _number(fields["year"]) if fields.get("year") else None
    if "first" in fields:  # d/m/yyyy or m/d/yyyy: only when the order is unambiguous
        first, second = int(fields["first"]), int(fields["second"])
        if first > 12 >= second:
            return _iso(year, second, first)
        if second > 12 >= first:
            return _iso(year, first, second)
        return None
    return _iso(year, _month(fields["month"]), _number(fields["day"]))


# Every date has a digit or a Chinese numeral; most messages have neither, and ten scans of
# a long message were a third of its entity extraction.
_ANY_NUMERAL = re.compile(rf"[\d{_CN_DIGIT}十]")


def find_dates(text: str) -> list[Candidate]:
    if not _ANY_NUMERAL.search(text):
        return []
    found = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            value = _value(match)
            if value:
                start, end = match.span()
                while end > start and text[end - 1].isspace():
                    end -= 1
                found.append(Candidate(start, end, "date", value, EXTRACTOR, 1))
    return found
