"""Text normalisation that remembers where each character came from.

Traditional -> Simplified Chinese, full-width -> half-width, CJK punctuation -> ASCII,
case folding, control characters -> spaces. `Normalised.span` maps a span of the
normalised text back to the original text, so entity offsets stay valid.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import opencc

_T2S = opencc.OpenCC("t2s")


def _changing_characters() -> frozenset[str]:
    """The characters t2s changes, alone or inside its phrases: a text holding none of them
    is Simplified already and skips the converter, a fifth of a long message's parse. For a
    phrase, the characters that change suffice: it matches only where they all are."""
    folder = Path(opencc.__file__).parent / "dictionary"
    changing: set[str] = set()
    for name in ("TSCharacters.txt", "TSPhrases.txt"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            key, values = line.split("\t")
            value = values.split(" ")[0]
            if len(value) != len(key):
                changing.update(key)
            else:
                changing.update(k for k, v in zip(key, value, strict=True) if k != v)
    return frozenset(changing)


_CHANGING = _changing_characters()

_PUNCTUATION = {
    "\u3000": " ",  # ideographic space
    "。": ".",
    "、": ",",
    "「": '"',
    "」": '"',
    "『": '"',
    "』": '"',
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "【": "[",
    "】": "]",
    "〜": "~",
    "…": "...",
    "—": "-",
    "–": "-",
    "￥": "¥",
    "￡": "£",
    "￠": "¢",
}


@dataclass(frozen=True)
class Normalised:
    original: str
    text: str
    origin: tuple[int, ...]  # origin[i] is the index in `original` of text[i]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text span of text[start:end]."""
        if end <= start:
            position = self.origin[start] if start < len(self.origin) else len(self.original)
            return position, position
        return self.origin[start], self.origin[end - 1] + 1


@lru_cache(maxsize=8192)
def fold_char(char: str) -> str:
    """One character folded: width, punctuation, case, control characters."""
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:
        char = chr(code - 0xFEE0)
    char = _PUNCTUATION.get(char, char)
    if len(char) == 1 and unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Zs"):
        return " " if char not in "\u200b\u200c\u200d\ufeff" else ""
    return char.casefold()


def to_simplified(text: str) -> str:
    """Traditional -> Simplified, keeping one character for one character."""
    if text.isascii() or _CHANGING.isdisjoint(text):
        return text
    converted = _T2S.convert(text)
    if len(converted) == len(text):
        return converted
    chars = []
    for char in text:  # a phrase changed length: fall back to single characters
        single = _T2S.convert(char)
        chars.append(single if len(single) == 1 else char)
    return "".join(chars)


# ASCII folds character for character: control characters to spaces, letters to lower case.
_ASCII_CONTROLS = {code: " " for code in [*range(32), 127]}


def normalise(text: str) -> Normalised:
    if text.isascii():  # most English messages: one pass in C instead of one per character
        return Normalised(text, text.translate(_ASCII_CONTROLS).lower(), tuple(range(len(text))))
    simplified = to_simplified(text)
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(simplified):
        folded = fold_char(char)
        chars.append(folded)
        origin.extend([index] * len(folded))
    return Normalised(text, "".join(chars), tuple(origin))
