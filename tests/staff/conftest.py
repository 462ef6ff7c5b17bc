"""The workbench and the API as `memberbot serve` mounts them: app.web.create_app with
staff.install, on a seeded SQLite database, driven in-process (TestClient) or served by
uvicorn on 127.0.0.1 for the browser."""

from __future__ import annotations

import os
import re
import socket
import threading
import time

import pytest
import uvicorn
from fastapi.testclient import TestClient

import staff
from app.channels.setup import Channels
from app.composition import App
from app.web import create_app
from tests.handlers.desk.conftest import NOW, PASSWORD, RecordingSender, seed_desk

for name in ("NO_PROXY", "no_proxy"):
    os.environ[name] = "127.0.0.1,localhost"


def build_web(database, config, senders: dict):
    app = App(config=config)
    app.__dict__["database"] = database
    web = create_app(app, Channels(senders=dict(senders)))
    staff.install(web, app, senders)
    return web


@pytest.fixture
def telegram() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def web(sqlite_db, config, telegram, monkeypatch):  # noqa: F811
    monkeypatch.setenv("STAFF_SESSION_SECRET", "tests-only-secret")
    monkeypatch.setenv("MEMBERBOT_NOW", NOW.isoformat())
    seed_desk(sqlite_db, config)
    return build_web(sqlite_db, config, {"telegram": telegram})


@pytest.fixture
def client(web):
    with TestClient(web, base_url="http://testserver") as made:
        yield made


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, username: str = "amy", password: str = PASSWORD):
    form = client.get("/staff/signin")
    return client.post(
        "/staff/signin",
        data={"csrf": csrf_of(form.text), "username": username, "password": password},
        follow_redirects=False,
    )


class Served:
    """An ASGI app served by uvicorn in a thread on a free port of 127.0.0.1."""

    def __init__(self, app):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()
