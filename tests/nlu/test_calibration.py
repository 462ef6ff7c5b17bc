"""Calibrated confidences: the temperature fitted on held-out scores, and the calibration error."""

from __future__ import annotations

import numpy as np
import pytest

from nlu.calibration import expected_calibration_error, fit_temperature, folds, softmax
from nlu.evaluation import evaluate
from nlu.training_data import Example


def test_the_calibration_error_is_zero_when_confidence_matches_accuracy():
    confidences = [0.75] * 4 + [0.25] * 4
    correct = [True, True, True, False, True, False, False, False]

    assert expected_calibration_error(confidences, correct) == 0.0


def test_the_calibration_error_of_an_overconfident_model_is_its_gap():
    assert expected_calibration_error([0.95] * 10, [True] * 5 + [False] * 5) == pytest.approx(0.45)


def test_a_fitted_temperature_softens_scores_that_are_too_sure():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, size=600)
    scores = rng.normal(size=(600, 3))
    right = rng.random(600) < 0.6  # the top score is right only 60% of the time
    scores[np.arange(600), np.where(right, truth, (truth + 1) % 3)] += 10.0

    temperature = fit_temperature(scores, truth)
    confident = softmax(scores, temperature).max(axis=1)

    assert temperature < 0.5
    assert abs(confident.mean() - right.mean()) < 0.1


def test_folds_spread_every_intent_over_all_folds():
    labels = np.array([0] * 9 + [1] * 3 + [2] * 6)

    fold = folds(labels, 3, seed=0)

    for label in (0, 1, 2):
        assert set(fold[labels == label]) == {0, 1, 2}


def test_evaluate_reports_the_calibration_error_of_the_top_ranked_intent():
    def parse(text):
        top = "greet" if text != "c" else "thanks"
        return {
            "intent": {"name": "nlu_fallback", "confidence": 0.9},
            "intent_ranking": [{"name": top, "confidence": 0.9}],
        }

    examples = [Example("a", "greet"), Example("b", "greet"), Example("c", "greet")]

    report = evaluate(parse, examples)

    assert report.ece == round(abs(2 / 3 - 0.9), 4)
    assert report.as_json()["ece"] == report.ece


def test_confidences_on_unseen_golden_phrases_say_how_often_they_are_right(nlu_parser, golden):
    cases = [(p, i) for lang in golden.values() for i, ps in lang["intents"].items() for p in ps]
    tops = [nlu_parser.parse(phrase)["intent_ranking"][0] for phrase, _ in cases]
    confidences = [top["confidence"] for top in tops]
    correct = [top["name"] == intent for top, (_, intent) in zip(tops, cases, strict=True)]

    assert expected_calibration_error(confidences, correct) < 0.05
    assert all(right for c, right in zip(confidences, correct, strict=True) if c >= 0.999)
