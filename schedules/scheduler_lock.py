"""One scheduler process at a time, whatever the number of machines: a database lock.

PostgreSQL: a session advisory lock held on a connection of its own for the life of the
process. SQLite: an exclusive file lock beside the database file. Both are released by
the operating system or the server when the process dies, even by SIGKILL, so a crash
never leaves the lock behind. A second scheduler waits, saying so, until the lock is free.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, text

from storage.db import Database

log = logging.getLogger(__name__)

ADVISORY_KEY = 0x6D656D626572  # "member": the key every memberbot scheduler locks
REMIND_EVERY = 60.0


class SchedulerLock:
    def __init__(
        self,
        database: Database,
        poll_seconds: float = 1.0,
        on_wait: Callable[[str], None] | None = None,
    ):
        self.db, self.poll = database, poll_seconds
        self.on_wait = on_wait or log.warning
        self._conn: Connection | None = None
        self._fd: int | None = None

    def __enter__(self) -> SchedulerLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self, timeout: float | None = None) -> bool:
        """Block until this process holds the lock (or `timeout` runs out: False)."""
        started, told = time.monotonic(), None
        while not self._try():
            waited = time.monotonic() - started
            if timeout is not None and waited >= timeout:
                return False
            if told is None or waited - told >= REMIND_EVERY:
                self.on_wait(f"another scheduler is running ({self.where}); waiting for it")
                told = waited
            time.sleep(self.poll)
        return True

    @property
    def where(self) -> str:
        if self.db.is_sqlite:
            return f"lock file {self._path()}"
        return f"advisory lock {ADVISORY_KEY} on {self.db.url.render_as_string()}"

    def _try(self) -> bool:
        if self.db.is_sqlite:
            return self._try_file()
        if self._conn is None:
            self._conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = self._conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        return bool(got)

    def _path(self) -> Path | None:
        name = self.db.url.database
        if not name or name == ":memory:":
            return None
        return Path(name).with_name(Path(name).name + ".scheduler.lock")

    def _try_file(self) -> bool:
        path = self._path()
        if path is None:
            return True  # an in-memory database lives in one process anyway
        if self._fd is None:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())
        return True

    def still_held(self) -> bool:
        """False when the PostgreSQL connection holding the lock has been lost."""
        if self._conn is None:
            return True
        try:
            self._conn.scalar(text("SELECT 1"))
            return True
        except Exception:
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            finally:
                self._conn.close()
                self._conn = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
