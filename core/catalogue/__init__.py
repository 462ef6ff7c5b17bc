"""The message catalogue: every string the bot sends, in zh-CN and English: the dialogue
engine's replies and the scheduler's reminders and marketing footer (`reminder.*`, `marketing.*`).

and the staff workbench's words (`desk.*`).

Templates use str.format fields (`{points:,}`); keys are dotted paths into the YAML. A key
whose value is a mapping of CLDR plural categories (`one`, `other`, ...) is a plural: the
`count` field chooses the form, by Babel's plural rules for the language."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from babel import Locale

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


# libyaml's parser when PyYAML has it (the same safe loading, several times faster).
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def strings(lang: str) -> dict[str, str]:
    tree = yaml.load((HERE / f"{lang}.yml").read_text(encoding="utf-8"), Loader=LOADER)
    return _flatten(tree)


def template(lang: str, key: str, count: float | None = None) -> str:
    """The template for `key`; for a plural, the form `count` needs. A missing key raises."""
    table = strings(language(lang))
    if key in table:
        return table[key]
    if count is None:
        raise KeyError(f"{key} is a plural: give a count")
    form = Locale.parse(language(lang)).plural_form(abs(count))
    return table.get(f"{key}.{form}") or table[f"{key}.other"]


def text(lang: str, key: str, **fields) -> str:
    """The template for `key` in `lang`, filled in; a missing key is a bug, so it raises."""
    chosen = template(lang, key, fields.get("count"))
    return chosen.format(**fields) if fields else chosen


def has(lang: str, key: str) -> bool:
    table = strings(language(lang))
    return key in table or f"{key}.other" in table
