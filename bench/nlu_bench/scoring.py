"""The same figures for every engine's predictions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from nlu.calibration import expected_calibration_error
from nlu_bench import OUT_OF_SCOPE, ROOT
from nlu_bench.datasets import Split
from nlu_bench.processes import Run

OOS = "<oos>"  # the one label every out-of-scope name is scored as


def fallback_settings() -> tuple[float, float]:
    raw = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    return float(raw["nlu"]["fallback_threshold"]), float(raw["nlu"]["ambiguity_margin"])


def _label(name: str | None) -> str:
    return OOS if name is None or name in OUT_OF_SCOPE else name


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q / 100.0
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def score(gold_names: list[str], predicted_names: list[str | None]) -> dict:
    """Accuracy; macro-F1 over the gold labels; in-scope accuracy and oos recall if oos exists."""
    gold = [_label(g) for g in gold_names]
    pred = [_label(p) for p in predicted_names]
    right = [g == p for g, p in zip(gold, pred, strict=True)]
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    f1s = []
    for label in set(gold):
        denominator = 2 * tp[label] + fp[label] + fn[label]
        f1s.append(2 * tp[label] / denominator if denominator else 0.0)
    in_scope = [r for g, r in zip(gold, right, strict=True) if g != OOS]
    fallback = [p == "nlu_fallback" for p in predicted_names]
    oos = [p == OOS for g, p in zip(gold, pred, strict=True) if g == OOS]
    return {
        "accuracy": sum(right) / len(right),
        "macro_f1": sum(f1s) / len(f1s),
        "in_scope_accuracy": sum(in_scope) / len(in_scope) if oos and in_scope else None,
        "oos_recall": sum(oos) / len(oos) if oos else None,
        "fallback_share": sum(fallback) / len(fallback),
    }


def scores_of(gold: list[str], report: dict) -> dict:
    """Accuracy and the rest; the calibration error when the predictions carry the top-ranked
    intent and its confidence; for the baseline (which gives the runner-up too) its accuracy under our fallback
    rule."""
    predictions = report["predictions"]
    figures = score(gold, [p["intent"] for p in predictions])
    figures["ece"] = figures["with_fallback"] = None
    figures["top"] = None
    if all(p.get("top") for p in predictions):
        top = score(gold, [p["top"] for p in predictions])
        figures["top"] = {k: top[k] for k in ("accuracy", "in_scope_accuracy")}
    if figures["top"] and all(p.get("confidence") is not None for p in predictions):
        right = [_label(p["top"]) == _label(g) for p, g in zip(predictions, gold, strict=True)]
        figures["ece"] = expected_calibration_error([p["confidence"] for p in predictions], right)
    if all("second" in p for p in predictions):
        threshold, margin = fallback_settings()
        figures["with_fallback"] = score(
            gold,
            [
                "nlu_fallback"
                if p["confidence"] < threshold or p["confidence"] - p["second"] < margin
                else p["intent"]
                for p in predictions
            ],
        )
    return figures


def result_of(engine: str, split: Split, train: Run, evaluation: Run, report: dict, model: Path):
    latencies = report["latency_ms"]
    size = sum(f.stat().st_size for f in [model] if f.exists())
    return {
        "engine": engine,
        "dataset": split.name,
        **scores_of(split.gold, report),
        "latency_p50_ms": _percentile(latencies, 50),
        "latency_p99_ms": _percentile(latencies, 99),
        "cpu_p50_ms": _percentile(report["cpu_ms"], 50) if report.get("cpu_ms") else None,
        "cpu_p99_ms": _percentile(report["cpu_ms"], 99) if report.get("cpu_ms") else None,
        "load_s": report["load_s"] + report["warm_up_s"],
        "import_s": report["import_s"],
        "train_s": train.seconds,
        "train_cpu_s": train.cpu_s,
        "train_peak_rss_mb": train.peak_rss_mb,
        "parse_peak_rss_mb": evaluation.peak_rss_mb,
        "model_bytes": size,
    }
