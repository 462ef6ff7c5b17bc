"""Entity extraction: deterministic extractors over the normalised text, offsets in the original."""

from __future__ import annotations

from nlu.entities.candidate import Candidate, settle
from nlu.entities.dates import find_dates
from nlu.entities.gazetteer import Gazetteer
from nlu.entities.numbers import find_amounts, find_quantities
from nlu.entities.orders import find_orders
from nlu.entities.patterns import RegexEntities
from nlu.normalise import Normalised

__all__ = ["EntityExtractor"]


class EntityExtractor:
    def __init__(self, gazetteer: dict[str, dict[str, str]], regexes: dict[str, list[str]]):
        self._trained = Gazetteer(gazetteer)
        self._gazetteer = self._trained
        self._regexes = RegexEntities.build(regexes)

    def set_names(self, entity: str, names: dict[str, list[str]]) -> None:
        """Extend the `entity` lookup with value -> surfaces, replacing earlier run-time names."""
        self._gazetteer = self._trained.with_names(entity, names)

    def extract(self, text: Normalised) -> list[dict]:
        normal = text.text
        candidates: list[Candidate] = [
            *find_orders(normal),
            *self._regexes.find(normal),
            *find_dates(normal),
            *find_amounts(normal),
            *self._gazetteer.find(normal),
            *find_quantities(normal),
        ]
        entities = []
        for found in settle(candidates):
            start, end = text.span(found.start, found.end)
            entities.append(
                {
                    "entity": found.entity,
                    "start": start,
                    "end": end,
                    "value": found.value,
                    "extractor": found.extractor,
                }
            )
        return entities
