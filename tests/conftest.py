"""Shared fixtures: the project configuration, and databases (SQLite and PostgreSQL) with one
promise: every test starts from an empty, migrated database of its own.

The schema is migrated once per session. SQLite tests each get a copy of the migrated
file. PostgreSQL tests share one database per session (its name is unique, so parallel
runs never meet) and find it emptied before they start: a DROP DATABASE forces a
checkpoint that costs one to two seconds on a small machine, an emptying DELETE a few
milliseconds (with triggers off: the append-only tables refuse DELETE). Commits there do not wait for the disk (synchronous_commit off).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from core.config import Config, load_config
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(ROOT / "config.yml")


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "memberbot.db"
    upgrade(f"sqlite:///{path}", "head")
    return path


@pytest.fixture
def sqlite_db(migrated_sqlite_file, tmp_path) -> Database:
    path = tmp_path / "memberbot.db"
    shutil.copyfile(migrated_sqlite_file, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@contextmanager
def fresh_postgres(
    prefix: str = "memberbot_test", migrated: bool = True
) -> Iterator[tuple[Engine, str, str]]:
    """A PostgreSQL database of its own on TEST_DATABASE_URL (the test is skipped without):
    (the server's admin engine, the database's name, its URL), migrated unless told not,
    dropped afterwards with whatever is still connected, even if a test closed it."""
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests need a server")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A throwaway database need not wait for the disk at each commit.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        if migrated:
            upgrade(url, "heads")
        yield admin, name, url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_postgres_url():
    with fresh_postgres() as (_, _, url):
        yield url


@pytest.fixture
def postgres_db(migrated_postgres_url) -> Database:
    database = Database(migrated_postgres_url)
    with database.engine.begin() as conn:
        # The append-only tables refuse DELETE (triggers, migration 0011): a replica
        # session fires no triggers, which is what emptying a throwaway database needs.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request) -> Database:
    """Each test using `db` runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_db")


@pytest.fixture
def redis_url() -> str:
    """A Redis server for the send limits (database 15 in CI): TEST_REDIS_URL."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL not set: the Redis tests need a server")
    return url
