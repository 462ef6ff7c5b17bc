"""Shared fixtures: the project configuration and migrated databases (SQLite and PostgreSQL).

PostgreSQL tests each get a fresh database created on the server named by
TEST_DATABASE_URL, so parallel runs never see each other's rows."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import Config, load_config
from storage.db import Database
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(ROOT / "config.yml")


@pytest.fixture
def sqlite_db(tmp_path) -> Database:
    url = f"sqlite:///{tmp_path / 'memberbot.db'}"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture
def postgres_db() -> Database:
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests need a server")
    name = f"memberbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request) -> Database:
    """Each test using `db` runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_db")
