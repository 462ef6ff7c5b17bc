"""What a database error means to the person who ran the command: no schema yet, a schema
behind the code, or a server that cannot be reached. Messages name the host and port (or the
SQLite file), never the password."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

UNDEFINED_TABLE, UNDEFINED_COLUMN = "42P01", "42703"  # PostgreSQL SQLSTATE codes


def where(url: str) -> str:
    """The database named without its password: host:port/name, or the SQLite file."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the configured database"
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database or ':memory:'}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def explain(exc: DBAPIError, url: str) -> str:
    """One line: what is wrong with the database and what to do."""
    text = str(exc.orig)
    state = getattr(exc.orig, "sqlstate", None)
    if state == UNDEFINED_TABLE or "no such table" in text:
        return f"the database at {where(url)} has no schema yet: run `memberbot db upgrade`"
    if state == UNDEFINED_COLUMN or "no such column" in text:
        return f"the database at {where(url)} has an older schema: run `memberbot db upgrade`"
    if exc.connection_invalidated or _cannot_connect(text):
        return f"cannot reach the database at {where(url)}: {_why(text)}"
    return f"the database at {where(url)} refused the work: {_why(text)}"


def _cannot_connect(text: str) -> bool:
    return any(
        sign in text
        for sign in ("connection failed", "could not connect", "unable to open database file")
    )


def _why(text: str) -> str:
    """The reason in a few words: the end of the driver's first line."""
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return first.rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
