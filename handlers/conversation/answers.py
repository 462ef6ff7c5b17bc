"""Reading typed answers: member numbers, phones, dates, order numbers, quantities.

The NLU's entity wins when it found one; these readers catch what a member types in
answer to a direct question ("1990年5月20日", "19900520"), where no intent is needed."""

from __future__ import annotations

import re
from datetime import date

import cn2an

MEMBER_NO = re.compile(r"\b[Mm]\d{6}\b")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ORDER_ID = re.compile(r"(?<!\d)\d{12,20}(?!\d)")
DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
COMPACT_DATE = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
QUANTITY = re.compile(r"\d+")
# Beyond any per-member limit, so an absurd quantity gets the limit's polite refusal.
MAX_QUANTITY = 1000
OLDEST_BIRTH_YEAR = 1900


def member_no(text: str, entity: str | None = None) -> str | None:
    if entity and MEMBER_NO.fullmatch(entity.strip()):
        return entity.strip().upper()
    found = MEMBER_NO.search(text or "")
    return found.group(0).upper() if found else None


def phone(text: str, entity: str | None = None) -> str | None:
    digits = re.sub(r"[\s-]", "", entity or "")
    if PHONE.fullmatch(digits):
        return digits
    found = PHONE.search(re.sub(r"[\s-]", "", text or ""))
    return found.group(0) if found else None


def order_id(text: str, entity: str | None = None) -> str | None:
    if entity and ORDER_ID.fullmatch(entity.strip()):
        return entity.strip()
    found = ORDER_ID.search(text or "")
    return found.group(0) if found else None


def birthday(text: str, entity: str | None, today: date) -> date | None:
    """A plausible birthday: a real date, not in the future, not before 1900."""
    for candidate in (entity or "", text or ""):
        match = DATE.search(candidate) or COMPACT_DATE.search(candidate)
        if not match:
            continue
        try:
            day = date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
        return day if day.year >= OLDEST_BIRTH_YEAR and day <= today else None
    return None


def quantity(entity: str | None) -> int | None:
    """A positive whole number from the quantity entity ("2", "两", "two")."""
    if not entity:
        return None
    value = entity.strip()
    if not QUANTITY.fullmatch(value):
        try:
            value = str(cn2an.cn2an(value, "smart"))
        except (ValueError, KeyError, TypeError):
            return None
    if len(value) > 6:  # "999...9" typed or pressed: more than anyone may redeem at once
        return MAX_QUANTITY
    number = int(float(value))
    return min(number, MAX_QUANTITY) if number >= 1 else None
