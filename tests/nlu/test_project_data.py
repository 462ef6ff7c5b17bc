"""The project's training data itself: every text taught once, and the golden phrases kept out."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from nlu.normalise import normalise
from nlu.training_data import load_training_data

DATA = Path(__file__).resolve().parents[2] / "nlu" / "data"


def folded(text: str) -> str:
    """What the engine sees: Traditional folded into Simplified, width and case folded."""
    return " ".join(normalise(text).text.split())


def test_each_text_is_taught_once_and_as_one_intent():
    intents = defaultdict(list)
    for example in load_training_data(DATA).examples:
        intents[folded(example.text)].append(example.intent)

    taught_twice = {text: names for text, names in intents.items() if len(names) > 1}
    assert not taught_twice


def test_no_golden_phrase_is_in_the_training_data(golden):
    phrases = {
        folded(phrase)
        for language in golden.values()
        for phrases in language["intents"].values()
        for phrase in phrases
    }
    trained = {folded(example.text) for example in load_training_data(DATA).examples}

    assert not phrases & trained
