"""Evaluating a parser on labelled examples: accuracy, macro-F1, out-of-scope handling, latency.

The labels `out_of_scope` and `oos` both mean out of scope, and a prediction of
`nlu_fallback` counts as out of scope. Macro-F1 averages over the intents of the
test set. Latency is per `parse` call, entities included. `ece` is the expected
calibration error of the top-ranked intent's confidence (before any fallback).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from nlu.calibration import expected_calibration_error
from nlu.parser import FALLBACK
from nlu.training_data import Example

OUT_OF_SCOPE = {"out_of_scope", "oos"}


@dataclass
class IntentScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    examples: int
    accuracy: float
    macro_f1: float
    in_scope_accuracy: float | None
    oos_recall: float | None
    latency_p50_ms: float
    latency_p99_ms: float
    per_intent: dict[str, IntentScore]
    ece: float | None = None
    confused: list[tuple[str, str, int]] = field(default_factory=list)  # gold, predicted, count

    def as_json(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "in_scope_accuracy": self.in_scope_accuracy,
            "oos_recall": self.oos_recall,
            "latency_ms": {"p50": self.latency_p50_ms, "p99": self.latency_p99_ms},
            "ece": self.ece,
            "per_intent": {
                name: {
                    "precision": s.precision,
                    "recall": s.recall,
                    "f1": s.f1,
                    "support": s.support,
                }
                for name, s in self.per_intent.items()
            },
            "examples": self.examples,
            "most_confused": [
                {"intent": gold, "predicted": predicted, "count": count}
                for gold, predicted, count in self.confused
            ],
        }


def evaluate(
    parse: Callable[[str], dict],
    examples: Iterable[Example],
    on_each: Callable[[], None] | None = None,
) -> Report:
    """Parse every example and score the predicted intents against the labels."""
    examples = list(examples)
    oos_name = next((e.intent for e in examples if e.intent in OUT_OF_SCOPE), "out_of_scope")
    gold: list[str] = []
    predicted: list[str] = []
    latencies: list[float] = []
    confidences: list[float] = []
    top_right: list[bool] = []
    for example in examples:
        started = time.perf_counter()
        result = parse(example.text)
        latencies.append((time.perf_counter() - started) * 1000)
        name = result["intent"]["name"]
        gold.append(oos_name if example.intent in OUT_OF_SCOPE else example.intent)
        predicted.append(oos_name if name in OUT_OF_SCOPE or name == FALLBACK else name)
        if result.get("intent_ranking"):
            top = result["intent_ranking"][0]
            confidences.append(float(top["confidence"]))
            top_right.append(_in_scope(top["name"], oos_name) == gold[-1])
        if on_each:
            on_each()
    report = score(gold, predicted, latencies, oos_name)
    if confidences:
        report.ece = round(expected_calibration_error(confidences, top_right), 4)
    return report


def _in_scope(name: str, oos_name: str) -> str:
    return oos_name if name in OUT_OF_SCOPE or name == FALLBACK else name


def score(gold: list[str], predicted: list[str], latencies: list[float], oos_name: str) -> Report:
    total = len(gold)
    right = [g == p for g, p in zip(gold, predicted, strict=True)]
    in_scope = [r for g, r in zip(gold, right, strict=True) if g != oos_name]
    out_scope = [r for g, r in zip(gold, right, strict=True) if g == oos_name]
    per_intent = _per_intent(gold, predicted)
    confused = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    times = np.array(latencies or [0.0])
    return Report(
        examples=total,
        accuracy=_rate(right),
        macro_f1=round(float(np.mean([s.f1 for s in per_intent.values()])), 4) if total else 0.0,
        in_scope_accuracy=_rate(in_scope) if in_scope else None,
        oos_recall=_rate(out_scope) if out_scope else None,
        latency_p50_ms=round(float(np.percentile(times, 50)), 3),
        latency_p99_ms=round(float(np.percentile(times, 99)), 3),
        per_intent=per_intent,
        confused=[(g, p, n) for (g, p), n in confused.most_common(10)],
    )


def _rate(flags: list[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def _per_intent(gold: list[str], predicted: list[str]) -> dict[str, IntentScore]:
    support = Counter(gold)
    predicted_count = Counter(predicted)
    hits = Counter(g for g, p in zip(gold, predicted, strict=True) if g == p)
    scores = {}
    for intent in sorted(support):
        precision = hits[intent] / predicted_count[intent] if predicted_count[intent] else 0.0
        recall = hits[intent] / support[intent]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[intent] = IntentScore(
            round(precision, 4), round(recall, 4), round(f1, 4), support[intent]
        )
    return scores
