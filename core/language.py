"""Which language a member writes in, from the text alone."""

from __future__ import annotations


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


# Latin words Chinese members use too: they say nothing about the language.
NEUTRAL = {"ok", "okay", "vip", "app", "id", "pts"}


def guess(text: str) -> str | None:
    """zh for any Chinese character, en for Latin words and no Chinese; None when the
    message says nothing about language (digits, member numbers, emoji)."""
    if any(_is_cjk(c) for c in text):
        return "zh"
    if text.strip().lower() in NEUTRAL:
        return None
    letters = sum(1 for c in text if c.isascii() and c.isalpha())
    digits = sum(1 for c in text if c.isdigit())
    # "M000001" and "T000123" are codes, not English.
    return "en" if letters >= 2 and letters > digits else None
