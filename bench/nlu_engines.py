"""NLU engine benchmark (issues 3 and 17): memberbot's embedded engine against a plain
TF-IDF + logistic-regression baseline and Rasa 3.6 (DIET).

One run trains and evaluates the engines on the same data and the same split:

* own        memberbot's nlu/data (zh + en), stratified 80/20 hold-out, fixed seed;
* banking77  /work/shared/benchmarks/banking77 (standard test set);
* clinc150   /work/shared/benchmarks/clinc150 (standard test set; in-scope
             accuracy and out-of-scope recall).

Rasa is far slower to train (about 2 min per DIET epoch on the full BANKING77 on
2 cores), so by default DIET runs fewer epochs on the public sets, and both
engines train on a per-intent subsample of the public training sets (the test
sets are always complete). The table says which epochs and sizes were used.

Each engine is trained in a subprocess and evaluated in another, so that their
peak memory (max RSS, from wait4) and timings are their own:

* embedded: `python bench/nlu_engines.py --embedded-train/--embedded-eval ...`
  (nlu.training.train_model, nlu.model.NluModel, nlu.parser.EmbeddedParser);
* rasa: `rasa train nlu` in the Rasa venv, then bench/nlu_rasa_worker.py run by
  the Rasa venv's Python, which loads the model with rasa.core.agent.Agent and
  calls Agent.parse_message in-process (no HTTP) for each test utterance.

Both engines' predictions are scored by the same code here. `nlu_fallback`,
`out_of_scope` and `oos` all count as out of scope.

    python bench/nlu_engines.py                      # everything, about 40 minutes
    python bench/nlu_engines.py --datasets own --skip-rasa
    python bench/nlu_engines.py --results bench/RESULTS.md   # also write the table there
    python bench/nlu_engines.py --skip-rasa --public-per-intent 0   # whole public sets

The baseline (`--baseline` worker) is word TF-IDF + scikit-learn's LogisticRegression,
trained and scored in one process (`--skip-baseline` leaves it out).

The Rasa venv comes from nlu/rasa_project/setup.sh install (RASA_VENV).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from report import machine, write_section

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nlu.calibration import expected_calibration_error  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RASA_PROJECT = ROOT / "nlu" / "rasa_project"
BENCHMARKS = Path(os.environ.get("MEMBERBOT_BENCHMARKS", "/work/shared/benchmarks"))
DEFAULT_VENV = Path(os.environ.get("RASA_VENV", Path.home() / ".cache" / "memberbot" / "rasa-venv"))
OUT_OF_SCOPE = {"out_of_scope", "oos", "nlu_fallback"}
OOS = "<oos>"  # the one label every out-of-scope name is scored as
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
SECTION_START = "## NLU engines (issue 17)"


# --------------------------------------------------------------------- data sets


@dataclass
class Split:
    name: str
    title: str
    train_file: Path  # Rasa nlu.yml (annotations, synonyms, regexes, lookups kept)
    test_file: Path  # JSON lines {"text", "intent"}
    train_size: int
    test_size: int
    intents: int
    note: str
    gold: list[str] = field(default_factory=list)


def _examples(block: str) -> list[str]:
    return [
        line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")
    ]


def _plain(example: str) -> str:
    return ANNOTATION.sub(lambda m: m.group(1), example)


def _yaml_block(lines: list[str]) -> str:
    return "".join(f"    - {line}\n" for line in lines)


def _write_rasa_nlu(path: Path, by_intent: dict[str, list[str]], extra: str = "") -> None:
    parts = ['version: "3.1"\n', "nlu:\n"]
    for intent in sorted(by_intent):
        parts.append(f"- intent: {intent}\n  examples: |\n")
        parts.append(_yaml_block(by_intent[intent]))
    path.write_text("".join(parts) + extra, encoding="utf-8")


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _stratified(by_intent: dict[str, list[str]], share: float, seed: int):
    rng = random.Random(seed)
    train, test = {}, {}
    for intent in sorted(by_intent):
        items = list(by_intent[intent])
        rng.shuffle(items)
        n_test = max(1, round(len(items) * share)) if len(items) > 1 else 0
        test[intent], train[intent] = items[:n_test], items[n_test:]
    return train, test


def own_split(work: Path, data_dir: Path, seed: int, test_share: float) -> Split:
    """nlu/data: intent examples split per intent; synonyms/regex/lookups go with train."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    other_sections: list[dict] = []
    for path in sorted(data_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in doc.get("nlu") or []:
            if "intent" in item:
                by_intent[item["intent"]].extend(_examples(item.get("examples") or ""))
            else:
                other_sections.append(item)
    train, test = _stratified(by_intent, test_share, seed)
    extra = ""
    if other_sections:
        for item in other_sections:
            kind = next(k for k in ("synonym", "regex", "lookup") if k in item)
            extra += f"- {kind}: {json.dumps(str(item[kind]), ensure_ascii=False)}\n"
            extra += "  examples: |\n" + _yaml_block(_examples(item.get("examples") or ""))
    folder = work / "own"
    folder.mkdir(parents=True, exist_ok=True)
    _write_rasa_nlu(folder / "train.yml", train, extra)
    rows = [{"text": _plain(t), "intent": i} for i in sorted(test) for t in test[i]]
    _write_jsonl(folder / "test.jsonl", rows)
    n_train = sum(map(len, train.values()))
    return Split(
        "own",
        "memberbot nlu/data (zh + en)",
        folder / "train.yml",
        folder / "test.jsonl",
        n_train,
        len(rows),
        len(by_intent),
        f"stratified {round((1 - test_share) * 100)}/{round(test_share * 100)} split, seed {seed}",
        [r["intent"] for r in rows],
    )


def public_split(work: Path, name: str, per_intent: int, seed: int, folder_name: str = "") -> Split:
    """A public set: its own test set whole; at most `per_intent` training examples per intent."""
    source = BENCHMARKS / name
    by_intent: dict[str, list[str]] = defaultdict(list)
    for line in (source / "train.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            by_intent[row.get("intent") or row["label"]].append(row["text"])
    full = sum(map(len, by_intent.values()))
    rng = random.Random(seed)
    if per_intent:
        for intent, texts in by_intent.items():
            if len(texts) > per_intent:
                by_intent[intent] = rng.sample(texts, per_intent)
    rows = []
    for line in (source / "test.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.append({"text": row["text"], "intent": row.get("intent") or row["label"]})
    folder = work / (folder_name or name)
    folder.mkdir(parents=True, exist_ok=True)
    # Rasa reads YAML: quote nothing special, but keep each example on one line.
    clean = {i: [" ".join(t.split()) for t in texts] for i, texts in by_intent.items()}
    _write_rasa_nlu(folder / "train.yml", clean)
    _write_jsonl(folder / "test.jsonl", rows)
    n_train = sum(map(len, by_intent.values()))
    sample = (
        f"train subsample {per_intent}/intent (seed {seed}) = {n_train} of {full}"
        if per_intent and n_train < full
        else f"full train set ({full})"
    )
    title = {"banking77": "BANKING77", "clinc150": "CLINC150"}.get(name, name)
    return Split(
        name,
        title,
        folder / "train.yml",
        folder / "test.jsonl",
        n_train,
        len(rows),
        len(by_intent),
        f"{sample}; standard test set ({len(rows)})",
        [r["intent"] for r in rows],
    )


# ----------------------------------------------------------------- subprocesses


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    cpu_s: float = 0.0  # user + system CPU time: what a busy machine does not inflate


def measured(cmd: list[str], log: Path, cwd: Path | None = None, env: dict | None = None) -> Run:
    """Run `cmd`, output to `log`; wall time and the child's peak RSS (wait4's ru_maxrss)."""
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env={**os.environ, **(env or {})}
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        time.perf_counter() - started,
        usage.ru_maxrss / 1024.0,
        proc.returncode,
        usage.ru_utime + usage.ru_stime,
    )


def _tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------- the engines


def fallback_settings() -> tuple[float, float]:
    raw = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    return float(raw["nlu"]["fallback_threshold"]), float(raw["nlu"]["ambiguity_margin"])


def run_embedded(split: Split, folder: Path) -> dict:
    model = folder / "embedded-model.npz"
    train = measured(
        [sys.executable, __file__, "--embedded-train", str(split.train_file), str(model)],
        folder / "embedded-train.log",
        cwd=ROOT,
    )
    if train.returncode:
        raise RuntimeError(f"embedded training failed:\n{_tail(folder / 'embedded-train.log')}")
    out = folder / "embedded-predictions.json"
    evaluation = measured(
        [sys.executable, __file__, "--embedded-eval", str(model), str(split.test_file), str(out)],
        folder / "embedded-eval.log",
        cwd=ROOT,
    )
    if evaluation.returncode:
        raise RuntimeError(f"embedded evaluation failed:\n{_tail(folder / 'embedded-eval.log')}")
    report = json.loads(out.read_text(encoding="utf-8"))
    return _result("embedded", split, train, evaluation, report, model)


def rasa_config(folder: Path, train_file: Path, epochs: int, venv: Path) -> Path:
    """nlu/rasa_project/config.yml with these DIET epochs, our fallback settings, a fresh Jieba dict."""
    config = yaml.safe_load((RASA_PROJECT / "config.yml").read_text(encoding="utf-8"))
    threshold, margin = fallback_settings()
    jieba_dir = folder / "jieba"
    data_dir = folder / "rasa-data"
    data_dir.mkdir(exist_ok=True)
    shutil.copy(train_file, data_dir / "train.yml")
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            str(RASA_PROJECT / "jieba_dict.py"),
            str(data_dir),
            str(jieba_dir),
        ],
        check=True,
        capture_output=True,
    )
    for component in config["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["epochs"] = epochs
        if component["name"] == "JiebaTokenizer":
            component["dictionary_path"] = str(jieba_dir)
        if component["name"] == "FallbackClassifier":
            component["threshold"], component["ambiguity_threshold"] = threshold, margin
    path = folder / "rasa-config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_rasa(split: Split, folder: Path, epochs: int, venv: Path) -> dict:
    config = rasa_config(folder, split.train_file, epochs, venv)
    models = folder / "rasa-models"
    env = {
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TQDM_DISABLE": "1",
    }
    train = measured(
        [
            str(venv / "bin" / "rasa"),
            "train",
            "nlu",
            "--config",
            str(config),
            "--nlu",
            str(folder / "rasa-data"),
            "--out",
            str(models),
            "--fixed-model-name",
            "bench",
        ],
        folder / "rasa-train.log",
        cwd=folder,
        env=env,
    )
    model = models / "bench.tar.gz"
    if train.returncode or not model.exists():
        raise RuntimeError(f"rasa train failed:\n{_tail(folder / 'rasa-train.log')}")
    out = folder / "rasa-predictions.json"
    evaluation = measured(
        [
            str(venv / "bin" / "python"),
            str(ROOT / "bench" / "nlu_rasa_worker.py"),
            str(model),
            str(split.test_file),
            str(out),
        ],
        folder / "rasa-eval.log",
        cwd=folder,
        env=env,
    )
    if evaluation.returncode:
        raise RuntimeError(f"rasa evaluation failed:\n{_tail(folder / 'rasa-eval.log')}")
    report = json.loads(out.read_text(encoding="utf-8"))
    result = _result("rasa", split, train, evaluation, report, model)
    result["epochs"] = epochs
    return result


# -------------------------------------------------------------------- scoring


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
    intent; for the baseline (which gives the runner-up too) its accuracy under our fallback
    rule."""
    predictions = report["predictions"]
    figures = score(gold, [p["intent"] for p in predictions])
    figures["ece"] = figures["with_fallback"] = None
    figures["top"] = None
    if all(p.get("top") for p in predictions):
        top = score(gold, [p["top"] for p in predictions])
        figures["top"] = {k: top[k] for k in ("accuracy", "in_scope_accuracy")}
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


def _result(engine: str, split: Split, train: Run, evaluation: Run, report: dict, model: Path):
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


# -------------------------------------------------------------- embedded worker


def embedded_train(train_file: str, model_file: str) -> int:
    sys.path.insert(0, str(ROOT))
    from nlu.training import train_model
    from nlu.training_data import load_training_data

    model = train_model(load_training_data(train_file))
    model.save(model_file)
    return 0


def embedded_eval(model_file: str, test_file: str, out_file: str) -> int:
    sys.path.insert(0, str(ROOT))
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


# -------------------------------------------------------------- baseline worker

# The plain baseline the embedded engine must beat: word TF-IDF (sublinear TF) and a
# multinomial logistic regression, scikit-learn defaults otherwise. Word unigrams and
# C=10 were the best of {1-grams, 1-2-grams} x {10, 30} on CLINC150 val and on a 10%
# split of BANKING77 train (never the test sets). No fallback: out of scope only when it
# predicts the `oos` class.
BASELINE_NGRAMS = (1, 1)
BASELINE_C = 10.0


def baseline_run(train_file: str, test_file: str, out_file: str) -> int:
    """Train the baseline and predict the test file, in one process (it keeps no model file)."""
    sys.path.insert(0, str(ROOT))
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
            __file__,
            "--baseline",
            str(split.train_file),
            str(split.test_file),
            str(out),
        ],
        folder / "baseline.log",
        cwd=ROOT,
    )
    if run.returncode:
        raise RuntimeError(f"baseline failed:\n{_tail(folder / 'baseline.log')}")
    report = json.loads(out.read_text(encoding="utf-8"))
    train = Run(report["train_s"], run.peak_rss_mb, 0, run.cpu_s)
    return _result("baseline", split, train, run, report, out.with_suffix(".none"))


# ---------------------------------------------------------------------- report


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def _secs(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


ROWS = [
    ("accuracy", lambda r: _pct(r["accuracy"])),
    (
        "top-ranked intent right, no fallback (in scope)",
        lambda r: (
            _pct(r["top"]["accuracy"])
            + (f" ({_pct(r['top']['in_scope_accuracy'])})" if r["top"]["in_scope_accuracy"] else "")
            if r.get("top")
            else "–"
        ),
    ),
    (
        "accuracy with our fallback rule (baseline)",
        lambda r: _pct(r["with_fallback"]["accuracy"]) if r.get("with_fallback") else "–",
    ),
    ("macro-F1", lambda r: _pct(r["macro_f1"])),
    ("in-scope accuracy", lambda r: _pct(r["in_scope_accuracy"])),
    ("out-of-scope recall", lambda r: _pct(r["oos_recall"])),
    ("answered `nlu_fallback`", lambda r: _pct(r.get("fallback_share"))),
    ("expected calibration error", lambda r: "–" if r.get("ece") is None else f"{r['ece']:.3f}"),
    ("parse latency p50", lambda r: _ms(r["latency_p50_ms"])),
    ("parse latency p99", lambda r: _ms(r["latency_p99_ms"])),
    (
        "parse CPU time p50 / p99",
        lambda r: (
            f"{r['cpu_p50_ms']:.2f} / {r['cpu_p99_ms']:.2f} ms"
            if r.get("cpu_p50_ms") is not None
            else "–"
        ),
    ),
    ("model load (+ first parse)", lambda r: _secs(r["load_s"])),
    ("training time", lambda r: _secs(r["train_s"])),
    ("training CPU time", lambda r: _secs(r["train_cpu_s"]) if r.get("train_cpu_s") else "–"),
    ("peak memory, training", lambda r: _mb(r["train_peak_rss_mb"])),
    ("peak memory, parsing", lambda r: _mb(r["parse_peak_rss_mb"])),
    ("model file", lambda r: _mb(r["model_bytes"] / 1024 / 1024)),
]


def _intents(split: Split) -> str:
    labels = set(split.gold)
    if labels & OUT_OF_SCOPE:
        return f"{split.intents - 1} intents + out of scope"
    return f"{split.intents} intents"


def markdown(splits: list[Split], results: list[dict], settings: dict) -> str:
    has_rasa = any(r["engine"] == "rasa" for r in results)
    lines = [
        SECTION_START,
        "",
        f"Run finished {settings['date']} on {settings['machine']}, with `python bench/nlu_engines.py "
        f"{settings['argv']}` (Rasa {settings['rasa_version']} in a Python 3.10 venv, "
        f"memberbot on Python {platform.python_version()}). Total wall time "
        f"{settings['wall_minutes']:.0f} min; 1-minute load average "
        f"{settings['load_average'][0]:.1f} at the start, {settings['load_average'][1]:.1f} "
        "at the end (other work on the machine slows both engines alike).",
        "",
        "- Same training and test files for both engines; both scored by the same code "
        "(`nlu_fallback`, `out_of_scope` and `oos` all count as out of scope; macro-F1 over the "
        "gold labels).",
        "- Embedded: `nlu.training.train_model`, `nlu.parser.EmbeddedParser` with the "
        f"configured fallback threshold {settings['threshold']} and ambiguity margin "
        f"{settings['margin']} (a fallback counts as out of scope, so as an error on an "
        "in-scope text). "
        + (
            "Rasa pipeline: `nlu/rasa_project/config.yml` (JiebaTokenizer, RegexFeaturizer, "
            "LexicalSyntacticFeaturizer, word and char_wb 1–4 CountVectors, DIETClassifier, "
            "RegexEntityExtractor, EntitySynonymMapper, FallbackClassifier with the same "
            "settings) with the DIET epochs shown."
            if has_rasa
            else "Rasa DIET was not run this time (`--skip-rasa`); see the issue 3 section."
        ),
        "- Baseline: word TF-IDF (sublinear TF) + logistic regression (scikit-learn, C=10), "
        "trained and scored in one process, no fallback (`bench/nlu_engines.py baseline_run`). "
        "Expected calibration error: 10 equal-width bins of the top-ranked intent's confidence.",
        "- Latency: one `parse` call per test utterance, in-process, single thread, after one "
        "warm-up parse (Rasa: `Agent.parse_message`, the code behind `POST /model/parse`, "
        "without HTTP). Load: reading the trained model and the first parse, in a fresh "
        "process (library import not included: "
        + ", ".join(
            f"{e} {min(r['import_s'] for r in results if r['engine'] == e):.1f} s"
            for e in ("embedded", "baseline", "rasa")
            if any(r["engine"] == e for r in results)
        )
        + "). Training: wall time of the training process (for Rasa, `rasa train nlu`, "
        "start-up included), and its CPU time, which other load on the machine does not "
        "inflate; parse CPU time likewise (thread CPU time per call). Peak memory: max RSS of "
        "the training and parsing processes (the baseline trains and parses in one).",
    ]
    if settings.get("note"):
        lines += [f"- {settings['note']}"]
    if has_rasa:
        lines.append(
            "- Public sets: the engines train on the same per-intent subsample; the full-set "
            "columns are trained on the whole training set, for reference. Rasa was not "
            "run on the whole sets: DIET costs about 2 min per epoch on all of BANKING77 on this "
            "machine, hours for a normal 100-epoch run. With 20 epochs on 20 examples per intent, "
            "DIET is far from converged there (and many of its answers fall below the fallback "
            "threshold), so read those two Rasa columns as a lower bound, not as what DIET can do."
        )
    lines.append("")
    by_key = {(r["dataset"], r["engine"]): r for r in results}
    for split in splits:
        order = ("embedded", "baseline", "rasa", "embedded-full", "baseline-full")
        engines = [e for e in order if (split.name, e) in by_key]
        if not engines:
            continue
        rasa = by_key.get((split.name, "rasa"))
        full = by_key.get((split.name, "embedded-full")) or by_key.get(
            (split.name, "baseline-full")
        )
        head = {
            "embedded-full": f"embedded, full train set ({full['full_train']})" if full else "",
            "baseline-full": f"baseline, full train set ({full['full_train']})" if full else "",
            "embedded": "embedded",
            "baseline": "baseline (TF-IDF + LR)",
            "rasa": f"Rasa DIET ({rasa['epochs']} epochs)" if rasa else "",
        }
        lines.append(
            f"### {split.title}: {_intents(split)}, {split.train_size} train / "
            f"{split.test_size} test"
        )
        lines.append("")
        lines.append(split.note + ".")
        lines.append("")
        lines.append("| | " + " | ".join(head[e] for e in engines) + " |")
        lines.append("|---|" + "---:|" * len(engines))
        for label, fmt in ROWS:
            cells = [fmt(by_key[(split.name, e)]) for e in engines]
            if all(c == "–" for c in cells):
                continue
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "Published reference points (`/work/shared/benchmarks/README.md`): CLINC150 fine-tuned "
        "BERT 96.9% in-scope accuracy / 40.3% out-of-scope recall, SVM 91.0 / 14.5, an early "
        "Rasa pipeline 91.5 / 45.3 (all on the full training set); BANKING77 fine-tuned BERT "
        "93.7%.",
        "",
        "Reproduce: `nlu/rasa_project/setup.sh install`, then `python bench/nlu_engines.py "
        "--results bench/RESULTS.md` (add `--work DIR --json FILE` to keep the predictions; "
        "`--rescore` with both re-renders this section without training again).",
        "",
    ]
    for failure in settings.get("failures", []):
        lines.append(f"- Not measured: {failure}")
    return "\n".join(lines).rstrip() + "\n"


def rasa_version(venv: Path) -> str:
    try:
        out = subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import rasa; print(rasa.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
        )
        return out.stdout.strip().splitlines()[-1]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


# ------------------------------------------------------------------------ main


def rescore(args: argparse.Namespace) -> int:
    """Scores and table again from a finished run's --work predictions and --json timings."""
    if not (args.work and args.json and args.json.exists()):
        print("--rescore needs --work DIR and --json FILE of a finished run", file=sys.stderr)
        return 2
    saved = json.loads(args.json.read_text(encoding="utf-8"))
    settings, results = saved["settings"], saved["results"]
    names = list(dict.fromkeys(r["dataset"] for r in results))
    scratch = Path(tempfile.mkdtemp(prefix="nlu-bench-rescore-"))
    splits = [
        own_split(scratch, args.data, args.seed, args.test_share)
        if name == "own"
        else public_split(scratch, name, args.public_per_intent, args.seed)
        for name in names
    ]
    by_name = {split.name: split for split in splits}
    for result in results:
        name, engine = result["dataset"], result["engine"]
        full = engine.endswith("-full")
        folder = args.work / (name + "-full" if full else name)
        kind = engine.removesuffix("-full")
        report = json.loads((folder / f"{kind}-predictions.json").read_text(encoding="utf-8"))
        gold = [
            json.loads(line)["intent"]
            for line in (folder / "test.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        if not full and gold != by_name[name].gold:
            print(f"{folder}: not the split these settings make", file=sys.stderr)
            return 2
        result.update(scores_of(gold, report))
    section = markdown(splits, results, settings)
    print(section)
    args.json.write_text(json.dumps({"settings": settings, "results": results}, indent=2))
    if args.results:
        write_section(section, args.results)
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--embedded-train":
        return embedded_train(*argv[1:])
    if argv and argv[0] == "--embedded-eval":
        return embedded_eval(*argv[1:])
    if argv and argv[0] == "--baseline":
        return baseline_run(*argv[1:])

    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--datasets", default="own,banking77,clinc150")
    cli.add_argument("--own-epochs", type=int, default=30, help="DIET epochs on nlu/data")
    cli.add_argument(
        "--public-epochs", type=int, default=20, help="DIET epochs on BANKING77/CLINC150"
    )
    cli.add_argument(
        "--public-per-intent",
        type=int,
        default=20,
        help="training examples per intent on BANKING77/CLINC150 (0: the full train set)",
    )
    cli.add_argument("--seed", type=int, default=42)
    cli.add_argument("--test-share", type=float, default=0.2)
    cli.add_argument("--data", type=Path, default=ROOT / "nlu" / "data")
    cli.add_argument("--rasa-venv", type=Path, default=DEFAULT_VENV)
    cli.add_argument("--skip-rasa", action="store_true")
    cli.add_argument("--skip-embedded", action="store_true")
    cli.add_argument("--skip-baseline", action="store_true")
    cli.add_argument("--work", type=Path, help="keep the split files, models and logs here")
    cli.add_argument("--json", type=Path, help="also write all results as JSON here")
    cli.add_argument("--results", type=Path, help="write the table into this RESULTS.md section")
    cli.add_argument(
        "--rescore",
        action="store_true",
        help="train and parse nothing: re-score the predictions kept in --work by a run "
        "that wrote --json, and print (and --results) the table again",
    )
    args = cli.parse_args(argv)

    if args.rescore:
        return rescore(args)
    venv = args.rasa_venv
    if not args.skip_rasa and not (venv / "bin" / "rasa").exists():
        print(
            f"no Rasa at {venv}: run nlu/rasa_project/setup.sh install, or --skip-rasa",
            file=sys.stderr,
        )
        return 2
    load_before = os.getloadavg()[0]
    work = args.work or Path(tempfile.mkdtemp(prefix="nlu-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    splits: list[Split] = []
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        if name == "own":
            splits.append(own_split(work, args.data, args.seed, args.test_share))
        else:
            splits.append(public_split(work, name, args.public_per_intent, args.seed))

    # For reference, the embedded engine also trains on the whole public training set.
    full_splits = {}
    if not args.skip_embedded and args.public_per_intent:
        for split in splits:
            if split.name != "own":
                full = public_split(work, split.name, 0, args.seed, split.name + "-full")
                if full.train_size > split.train_size:
                    full_splits[split.name] = full

    results, failures = [], []
    for split in splits:
        folder = split.train_file.parent
        epochs = args.own_epochs if split.name == "own" else args.public_epochs
        engines = [] if args.skip_embedded else ["embedded"]
        engines += [] if args.skip_baseline else ["baseline"]
        engines += [] if args.skip_rasa else ["rasa"]
        engines += ["embedded-full"] if split.name in full_splits else []
        engines += ["baseline-full"] if split.name in full_splits and not args.skip_baseline else []
        for engine in engines:
            t0 = time.perf_counter()
            shown = full_splits[split.name] if engine == "embedded-full" else split
            print(
                f"[bench] {split.name}: {engine} ({shown.train_size} train, {shown.test_size} test)",
                file=sys.stderr,
                flush=True,
            )
            try:
                if engine == "embedded":
                    result = run_embedded(split, folder)
                elif engine == "baseline":
                    result = run_baseline(split, folder)
                elif engine in ("embedded-full", "baseline-full"):
                    full = full_splits[split.name]
                    run = run_embedded if engine == "embedded-full" else run_baseline
                    result = run(full, full.train_file.parent)
                    result.update(engine=engine, dataset=split.name, full_train=full.train_size)
                else:
                    result = run_rasa(split, folder, epochs, venv)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                lines = [line for line in str(exc).splitlines() if line.strip()]
                failures.append(f"{split.name} / {engine}: {lines[0]} {lines[-1].strip()}")
                print(f"[bench] {split.name}: {engine} FAILED: {exc}", file=sys.stderr, flush=True)
                continue
            results.append(result)
            print(
                f"[bench] {split.name}: {engine} done in {time.perf_counter() - t0:.0f} s: "
                f"accuracy {result['accuracy']:.3f}",
                file=sys.stderr,
                flush=True,
            )

    threshold, margin = fallback_settings()
    settings = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "argv": " ".join(argv),
        "rasa_version": "n/a" if args.skip_rasa else rasa_version(venv),
        "threshold": threshold,
        "margin": margin,
        "wall_minutes": (time.perf_counter() - started) / 60,
        "load_average": (load_before, os.getloadavg()[0]),
        "failures": failures,
    }
    section = markdown(splits, results, settings)
    print(section)
    if args.json:
        args.json.write_text(
            json.dumps({"settings": settings, "results": results}, indent=2), encoding="utf-8"
        )
    if args.results:
        write_section(section, args.results)
    print(f"[bench] work files in {work}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
