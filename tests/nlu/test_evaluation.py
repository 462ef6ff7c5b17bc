"""Evaluation figures: out of scope in all its spellings, per-intent scores, confusions."""

from __future__ import annotations

from nlu.evaluation import evaluate
from nlu.training_data import Example


def fixed(answers: dict[str, str]):
    def parse(text: str) -> dict:
        return {"intent": {"name": answers[text], "confidence": 0.9}}

    return parse


def test_fallback_and_both_out_of_scope_labels_count_as_out_of_scope():
    examples = [
        Example("a", "oos"),
        Example("b", "out_of_scope"),
        Example("c", "oos"),
        Example("d", "greet"),
        Example("e", "greet"),
    ]
    answers = {"a": "nlu_fallback", "b": "oos", "c": "greet", "d": "greet", "e": "nlu_fallback"}

    report = evaluate(fixed(answers), examples)

    assert report.oos_recall == round(2 / 3, 4)
    assert report.in_scope_accuracy == 0.5
    assert report.accuracy == 0.6
    assert set(report.per_intent) == {"greet", "oos"}


def test_per_intent_scores_and_the_most_confused_pairs():
    examples = [Example(str(i), "check_points") for i in range(4)] + [
        Example("x", "points_history"),
        Example("y", "points_history"),
    ]
    answers = {"0": "check_points", "1": "check_points", "2": "check_points"}
    answers |= {"3": "points_history", "x": "check_points", "y": "points_history"}

    report = evaluate(fixed(answers), examples)
    figures = report.as_json()

    assert figures["per_intent"]["check_points"] == {
        "precision": 0.75,
        "recall": 0.75,
        "f1": 0.75,
        "support": 4,
    }
    assert figures["per_intent"]["points_history"]["recall"] == 0.5
    assert figures["macro_f1"] == round((0.75 + 0.5) / 2, 4)
    assert report.confused == [
        ("check_points", "points_history", 1),
        ("points_history", "check_points", 1),
    ]
    assert figures["oos_recall"] is None
    assert set(figures["latency_ms"]) == {"p50", "p99"}
