"""Lookup entities: benefits, complaint categories, languages, from lookup tables and synonyms.

Surfaces come from the training data's `lookup:` tables, its `synonym:` blocks (for
entities whose canonical values they name) and its annotated examples; values are
the synonyms' canonical codes. Matching walks a character trie over the normalised
text, longest match first; Latin surfaces match whole words only, and tolerate one missing
letter when six letters or longer; a Chinese surface may have up to two filler
characters inside (`质量太差` for `质量差`).
"""

from __future__ import annotations

from nlu.entities.candidate import Candidate
from nlu.normalise import normalise
from nlu.other_parties import LOOKUP as OTHER_PARTY
from nlu.training_data import EntitySpan, TrainingData

EXTRACTOR = "LookupEntityExtractor"
# Entities with extractors of their own: their annotations are not lookup surfaces.
OWN_EXTRACTORS = {"phone", "order_id", "ticket_id", "member_no", "quantity", "amount", "date"}
FILLERS = set("太很好超真非常特别有点挺蛮了的")
MAX_FILLERS = 2
TYPO_MIN_LENGTH = 6
# An annotation over a whole example longer than this is a description annotated for a
# classifier (a complaint's category), not a phrase members repeat word for word: as
# surfaces, with their typo variants, 460 such descriptions held 60 MB in every parser.
LONGEST_WHOLE_TEXT = 12
_END = ""


def surface_key(text: str) -> str:
    return " ".join(normalise(text).text.split())


def build_gazetteer(data: TrainingData) -> tuple[dict[str, dict[str, str]], list[str]]:
    """entity -> normalised surface -> canonical value; and the lookups left without a value."""
    synonyms = {surface_key(s): v for s, v in data.synonyms.items() if surface_key(s)}
    value_entity: dict[str, str] = {}
    table: dict[str, dict[str, str]] = {}
    for example in data.examples:
        for span in example.entities:
            if span.entity in OWN_EXTRACTORS or _is_description(example.text, span):
                continue
            key = surface_key(example.text[span.start : span.end])
            value = synonyms.get(key, span.value)
            table.setdefault(span.entity, {})[key] = value
            value_entity.setdefault(value, span.entity)
    # The other parties' names are a feature of the intent (other_parties.py), not an entity.
    lookups = {entity: s for entity, s in data.lookups.items() if entity != OTHER_PARTY}
    for entity, surfaces in lookups.items():
        for surface in surfaces:
            canonical = synonyms.get(surface_key(surface))
            if canonical is not None:
                value_entity.setdefault(canonical, entity)
    for key, value in synonyms.items():
        named = value_entity.get(value)
        if named is not None and named not in OWN_EXTRACTORS:
            table.setdefault(named, {})[key] = value
    unresolved: list[str] = []
    for entity, surfaces in lookups.items():
        known = table.setdefault(entity, {})
        closed = bool(known) and any(v != k for k, v in known.items())
        for surface in surfaces:
            key = surface_key(surface)
            if not key or key in known:
                continue
            closest = _closest_value(key, known) if closed else surface
            if closest is None:
                unresolved.append(f"{entity}: {surface}")
            else:
                known[key] = closest
    return {entity: surfaces for entity, surfaces in table.items() if surfaces}, unresolved


def _is_description(text: str, span: EntitySpan) -> bool:
    return span.start == 0 and span.end == len(text) and len(text) > LONGEST_WHOLE_TEXT


def _closest_value(key: str, known: dict[str, str]) -> str | None:
    """The value of the known surface sharing the most with `key` (a lookup without a synonym)."""
    scores: dict[str, int] = {}
    for surface, value in known.items():
        score = _shared(key, surface)
        if score > scores.get(value, 0):
            scores[value] = score
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    best_value, best = ranked[0]
    if best < 2 or (len(ranked) > 1 and ranked[1][1] == best):
        return None
    return best_value


def _shared(a: str, b: str) -> int:
    if a.isascii() and b.isascii():  # Latin: shared words of four letters or more
        return sum(len(w) for w in set(a.split()) & set(b.split()) if len(w) >= 4) // 2
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


class Gazetteer:
    """Finds the surfaces of a table in normalised text."""

    def __init__(self, table: dict[str, dict[str, str]]):
        self.table = table
        self.trie: dict = {}
        exact = {s: (e, v) for e, surfaces in table.items() for s, v in surfaces.items()}
        for surface, found in _typo_variants(exact).items():
            self._add(surface, found)
        for surface, found in exact.items():
            self._add(surface, found)

    def _add(self, surface: str, found: tuple[str, str]) -> None:
        node = self.trie
        for char in surface:
            node = node.setdefault(char, {})
        node[_END] = found

    def with_names(self, entity: str, names: dict[str, list[str]]) -> Gazetteer:
        """A copy whose `entity` table also holds `names` (value -> surfaces)."""
        table = {name: dict(surfaces) for name, surfaces in self.table.items()}
        extra = table.setdefault(entity, {})
        for value, surfaces in names.items():
            for surface in surfaces:
                key = surface_key(surface)
                if key:
                    extra[key] = value
        return Gazetteer(table)

    def find(self, text: str) -> list[Candidate]:
        found = []
        position = 0
        root = self.trie
        latin = [char.isascii() and char.isalnum() for char in text]
        # Without a filler character the walk has one path: no search (a fifth of a parse).
        longest_at = self._longest_at if not FILLERS.isdisjoint(text) else self._plain_at
        while position < len(text):
            # Most characters start no surface, and a Latin one inside a word starts none.
            starts = text[position] in root and not (
                position and latin[position - 1] and latin[position]
            )
            match = longest_at(text, latin, position) if starts else None
            if match is None:
                position += 1
                continue
            end, entity, value = match
            found.append(Candidate(position, end, entity, value, EXTRACTOR, 3))
            position = end
        return found

    def _plain_at(self, text: str, latin: list[bool], start: int) -> tuple[int, str, str] | None:
        best = None
        node = self.trie
        position = start
        while True:
            if _END in node and (
                position >= len(text) or not (latin[position - 1] and latin[position])
            ):
                best = (position, *node[_END])
            if position >= len(text) or text[position] not in node:
                return best
            node = node[text[position]]
            position += 1

    def _longest_at(self, text: str, latin: list[bool], start: int) -> tuple[int, str, str] | None:
        best = None
        stack = [(self.trie, start, 0, False)]
        while stack:
            node, position, skipped, after_filler = stack.pop()
            ends = position >= len(text) or not (latin[position - 1] and latin[position])
            longer = best is None or position > best[0]
            if _END in node and not after_filler and ends and longer:
                best = (position, *node[_END])
            if position >= len(text):
                continue
            char = text[position]
            if char in node:
                stack.append((node[char], position + 1, skipped, False))
            if skipped < MAX_FILLERS and position > start and char in FILLERS:
                stack.append((node, position + 1, skipped + 1, True))
        return best


def _typo_variants(exact: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Latin surfaces of six letters or more, each with one letter missing (`coffe voucher`)."""
    variants: dict[str, tuple[str, str] | None] = {}
    for surface, found in exact.items():
        if len(surface) < TYPO_MIN_LENGTH or not surface.isascii():
            continue
        for index, char in enumerate(surface):
            if not char.isalpha():
                continue
            variant = surface[:index] + surface[index + 1 :]
            if variant in exact:
                continue
            if variants.setdefault(variant, found) != found:
                variants[variant] = None  # two meanings: not a safe correction
    return {variant: found for variant, found in variants.items() if found is not None}
