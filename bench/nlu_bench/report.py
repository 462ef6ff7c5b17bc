"""The markdown section of bench/RESULTS.md: one table per data set, engines side by side."""

from __future__ import annotations

import platform

from nlu_bench import OUT_OF_SCOPE
from nlu_bench.datasets import Split

SECTION_START = "## NLU engines (issue 17)"


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
        "trained and scored in one process, no fallback (`bench/nlu_bench/baseline.py`). "
        "n-grams + SVM: word 1–2-grams and character 1–4-grams within words, sublinear TF-IDF, "
        "linear SVM (C=1), the strongest baseline without pretrained vectors on the validation "
        "splits; scores, not probabilities, so no fallback and no calibration error. "
        "Expected calibration error: 10 equal-width bins of the top-ranked intent's confidence.",
        "- Latency: one `parse` call per test utterance, in-process, single thread, after one "
        "warm-up parse (Rasa: `Agent.parse_message`, the code behind `POST /model/parse`, "
        "without HTTP). Load: reading the trained model and the first parse, in a fresh "
        "process (library import not included: "
        + ", ".join(
            f"{e} {min(r['import_s'] for r in results if r['engine'] == e):.1f} s"
            for e in ("embedded", "baseline", "ngrams", "rasa")
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
        order = ("embedded", "baseline", "ngrams", "rasa", "embedded-full", "baseline-full")
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
            "ngrams": "n-grams + SVM",
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
