"""The workbench and the API as `memberbot serve` mounts them: app.web.create_app with
staff.install, on a seeded SQLite database, driven in-process (TestClient) or served by
uvicorn on 127.0.0.1 for the browser."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

import staff
from app.channels.setup import Channels
from app.composition import App
from app.web import create_app
from tests.handlers.desk.conftest import NOW, PASSWORD, RecordingSender, seed_desk

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CHROMIUM = [  # the browser tests' pytestmark
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (apt-get install -y chromium)",
    ),
]

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


@pytest.fixture
def served(sqlite_db, config, monkeypatch):
    """The workbench served on loopback, sending to the fake Telegram Bot API."""
    from app.channels.telegram_sender import TelegramSender
    from tests.fakes import telegram_api

    monkeypatch.setenv("STAFF_SESSION_SECRET", "browser-test-secret")
    monkeypatch.setenv("MEMBERBOT_NOW", NOW.isoformat())
    seed_desk(sqlite_db, config)
    with telegram_api.FakeTelegram() as fake:
        sender = TelegramSender(
            telegram_api.TOKEN, config.channels.telegram, sqlite_db, base_url=fake.base_url
        )
        try:
            with Served(build_web(sqlite_db, config, {"telegram": sender})) as server:
                yield server, fake
        finally:
            sender.close()


@pytest.fixture
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is in the [test] extra"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def signed_in(browser, server, width: int = 1280, height: int = 800, username: str = "amy"):
    """A page of its own browser context, signed in (in English) and on the queue."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server.url}/staff/signin?lang=en")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/queue"))
    return page
