"""Engine and unit of work: SQLite by default (WAL, busy timeout, immediate write
transactions), PostgreSQL through DATABASE_URL. Statement parameters (message texts,
member numbers, birthdays) never appear in errors or logs (`hide_parameters`); a
connection the server dropped (a restart, an outage) is replaced before use: it has
something to read (the server's goodbye, or end of file), which a check of its socket sees
without the round trip of a ping."""

from __future__ import annotations

import fcntl
import select
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock, RLock
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

BUSY_TIMEOUT_MS = 30_000


def rows_changed(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE run through a Session changed. The session types
    every result as Result; for these statements it is the driver's CursorResult."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} of a statement that changes no rows")
    return result.rowcount


def _replace_if_dropped(dbapi_connection, _record, _proxy) -> None:
    """An idle pooled connection has nothing to read unless the server closed it (or
    said something unasked): the pool replaces it and checks out another."""
    readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    if readable:
        raise DisconnectionError("the server closed this pooled connection")


class Database:
    def __init__(self, url: str, echo: bool = False):
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = self._sqlite_engine(echo)
        else:
            self.engine = create_engine(
                self.url,
                echo=echo,
                pool_size=10,
                max_overflow=20,
                hide_parameters=True,
            )
            event.listen(self.engine, "checkout", _replace_if_dropped)
        # SQLite has one writer at a time; writers of this process queue here instead of
        # sleeping and polling on the database lock (busy timeout), which ruins p99.
        self._sqlite_writer = RLock()
        # Built once: an engine with options costs more to make than a write on SQLite.
        self._writer = self.engine.execution_options(sqlite_immediate=True)
        self._exclusive_in_memory = Lock()

    def _sqlite_engine(self, echo: bool) -> Engine:
        if self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url,
            echo=echo,
            hide_parameters=True,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # Take transaction control from pysqlite so "begin" below decides how to begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # Writers take the write lock up front, so a read-then-write cannot interleave.
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            # Straight to the driver: SQLAlchemy's statement path costs several times what
            # BEGIN does, and every unit of work begins.
            conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @contextmanager
    def unit_of_work(self, write: bool = True) -> Iterator[Session]:
        """A session whose work rolls back unless the caller commits."""
        if write and self.is_sqlite:
            with self._sqlite_writer:
                yield from self._session(self._writer)
        else:
            yield from self._session(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction on a bare connection, for Core statements only: committed
        when the block ends, rolled back when it raises. The writes every message makes
        (its claim, the send record) cost less here than in a unit of work's session."""
        if self.is_sqlite:
            with self._sqlite_writer, self._writer.begin() as conn:
                yield conn
        else:
            with self.engine.begin() as conn:
                yield conn

    @staticmethod
    def _session(bind) -> Iterator[Session]:
        session = Session(bind=bind, expire_on_commit=False)
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the lock called `name` against every process using this database: a
        PostgreSQL advisory lock, or a file lock beside the SQLite file (one process
        with an in-memory database: a lock in memory)."""
        if not self.is_sqlite:
            key = zlib.crc32(name.encode())
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    conn.commit()
        elif not self.url.database or self.url.database == ":memory:":
            with self._exclusive_in_memory:
                yield
        else:
            with open(f"{self.url.database}.{name}.lock", "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def dispose(self) -> None:
        self.engine.dispose()
