"""The embedded parser: one text in, Rasa's `POST /model/parse` JSON out."""

from __future__ import annotations

import unicodedata

import numpy as np

from nlu.complaint_category import categorise, complaintish
from nlu.entities import EntityExtractor
from nlu.features import TextFeatures, features_of
from nlu.model import NluModel
from nlu.normalise import Normalised, normalise
from nlu.spelling import Speller

FALLBACK = "nlu_fallback"
MAX_CHARS = 4096  # longer than any chat channel allows: not a chat message
RANKING_SIZE = 10
_BINARY_SHARE = 0.1


class EmbeddedParser:
    """Intent and entities of member messages, from a trained NluModel."""

    def __init__(
        self, model: NluModel, fallback_threshold: float = 0.45, ambiguity_margin: float = 0.08
    ):
        self.model = model
        self.fallback_threshold = fallback_threshold
        self.ambiguity_margin = ambiguity_margin
        self._entities = EntityExtractor(model.gazetteer, model.regexes)
        self._names = list(model.intents)
        self._speller = Speller(model.intent.vectoriser.words())

    def set_benefit_names(self, names: dict[str, list[str]]) -> None:
        """Benefit code -> surface names (e.g. from the catalogue), added to the lookup."""
        self._entities.set_names("benefit", names)

    def parse(self, text: str) -> dict:
        text = "" if text is None else str(text)
        if not text.strip() or _looks_binary(text):
            return _result(text, FALLBACK, 0.0, [], [])
        normal, features, probs, coverage = self._read(text)
        order = np.argsort(-probs, kind="stable")[:RANKING_SIZE]
        scores = probs[order].tolist()
        ranking = [
            {"name": self._names[i], "confidence": round(score, 4)}
            for i, score in zip(order.tolist(), scores, strict=True)
        ]
        top = scores[0]
        second = scores[1] if len(scores) > 1 else 0.0
        name = ranking[0]["name"]
        if (
            len(text) > MAX_CHARS
            or coverage == 0.0
            or top < self.fallback_threshold
            or top - second < self.ambiguity_margin
        ):
            name = FALLBACK
        entities, category = categorise(
            self.model.category,
            features,
            complaintish(self.model.intents, probs),
            self._entities.extract(normal),
            text,
        )
        return _result(text, name, round(top, 4), ranking, entities, category)

    def complaint_category(self, text: str) -> dict | None:
        """The category `{name, confidence}` of a text said inside the complaint form, where
        the member is telling what happened (`complaint_category.MIN_SHARE_IN_FORM`), or
        None when no category is clear."""
        text = "" if text is None else str(text)
        if not text.strip() or _looks_binary(text):
            return None
        normal, features, probs, _ = self._read(text)
        complaint = complaintish(self.model.intents, probs, in_form=True)
        entities = self._entities.extract(normal)
        return categorise(self.model.category, features, complaint, entities, text)[1]

    def _read(self, text: str) -> tuple[Normalised, TextFeatures, np.ndarray, float]:
        """The text normalised (its first MAX_CHARS), its features, the intents'
        probabilities and the share of its n-grams the model knows."""
        normal = normalise(text[:MAX_CHARS])
        features = features_of(self._speller.correct(normal.text), self.model.parties)
        probs, coverage = self.model.probabilities(features)
        return normal, features, probs, coverage


def _result(
    text: str,
    name: str,
    confidence: float,
    ranking: list,
    entities: list,
    category: dict | None = None,
) -> dict:
    """Rasa's shape; `complaint_category` {name, confidence}, when there is one, is ours."""
    result = {
        "text": text,
        "intent": {"name": name, "confidence": confidence},
        "intent_ranking": ranking,
        "entities": entities,
    }
    if category:
        result["complaint_category"] = category
    return result


def _looks_binary(text: str) -> bool:
    """NUL bytes, or many control, private-use, unassigned or replacement characters."""
    if "\x00" in text:
        return True
    if text.isprintable() and "\ufffd" not in text:
        return False  # no control, private-use or unassigned character: the usual message
    sample = text[:MAX_CHARS]
    odd = sum(
        1
        for char in sample
        if char == "\ufffd"
        or (unicodedata.category(char) in ("Cc", "Co", "Cs", "Cn") and char not in "\t\n\r")
    )
    return odd > _BINARY_SHARE * len(sample)
