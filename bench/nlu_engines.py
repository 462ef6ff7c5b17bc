"""NLU engine benchmark (issues 3 and 17): memberbot's embedded engine against a plain
TF-IDF + logistic-regression baseline and Rasa 3.6 (DIET).

One run trains and evaluates the engines on the same data and the same split:

* own        memberbot's nlu/data (zh + en), stratified 80/20 hold-out, fixed seed;
* heldout    all of nlu/data against bench/nlu_bench/heldout.jsonl, texts written apart
             from the data and never trained on;
* banking77  /work/shared/benchmarks/banking77 (standard test set);
* clinc150   /work/shared/benchmarks/clinc150 (standard test set; in-scope
             accuracy and out-of-scope recall);
* smp2017    bench/data/smp2017 (SMP2017-ECDT task 1, Chinese; standard test set): kept
             aside, never tuned on, to check that choices made on the others hold in Chinese.

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

The baselines (`--baseline KIND` worker), each trained and scored in one process
(`--skip-baseline` leaves both out): `baseline`, word TF-IDF + scikit-learn's
LogisticRegression; `ngrams`, word and character n-gram TF-IDF + a linear SVM, the
strongest without pretrained vectors on the validation splits.

The Rasa venv comes from nlu/rasa_project/setup.sh install (RASA_VENV).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from nlu_bench import ROOT
from nlu_bench.baseline import baseline_run, run_baseline
from nlu_bench.datasets import Split, heldout_split, own_split, public_split
from nlu_bench.embedded import embedded_eval, embedded_train, run_embedded
from nlu_bench.rasa import DEFAULT_VENV, rasa_version, run_rasa
from nlu_bench.report import markdown
from nlu_bench.scoring import fallback_settings, scores_of
from report import machine, write_section

PROJECT_SETS = ("own", "heldout")


def split_of(name: str, work: Path, args: argparse.Namespace) -> Split:
    """The named data set's training and test files, written under `work`."""
    if name == "own":
        return own_split(work, args.data, args.seed, args.test_share)
    if name == "heldout":
        return heldout_split(work, args.data)
    return public_split(work, name, args.public_per_intent, args.seed)


def rescore(args: argparse.Namespace) -> int:
    """Scores and table again from a finished run's --work predictions and --json timings."""
    if not (args.work and args.json and args.json.exists()):
        print("--rescore needs --work DIR and --json FILE of a finished run", file=sys.stderr)
        return 2
    saved = json.loads(args.json.read_text(encoding="utf-8"))
    settings, results = saved["settings"], saved["results"]
    names = list(dict.fromkeys(r["dataset"] for r in results))
    scratch = Path(tempfile.mkdtemp(prefix="nlu-bench-rescore-"))
    splits = [split_of(name, scratch, args) for name in names]
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
    cli.add_argument("--datasets", default="own,heldout,banking77,clinc150")
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
        splits.append(split_of(name, work, args))

    # For reference, the embedded engine also trains on the whole public training set.
    full_splits = {}
    if not args.skip_embedded and args.public_per_intent:
        for split in splits:
            if split.name not in PROJECT_SETS:
                full = public_split(work, split.name, 0, args.seed, split.name + "-full")
                if full.train_size > split.train_size:
                    full_splits[split.name] = full

    results, failures = [], []
    for split in splits:
        folder = split.train_file.parent
        epochs = args.own_epochs if split.name in PROJECT_SETS else args.public_epochs
        engines = [] if args.skip_embedded else ["embedded"]
        engines += [] if args.skip_baseline else ["baseline", "ngrams"]
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
                elif engine in ("baseline", "ngrams"):
                    result = run_baseline(split, folder, engine)
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
