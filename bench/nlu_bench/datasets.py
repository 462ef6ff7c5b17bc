"""The data both engines see: the project's own data split 80/20, all of it against the
held-out texts, and the public sets."""

from __future__ import annotations

import json
import random
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nlu_bench import BENCHMARKS

HELDOUT = Path(__file__).resolve().parent / "heldout.jsonl"
# The complaint-category texts (nlu/data/complaint_categories.yml) go beside every project
# split's training file: the bot learns each as a complaint too (nlu.training.intent_examples),
# so the embedded engine and the baselines train on them as the bot does. Rasa reads no such
# key, and so trains without them.
CATEGORIES_KEY = "complaint_categories"
CATEGORIES_FOLDER = "categories"  # beside train.yml
KEPT_HERE = Path(__file__).resolve().parent.parent / "data"  # public sets the repository carries
TITLES = {
    "banking77": "BANKING77",
    "clinc150": "CLINC150",
    "smp2017": "SMP2017-ECDT task 1 (Chinese)",
}
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


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
    by_intent, extra = _project_data(data_dir)
    train, test = _stratified(by_intent, test_share, seed)
    rows = [{"text": _plain(t), "intent": i} for i in sorted(test) for t in test[i]]
    return _project_split(
        work / "own",
        data_dir,
        train,
        rows,
        "own",
        "memberbot nlu/data (zh + en)",
        f"stratified {round((1 - test_share) * 100)}/{round(test_share * 100)} split, seed {seed}",
        extra,
    )


def heldout_split(work: Path, data_dir: Path) -> Split:
    """All of nlu/data against HELDOUT: member texts written apart from the data, by writers
    who saw neither it nor each other's texts, and never trained on. Unlike a redrawn
    split, the test stays put while the data grows (`tests/nlu/test_project_data.py`
    keeps every held-out text out of the data, and away from its near-copies)."""
    by_intent, extra = _project_data(data_dir)
    rows = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line]
    note = f"all of nlu/data; {HELDOUT.name}, written apart from the data ({len(rows)} texts)"
    return _project_split(
        work / "heldout",
        data_dir,
        by_intent,
        rows,
        "heldout",
        "memberbot held-out texts",
        note,
        extra,
    )


def _project_data(data_dir: Path) -> tuple[dict[str, list[str]], str]:
    """The examples by intent, and the synonym, regex and lookup blocks as Rasa YAML."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    other_sections: list[dict] = []
    for path in sorted(data_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in doc.get("nlu") or []:
            if "intent" in item:
                by_intent[item["intent"]].extend(_examples(item.get("examples") or ""))
            else:
                other_sections.append(item)
    extra = ""
    for item in other_sections:
        kind = next(k for k in ("synonym", "regex", "lookup") if k in item)
        extra += f"- {kind}: {json.dumps(str(item[kind]), ensure_ascii=False)}\n"
        extra += "  examples: |\n" + _yaml_block(_examples(item.get("examples") or ""))
    return by_intent, extra


def _project_split(
    folder: Path,
    data_dir: Path,
    train: dict[str, list[str]],
    rows: list[dict],
    name: str,
    title: str,
    note: str,
    extra: str,
) -> Split:
    folder.mkdir(parents=True, exist_ok=True)
    _write_rasa_nlu(folder / "train.yml", train, extra)
    _write_jsonl(folder / "test.jsonl", rows)
    beside = folder / CATEGORIES_FOLDER
    beside.mkdir(exist_ok=True)
    for path in sorted(data_dir.glob("*.yml")):
        if CATEGORIES_KEY in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}):
            shutil.copy(path, beside / path.name)
    texts = len(training_data(folder / "train.yml").categories)
    note += f"; with the {texts} complaint-category texts beside it, as the bot trains"
    return Split(
        name,
        title,
        folder / "train.yml",
        folder / "test.jsonl",
        sum(map(len, train.values())),
        len(rows),
        len(train),
        note,
        [r["intent"] for r in rows],
    )


def public_split(work: Path, name: str, per_intent: int, seed: int, folder_name: str = "") -> Split:
    """A public set (from the shared benchmarks, or bench/data): its own test set whole; at
    most `per_intent` training examples per intent."""
    source = BENCHMARKS / name if (BENCHMARKS / name).exists() else KEPT_HERE / name
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
    title = TITLES.get(name, name)
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


def training_data(train_file: Path | str):
    """What the bot would learn from a split's training file: its examples, and the
    complaint-category texts beside it (project splits), each also a complaint example."""
    from nlu.training_data import load_training_data

    data = load_training_data(train_file)
    beside = Path(train_file).with_name(CATEGORIES_FOLDER)
    if beside.is_dir():
        data.extend(load_training_data(beside))
    return data
