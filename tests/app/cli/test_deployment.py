"""deploy/compose.yml, run without Docker: each memberbot service's command as a plain
process, with the compose file's environment, against the local PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import ROOT, fresh_postgres

COMPOSE = ROOT / "deploy" / "compose.yml"
VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def substituted(value: str, env: dict) -> str:
    """Compose's ${NAME:-default}."""
    return VARIABLE.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memberbot() -> str:
    beside_python = Path(sys.prefix) / "bin" / "memberbot"
    return str(beside_python) if beside_python.exists() else str(shutil.which("memberbot"))


@pytest.fixture
def database_url():
    with fresh_postgres("memberbot_deploy", migrated=False) as (_, _, url):
        yield url


def service_commands(database_url: str, port: int) -> dict[str, tuple[list[str], dict]]:
    """Each memberbot service: its command and environment, as this machine runs them."""
    compose = yaml.safe_load(COMPOSE.read_text())
    found = {}
    for name, service in compose["services"].items():
        if service.get("image", "").startswith("postgres"):
            continue
        command = [substituted(part, {}) for part in service["command"]]
        command[0] = memberbot() if command[0] == "memberbot" else command[0]
        if "--port" in command:
            command[command.index("--port") + 1] = str(port)
        if "--host" in command:
            command[command.index("--host") + 1] = "127.0.0.1"
        declared = {k: substituted(str(v), {}) for k, v in service["environment"].items()}
        env = {k: v for k, v in os.environ.items() if k not in declared}
        env |= {k: v for k, v in declared.items() if v} | {"DATABASE_URL": database_url}
        env |= {"MEMBERBOT_CONFIG": str(ROOT / "config.yml"), "NO_PROXY": "127.0.0.1,localhost"}
        found[name] = (command, env)
    return found


def test_the_compose_services_come_up_as_plain_processes(database_url, tmp_path):
    port = free_port()
    services = service_commands(database_url, port)
    assert set(services) == {"migrate", "serve", "scheduler"}

    command, env = services["migrate"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    running = {
        name: subprocess.Popen(
            services[name][0],
            env=services[name][1] | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")},
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("serve", "scheduler")
    }
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                assert all(p.poll() is None for p in running.values())
                time.sleep(0.3)
        assert health.status_code == 200 and health.json()["database"] == "ok"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert "memberbot_outbox_messages" in metrics.text
        assert running["scheduler"].poll() is None  # the scheduler keeps running
    finally:
        errors = {}
        for name, process in running.items():
            process.send_signal(signal.SIGTERM)
            errors[name] = process.communicate(timeout=60)[1]
    assert all("Traceback" not in stderr for stderr in errors.values()), errors
