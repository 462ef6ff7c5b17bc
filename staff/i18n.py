"""The workbench's words: the one message catalogue's `desk.*` section (labels shared with
the members' side, such as complaint categories, are the members' own keys), with numbers,
dates and plurals by Babel for the staff member's language."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_skeleton
from babel.lists import format_list
from babel.numbers import format_decimal

from core import catalogue

LANGUAGES = catalogue.LANGUAGES
LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "-"


def number(value: float, lang: str) -> str:
    return format_decimal(value, locale=LOCALES[lang])


def money(value: float, lang: str) -> str:
    """Yuan with two decimals: 1,234.50."""
    return format_decimal(value, format="#,##0.00", locale=LOCALES[lang])


def names(values: list[str], lang: str) -> str:
    """ "Amy and Bob" / "Amy和Bob"."""
    return format_list(values, locale=LOCALES[lang])


def when(moment: datetime, lang: str, zone) -> str:
    """A moment in the programme's time zone: "Nov 29, 18:20" / "11月29日 18:20"."""
    local = moment.astimezone(zone)
    return f"{month_day(local, lang)} {local:%H:%M}"


def month_day(value: date, lang: str) -> str:
    """ "Nov 29" / "11月29日": a day on a chart's axis."""
    return format_skeleton("MMMd", value, locale=LOCALES[lang])


def day(value: date, lang: str) -> str:
    return format_date(value, "medium", locale=LOCALES[lang])


def words(lang: str):
    """t(key, **fields): `desk.<key>` from the catalogue, else the catalogue's own `key`
    (`complaint.category.*`); numbers in the fields come out in the language's format, and
    a `count` field picks the plural form."""
    lang = "en" if lang == "en" else "zh"

    def t(key: str, **fields) -> str:
        wanted = f"desk.{key}" if catalogue.has(lang, f"desk.{key}") else key
        if not catalogue.has(lang, wanted):
            return key
        chosen = catalogue.template(lang, wanted, fields.get("count"))
        shown = {
            name: number(value, lang)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else value
            for name, value in fields.items()
            if value is not None
        }
        return chosen.format_map(_Blank(shown)) if fields else chosen

    return t


def event_label(kind: str, data: dict | None, t) -> str:
    """A ticket history entry in words (`t` from `words`): the workbench's history and
    `tickets show` read the same."""
    data = data or {}
    if kind == "status":
        return t("event.status", to=t(f"status.{data.get('to')}"))
    if kind == "category":
        return t("event.category", to=t(f"complaint.category.{data.get('to')}"))
    if kind == "assigned":
        return t("event.assigned", to=data.get("to") or t("unassigned"))
    return t(
        f"event.{kind}",
        to=data.get("to"),
        rating=data.get("rating"),
        count=data.get("points"),
        points=data.get("points"),
        missing=", ".join(data.get("missing") or []),
    )


def span(seconds: float, lang: str) -> str:
    """2h 15m / 2小时15分; days past 48 hours."""
    minutes = int(abs(seconds) // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if lang == "en":
        if days >= 2:
            return f"{days}d {hours}h"
        return f"{days * 24 + hours}h {mins:02d}m" if days or hours else f"{mins}m"
    if days >= 2:
        return f"{days}天{hours}小时"
    return f"{days * 24 + hours}小时{mins:02d}分" if days or hours else f"{mins}分钟"


def countdown(due: datetime, at: datetime, lang: str) -> str:
    seconds = (due - at).total_seconds()
    t = words(lang)
    return (
        t("left", span=span(seconds, lang)) if seconds > 0 else t("late", span=span(seconds, lang))
    )
