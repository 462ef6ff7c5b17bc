"""The texts of scheduled messages, in zh-CN and English: the same format as the dialogue
engine's catalogue (`bot/catalogue`: dotted keys, str.format fields), kept beside the jobs
that send them until the two are merged."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGUAGES = ("zh", "en")
HERE = Path(__file__).parent


def language(code: str | None) -> str:
    """A member's language code narrowed to a catalogue language."""
    return "en" if (code or "").lower().startswith("en") else "zh"


@cache
def strings(lang: str) -> dict[str, str]:
    tree = yaml.safe_load((HERE / f"{lang}.yml").read_text(encoding="utf-8"))
    return {
        f"{group}.{key}": str(value).rstrip("\n")
        for group, items in tree.items()
        for key, value in items.items()
    }


def text(lang: str, key: str, **fields) -> str:
    """The template for `key` in `lang`, filled in; a missing key is a bug, so it raises."""
    return strings(language(lang))[key].format(**fields)
