"""The project's training data itself: every text taught once, and the golden phrases and the
benchmark's held-out texts kept out."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from nlu.normalise import normalise
from nlu.training_data import load_training_data

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "nlu" / "data"
HELDOUT = ROOT / "bench" / "nlu_bench" / "heldout.jsonl"
NEAR_COPY = 0.6  # character-trigram Jaccard from which a text is the same text reworded


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


def trigrams(text: str) -> set[str]:
    padded = f" {folded(text)} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def test_no_held_out_text_nor_a_near_copy_of_one_is_in_the_training_data():
    """The held-out texts measure the engine on phrasings it never saw; a copy in the data
    (the complaint categories' texts are taught as complaints too), even reworded by a
    word, would measure memory."""
    data = load_training_data(DATA)
    trained = [trigrams(example.text) for example in [*data.examples, *data.categories]]
    holding: dict[str, list[int]] = defaultdict(list)
    for number, grams in enumerate(trained):
        for gram in grams:
            holding[gram].append(number)
    copies = []
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        grams = trigrams(text)
        shared = Counter(number for gram in grams for number in holding.get(gram, ()))
        if any(n / len(grams | trained[number]) >= NEAR_COPY for number, n in shared.items()):
            copies.append(text)

    assert copies == []


def test_every_held_out_text_names_an_intent_the_model_learns(nlu_model):
    intents = {
        json.loads(line)["intent"] for line in HELDOUT.read_text(encoding="utf-8").splitlines()
    }

    assert intents <= set(nlu_model.intents)
