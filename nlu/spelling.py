"""Members' typos, read as the words the model knows: `unsubscibe`, `cnacel`, `benifits`.

Character n-grams survive most typos, but not in the words that decide a request:
`unsubscibe pls` read as `subscribe` (its flip, `unsubscribe`, was not counted), and `cnacel`
fell back. A Latin word of four letters or more that the model has never seen, and that is
no English word either, is replaced by the one known word one edit away (SymSpell, with
transpositions). A real word is left alone: `print` is not `point`, nor `shopping`
`shipping`. So is a typo with two equally close known words. Chinese is untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

from symspellpy import SymSpell, Verbosity

SHORTEST = 4  # shorter words have too many neighbours one edit away
_LATIN_WORD = re.compile(r"(?<![a-z\d])[a-z]+(?![a-z\d])")  # not the letters of a code
_ENGLISH = "frequency_dictionary_en_82_765.txt"  # shipped with symspellpy: word, count


@cache
def english_words() -> frozenset[str]:
    """The words of four letters or more in symspellpy's English frequency list (82,765
    words in all), read once per process."""
    with files("symspellpy").joinpath(_ENGLISH).open(encoding="utf-8") as lines:
        return frozenset(word for line in lines if len(word := line.split(" ", 1)[0]) >= SHORTEST)


class Speller:
    def __init__(self, known: Iterable[str]):
        self._known = {word for word in known if word.isascii() and word.isalpha()}
        self._english = english_words()
        self._index = SymSpell(max_dictionary_edit_distance=1)
        for word in self._known:
            if len(word) >= SHORTEST - 1:
                self._index.create_dictionary_entry(word, 1)

    def correct(self, text: str) -> str:
        """The normalised text with its typos replaced; the text itself when it has none."""
        return _LATIN_WORD.sub(self._word, text)

    def _word(self, match: re.Match) -> str:
        word = match[0]
        if len(word) < SHORTEST or word in self._known or word in self._english:
            return word
        found = self._index.lookup(word, Verbosity.CLOSEST, max_edit_distance=1)
        return found[0].term if len(found) == 1 else word
