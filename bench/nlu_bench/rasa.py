"""Rasa DIET on the same files: `rasa train nlu` in the Rasa venv, then
bench/nlu_rasa_worker.py parses the test set in-process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from nlu_bench import ROOT
from nlu_bench.datasets import Split
from nlu_bench.processes import measured, tail
from nlu_bench.scoring import fallback_settings, result_of

RASA_PROJECT = ROOT / "nlu" / "rasa_project"
DEFAULT_VENV = Path(os.environ.get("RASA_VENV", Path.home() / ".cache" / "memberbot" / "rasa-venv"))


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
        raise RuntimeError(f"rasa train failed:\n{tail(folder / 'rasa-train.log')}")
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
        raise RuntimeError(f"rasa evaluation failed:\n{tail(folder / 'rasa-eval.log')}")
    report = json.loads(out.read_text(encoding="utf-8"))
    result = result_of("rasa", split, train, evaluation, report, model)
    result["epochs"] = epochs
    return result


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
