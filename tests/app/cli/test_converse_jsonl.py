"""`memberbot converse --jsonl` through the installed console script, on a fresh
SQLite file migrated with `db upgrade` and seeded with `demo seed`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

MEMBERBOT = str(Path(sys.executable).with_name("memberbot"))


@pytest.fixture
def env(tmp_path):
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
        "MEMBERBOT_NOW": "2026-11-25T10:00:00+08:00",
        "MEMBERBOT_CONFIG": str(ROOT / "config.yml"),
    }
    for command in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run(
            [MEMBERBOT, *command],
            env=environment,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return environment


def test_converse_answers_every_line_in_order_and_keeps_going_after_a_bad_one(env):
    lines = [
        {"user": "demo", "text": "我还有多少积分"},
        "this is not json",
        {"user": "demo-en", "text": "how many points do I have"},
        {"text": "no user"},
        {"user": "demo", "button": "g:menu"},
    ]
    stdin = "".join(
        (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
        for line in lines
    )
    done = subprocess.run(
        [MEMBERBOT, "converse", "--jsonl"],
        input=stdin,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines)
    assert out[0]["user"] == "demo" and out[0]["intent"]["name"] == "check_points"
    assert 0 < out[0]["intent"]["confidence"] <= 1
    assert "2,680" in out[0]["replies"][0]["text"]
    assert set(out[1]) == {"error"} and set(out[3]) == {"error"}
    assert "520" in out[2]["replies"][0]["text"]
    menu = out[4]["replies"][-1]
    assert all(set(b) == {"title", "payload"} for b in menu["buttons"]) and menu["buttons"]


def test_converse_flushes_each_answer_so_a_script_can_press_the_buttons_it_gets(env):
    bot = subprocess.Popen(
        [MEMBERBOT, "converse", "--jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        text=True,
    )
    try:

        def talk(message: dict) -> dict:
            bot.stdin.write(json.dumps(message, ensure_ascii=False) + "\n")
            bot.stdin.flush()
            return json.loads(bot.stdout.readline())

        asked = talk({"user": "demo", "text": "兑换两张咖啡券"})
        assert asked["intent"]["name"] == "redeem_benefit"
        confirm = asked["replies"][-1]["buttons"][0]["payload"]
        done = talk({"user": "demo", "button": confirm})
        assert "兑换成功" in done["replies"][0]["text"]
        again = talk({"user": "demo", "button": confirm})
        assert "已经确认过了" in again["replies"][0]["text"]
        points = talk({"user": "demo", "text": "我还有多少积分"})
        assert "2,280" in points["replies"][0]["text"]
    finally:
        bot.stdin.close()
        assert bot.wait(timeout=60) == 0, bot.stderr.read()


def test_converse_without_jsonl_is_bad_usage(env):
    done = subprocess.run(
        [MEMBERBOT, "converse"],
        input="",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert "--jsonl" in done.stderr and "Traceback" not in done.stderr


def test_chat_shows_buttons_numbered_and_a_number_presses_one(env):
    done = subprocess.run(
        [MEMBERBOT, "chat", "--user", "demo-en"],
        input="menu\n1\n/quit\n",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "[1] My points" in done.stdout
    assert "You have 520 points" in done.stdout


def test_converse_on_a_database_without_schema_says_to_run_db_upgrade(tmp_path):
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "MEMBERBOT_CONFIG": str(ROOT / "config.yml"),
    }
    done = subprocess.run(
        [MEMBERBOT, "converse", "--jsonl"],
        input="",
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "memberbot db upgrade" in done.stderr and "Traceback" not in done.stderr
