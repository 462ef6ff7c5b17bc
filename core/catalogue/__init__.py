"""The message catalogue: every string the bot sends, in zh-CN and English: the dialogue
engine's replies and the scheduler's reminders and marketing footer (`reminder.*`, `marketing.*`).

Templates use str.format fields (`{points:,}`); keys are dotted paths into the YAML."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGUAGES = ("zh", "en")
HERE = Path(__file__).parent


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = str(value).rstrip("\n")
    return flat


def language(code: str | None) -> str:
    """A language code (`en`, `en-GB`, `zh-CN`, None) narrowed to a catalogue language."""
    return "en" if (code or "").lower().startswith("en") else "zh"


@cache
def strings(lang: str) -> dict[str, str]:
    tree = yaml.safe_load((HERE / f"{lang}.yml").read_text(encoding="utf-8"))
    return _flatten(tree)


def text(lang: str, key: str, **fields) -> str:
    """The template for `key` in `lang`, filled in; a missing key is a bug, so it raises."""
    template = strings(language(lang))[key]
    return template.format(**fields) if fields else template


def has(lang: str, key: str) -> bool:
    return key in strings(language(lang))
