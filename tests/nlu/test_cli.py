"""`memberbot nlu ...` end to end: the installed console script, as a member of staff runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import app.cli.nlu  # noqa: F401  (registers the `nlu` group)
from app.cli import cli
from tests.conftest import ROOT


def memberbot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("memberbot")
    command = [str(script)] if script.exists() else [shutil.which("memberbot") or "memberbot"]
    return subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_nlu_parse_prints_check_points_json(nlu_config_file, tmp_path):
    done = memberbot(
        "--config", str(nlu_config_file), "nlu", "parse", "我的积分还有多少", cwd=tmp_path
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["text"] == "我的积分还有多少"
    assert result["intent"]["name"] == "check_points"
    assert result["intent_ranking"][0]["name"] == "check_points"
    assert "我的积分还有多少" in done.stdout  # not \\u-escaped


def test_nlu_evaluate_on_a_bad_file_exits_2_naming_the_file_and_line(nlu_config_file, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - [hello](\n',
        encoding="utf-8",
    )

    done = memberbot(
        "--config", str(nlu_config_file), "nlu", "evaluate", "--test", str(bad), cwd=tmp_path
    )

    assert done.returncode == 2
    assert "bad.yml, line 6" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_nlu_evaluate_with_train_prints_the_contract_figures(nlu_config_file, tmp_path):
    rows = [("我的积分还有多少", "check_points"), ("查积分", "check_points"), ("你好", "greet")]
    rows += [("hello", "greet"), ("今天天气怎么样", "oos"), ("积分余额", "check_points")]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"text": t, "intent": i}) + "\n" for t, i in rows))
    test = tmp_path / "test.jsonl"
    test.write_text(
        '{"text": "积分还有多少", "label": "check_points"}\n{"text": "hi", "intent": "greet"}\n'
    )

    done = memberbot(
        "--config", str(nlu_config_file), "nlu", "evaluate",
        "--train", str(train), "--test", str(test), "--json", cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert {
        "accuracy",
        "macro_f1",
        "in_scope_accuracy",
        "oos_recall",
        "latency_ms",
        "per_intent",
        "ece",
    } <= set(figures)
    assert set(figures["latency_ms"]) == {"p50", "p99"}
    assert 0.0 <= figures["ece"] <= 1.0
    assert 0.0 <= figures["accuracy"] <= 1.0
    assert set(figures["per_intent"]) == {"check_points", "greet"}


@pytest.fixture
def small_config(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好\n    - hello\n'
        "- intent: goodbye\n  examples: |\n    - 再见\n    - bye\n",
        encoding="utf-8",
    )
    raw = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    raw["nlu"].update(data_path=str(data), model_path=str(tmp_path / "m" / "model.npz"))
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_nlu_train_saves_the_model_and_says_what_it_learnt(small_config, tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(small_config), "nlu", "train"])

    assert result.exit_code == 0, result.output
    assert "4 examples of 2 intents" in result.output
    assert (tmp_path / "m" / "model.npz").is_file()


def test_nlu_evaluate_prints_a_readable_report(small_config, tmp_path):
    test = tmp_path / "test.jsonl"
    test.write_text('{"text": "你好", "intent": "greet"}\n{"text": "bye", "intent": "goodbye"}\n')

    result = CliRunner().invoke(
        cli, ["--config", str(small_config), "nlu", "evaluate", "--test", str(test)]
    )

    assert result.exit_code == 0, result.output
    assert "greet" in result.output
    assert "accuracy" in result.output


def test_nlu_evaluate_on_a_missing_file_exits_2(small_config, tmp_path):
    result = CliRunner().invoke(
        cli,
        ["--config", str(small_config), "nlu", "evaluate", "--test", str(tmp_path / "nope.yml")],
    )

    assert result.exit_code == 2
    assert "nope.yml" in result.output
