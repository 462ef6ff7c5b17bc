"""The plain baseline the embedded engine must beat, trained and scored in one worker."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from nlu_bench import ENTRY, ROOT
from nlu_bench.datasets import Split
from nlu_bench.processes import Run, measured, tail
from nlu_bench.scoring import result_of

# The plain baseline the embedded engine must beat: word TF-IDF (sublinear TF) and a
# multinomial logistic regression, scikit-learn defaults otherwise. Word unigrams and
# C=10 were the best of {1-grams, 1-2-grams} x {10, 30} on CLINC150 val and on a 10%
# split of BANKING77 train (never the test sets). No fallback: out of scope only when it
# predicts the `oos` class.
BASELINE_NGRAMS = (1, 1)
BASELINE_C = 10.0


def baseline_run(train_file: str, test_file: str, out_file: str) -> int:
    """Train the baseline and predict the test file, in one process (it keeps no model file)."""
    started = time.perf_counter()
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from nlu.training_data import load_training_data

    imported = time.perf_counter()
    train = load_training_data(train_file).examples
    vectoriser = TfidfVectorizer(ngram_range=BASELINE_NGRAMS, sublinear_tf=True)
    matrix = vectoriser.fit_transform([e.text for e in train])
    model = LogisticRegression(C=BASELINE_C, max_iter=2000)
    model.fit(matrix, [e.intent for e in train])
    trained = time.perf_counter()
    texts = [
        json.loads(line)["text"]
        for line in Path(test_file).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    predictions, latencies = [], []
    for text in texts:
        t0 = time.perf_counter()
        probs = model.predict_proba(vectoriser.transform([text]))[0]
        latencies.append((time.perf_counter() - t0) * 1000.0)
        second, best = probs.argsort()[-2:] if len(probs) > 1 else (0, 0)
        name = str(model.classes_[best])
        predictions.append(
            {
                "intent": name,
                "confidence": float(probs[best]),
                "top": name,
                "second": float(probs[second]) if len(probs) > 1 else 0.0,
            }
        )
    report = {
        "engine": "baseline",
        "import_s": imported - started,
        "load_s": 0.0,
        "warm_up_s": 0.0,
        "train_s": trained - imported,
        "predictions": predictions,
        "latency_ms": latencies,
    }
    Path(out_file).write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return 0


def run_baseline(split: Split, folder: Path) -> dict:
    out = folder / "baseline-predictions.json"
    run = measured(
        [
            sys.executable,
            str(ENTRY),
            "--baseline",
            str(split.train_file),
            str(split.test_file),
            str(out),
        ],
        folder / "baseline.log",
        cwd=ROOT,
    )
    if run.returncode:
        raise RuntimeError(f"baseline failed:\n{tail(folder / 'baseline.log')}")
    report = json.loads(out.read_text(encoding="utf-8"))
    train = Run(report["train_s"], run.peak_rss_mb, 0, run.cpu_s)
    return result_of("baseline", split, train, run, report, out.with_suffix(".none"))
