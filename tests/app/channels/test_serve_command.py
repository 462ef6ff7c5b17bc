"""`memberbot serve` and `memberbot telegram poll` as an operator runs them: the real
console script in a subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.app.channels.conftest import OPENID
from tests.conftest import ROOT
from tests.fakes.wechat_api import FakeWeChatServer

CHANNEL_SECRETS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "WECHAT_TOKEN",
    "WECHAT_AES_KEY",
)


def memberbot_command() -> str:
    beside_python = Path(sys.prefix) / "bin" / "memberbot"
    return str(beside_python) if beside_python.exists() else shutil.which("memberbot")


def environment(database: Path, **extra: str) -> dict:
    # Nor the developer's Redis: a test names the one it means.
    env = {k: v for k, v in os.environ.items() if k not in (*CHANNEL_SECRETS, "REDIS_URL")}
    env.pop("MEMBERBOT_CONFIG", None)
    return {**env, "DATABASE_URL": f"sqlite:///{database}", **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_refuses_to_start_on_a_database_without_the_schema(tmp_path):
    done = subprocess.run(
        [memberbot_command(), "--config", str(ROOT / "config.yml"), "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=environment(tmp_path / "empty.db"),
        timeout=60,
    )
    assert done.returncode == 2
    assert "memberbot db upgrade" in done.stderr and "Traceback" not in done.stderr


def test_telegram_poll_without_a_token_says_what_to_set(seeded_file, tmp_path):
    database = tmp_path / "m.db"
    shutil.copyfile(seeded_file, database)
    done = subprocess.run(
        [memberbot_command(), "--config", str(ROOT / "config.yml"), "telegram", "poll"],
        capture_output=True,
        text=True,
        env=environment(database),
        timeout=60,
    )
    assert done.returncode == 2 and "TELEGRAM_BOT_TOKEN" in done.stderr


def test_serve_without_channel_secrets_runs_answers_503_and_stops_cleanly(seeded_file, tmp_path):
    database = tmp_path / "m.db"
    shutil.copyfile(seeded_file, database)
    port = free_port()
    server = subprocess.Popen(
        [memberbot_command(), "--config", str(ROOT / "config.yml"), "serve", "--port", str(port)],
        env=environment(database, NO_PROXY="127.0.0.1,localhost"),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.1)
        assert health.json()["channels"] == {"telegram": "off", "wechat": "off"}
        wechat = FakeWeChatServer()
        query, body = wechat.request(wechat.text(OPENID, "hi"))
        assert httpx.post(f"{url}/wechat?{query}", content=body).status_code == 503
        assert httpx.post(f"{url}/telegram/webhook", json={}).status_code == 503
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert server.returncode in (0, -signal.SIGTERM) and "Traceback" not in stderr
    assert "WECHAT_TOKEN is not set" in stderr and "TELEGRAM_BOT_TOKEN is not set" in stderr


def test_serve_on_a_port_in_use_fails_with_one_line(seeded_file, tmp_path):
    database = tmp_path / "m.db"
    shutil.copyfile(seeded_file, database)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                memberbot_command(),
                "--config",
                str(ROOT / "config.yml"),
                "serve",
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            env=environment(database),
            timeout=60,
        )
    assert done.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
