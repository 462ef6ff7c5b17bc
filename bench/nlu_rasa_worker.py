"""Parse a test set with a trained Rasa model, in-process; run by the Rasa venv's Python.

    $RASA_VENV/bin/python bench/nlu_rasa_worker.py MODEL.tar.gz TEST.jsonl OUT.json

Loads the model with `rasa.core.agent.Agent.load` and calls `Agent.parse_message`
(the same code path as the server's POST /model/parse, without HTTP) once per
test utterance, timing each call. Writes JSON: import/load/warm-up seconds,
per-utterance predictions and latencies, and this process's peak RSS.
Part of bench/nlu_engines.py; stdlib only, besides Rasa itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(model_path: str, test_path: str, out_path: str) -> int:
    with open(test_path, encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]

    started = time.perf_counter()
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # As `rasa run` does (its default level is INFO): no per-message debug lines.
    configure_structlog(logging.INFO)
    imported = time.perf_counter()
    agent = Agent.load(model_path)
    loaded = time.perf_counter()

    async def run() -> tuple[float, list[dict], list[float]]:
        warm_started = time.perf_counter()
        await agent.parse_message("warm up")
        warm_up = time.perf_counter() - warm_started
        predictions, latencies = [], []
        for text in texts:
            t0 = time.perf_counter()
            result = await agent.parse_message(text)
            latencies.append((time.perf_counter() - t0) * 1000.0)
            intent = result.get("intent") or {}
            predictions.append(
                {"intent": intent.get("name"), "confidence": intent.get("confidence")}
            )
        return warm_up, predictions, latencies

    warm_up, predictions, latencies = asyncio.run(run())
    report = {
        "engine": "rasa",
        "import_s": imported - started,
        "load_s": loaded - imported,
        "warm_up_s": warm_up,
        "predictions": predictions,
        "latency_ms": latencies,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: nlu_rasa_worker.py MODEL.tar.gz TEST.jsonl OUT.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
