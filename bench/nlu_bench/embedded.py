"""memberbot's embedded engine: the training and parsing workers, and running them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from nlu_bench import ENTRY, ROOT
from nlu_bench.datasets import Split, training_data
from nlu_bench.processes import measured, tail
from nlu_bench.scoring import fallback_settings, result_of


def run_embedded(split: Split, folder: Path) -> dict:
    model = folder / "embedded-model.npz"
    train = measured(
        [sys.executable, str(ENTRY), "--embedded-train", str(split.train_file), str(model)],
        folder / "embedded-train.log",
        cwd=ROOT,
    )
    if train.returncode:
        raise RuntimeError(f"embedded training failed:\n{tail(folder / 'embedded-train.log')}")
    out = folder / "embedded-predictions.json"
    evaluation = measured(
        [sys.executable, str(ENTRY), "--embedded-eval", str(model), str(split.test_file), str(out)],
        folder / "embedded-eval.log",
        cwd=ROOT,
    )
    if evaluation.returncode:
        raise RuntimeError(f"embedded evaluation failed:\n{tail(folder / 'embedded-eval.log')}")
    report = json.loads(out.read_text(encoding="utf-8"))
    return result_of("embedded", split, train, evaluation, report, model)


def embedded_train(train_file: str, model_file: str) -> int:
    from nlu.training import train_model

    model = train_model(training_data(train_file))
    model.save(model_file)
    return 0


def embedded_eval(model_file: str, test_file: str, out_file: str) -> int:
    started = time.perf_counter()
    from nlu.model import NluModel
    from nlu.parser import EmbeddedParser

    imported = time.perf_counter()
    threshold, margin = fallback_settings()
    parser = EmbeddedParser(NluModel.load(model_file), threshold, margin)
    loaded = time.perf_counter()
    parser.parse("warm up")
    warm_up = time.perf_counter() - loaded
    texts = [
        json.loads(line)["text"]
        for line in Path(test_file).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    predictions, latencies, cpu = [], [], []
    for text in texts:
        t0, c0 = time.perf_counter(), time.thread_time()
        result = parser.parse(text)
        latencies.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.thread_time() - c0) * 1000.0)
        ranking = result["intent_ranking"]
        predictions.append(
            {
                "intent": result["intent"]["name"],
                "confidence": result["intent"]["confidence"],
                "top": ranking[0]["name"] if ranking else result["intent"]["name"],
            }
        )
    import resource

    report = {
        "engine": "embedded",
        "import_s": imported - started,
        "load_s": loaded - imported,
        "warm_up_s": warm_up,
        "predictions": predictions,
        "latency_ms": latencies,
        "cpu_ms": cpu,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    Path(out_file).write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return 0
