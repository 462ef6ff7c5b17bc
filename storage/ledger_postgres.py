"""On PostgreSQL, the writes of an earning or a spending as one statement: data-modifying
common table expressions, so appending the entry, its lot or its draws, and moving the
balance (and, for a purchase, the member's tier and dates) cost one round trip instead of
four to six. What each statement writes is exactly what storage/ledger_rows.py writes
step by step on SQLite: the steps after the entry read `FROM entry`, so when the
idempotency key was taken before, nothing at all is written and no row comes back.

The statements of an earning and a redemption run on the driver's own connection (the
session's, in its transaction) as prepared statements: SQLAlchemy's execution and result
layers cost more CPU than the statement itself on these paths (bench/RESULTS.md)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import (
    BindParameter,
    ClauseElement,
    Connection,
    Date,
    Integer,
    Numeric,
    String,
    bindparam,
    text,
)
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import SessionTransaction

from storage.models.base import UTCDateTime

ENTRY = """entry AS (
    INSERT INTO ledger_entries (member_id, kind, points, qualifying, idempotency_key,
        order_id, amount, reference, actor, reason, debt, created_at)
    VALUES (:member_id, :kind, :points, :qualifying, :idempotency_key, :order_id, :amount,
        :reference, :actor, :reason, :debt, :created_at)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
)"""
BALANCE = """balance AS (
    UPDATE points_accounts
    SET balance = balance + :points, debt = debt + :owed, updated_at = :created_at
    FROM entry WHERE points_accounts.member_id = :member_id
)"""
TYPES: list[BindParameter] = [
    bindparam("member_id", type_=Integer),
    bindparam("points", type_=Integer),
    bindparam("owed", type_=Integer),
    bindparam("amount", type_=Numeric(12, 2)),
    bindparam("created_at", type_=UTCDateTime),
]

# The entry, its lot, the balance and the member's tier and dates (each NULL: unchanged).
EARN = text(
    f"""WITH {ENTRY}, lot AS (
    INSERT INTO points_lots (member_id, entry_id, points, remaining, earned_at, expires_at)
    SELECT :member_id, entry.id, :points, :points, :created_at,
        CAST(:expires_at AS timestamptz)
    FROM entry
    RETURNING id
), {BALANCE}, member AS (
    UPDATE members SET
        tier = COALESCE(:tier, members.tier),
        tier_since = COALESCE(:tier_since, members.tier_since),
        last_purchase_at = COALESCE(:last_purchase_at, members.last_purchase_at),
        membership_expires = COALESCE(:membership_expires, members.membership_expires)
    FROM entry WHERE members.id = :member_id
)
SELECT entry.id AS entry_id, lot.id AS lot_id FROM entry, lot"""
).bindparams(
    *TYPES,
    bindparam("expires_at", type_=UTCDateTime),
    bindparam("tier", type_=String),
    bindparam("tier_since", type_=UTCDateTime),
    bindparam("last_purchase_at", type_=UTCDateTime),
    bindparam("membership_expires", type_=Date),
)

# The entry, the lots it draws (`lots` and `takes`, in the plan's order) with their
# allocations, and the balance. The lots are found by `id = ANY(...)`, which any plan
# reads through the primary key: a join with the plan let a generic plan scan every lot.
# What the spending pays for may follow in the same statement (storage/rewards.py: the
# redemption and its vouchers), reading `FROM entry`.
SPENDING = f"""WITH {ENTRY}, plan AS (
    SELECT lot, take FROM unnest(CAST(:lots AS integer[]), CAST(:takes AS integer[]))
        AS plan (lot, take)
), drawn AS (
    UPDATE points_lots SET remaining = remaining
        - (CAST(:takes AS integer[]))[array_position(CAST(:lots AS integer[]), points_lots.id)]
    FROM entry WHERE points_lots.id = ANY(CAST(:lots AS integer[]))
), allocated AS (
    INSERT INTO lot_allocations (entry_id, lot_id, points)
    SELECT entry.id, plan.lot, -plan.take FROM entry, plan
), {BALANCE}"""
SPEND = text(SPENDING + "\nSELECT entry.id AS entry_id FROM entry").bindparams(*TYPES)


DIALECT = PGDialect_psycopg()
# statement -> (its SQL for the driver, the values of the parameters it binds itself)
_COMPILED: dict[ClauseElement, tuple[str, dict[str, Any]]] = {}


def _compiled(statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    if statement not in _COMPILED:
        compiled = statement.compile(dialect=DIALECT)
        _COMPILED[statement] = (str(compiled), dict(compiled.params))
    return _COMPILED[statement]


class Driver:
    """Statements built with SQLAlchemy (compiled once), run on the session's psycopg
    connection in the session's transaction, prepared on the server. Values go to and
    come from psycopg as they are (instants stay timezone-aware); errors are raised as
    SQLAlchemy's, so callers catch one kind."""

    def __init__(self, connection: Connection, transaction: SessionTransaction | None):
        self.transaction = transaction  # the session's, whose connection this is
        driver = connection.connection.driver_connection
        assert driver is not None, "a connection checked out of the pool has its driver's"
        self.cursor = driver.cursor(row_factory=namedtuple_row)

    def fetch(self, statement: ClauseElement, params: dict[str, Any]) -> list:
        sql, defaults = _compiled(statement)
        try:
            self.cursor.execute(sql, defaults | params, prepare=True)
            return self.cursor.fetchall()
        except psycopg.Error as exc:
            raise DBAPIError.instance(
                sql, None, exc, psycopg.Error, hide_parameters=True, dialect=DIALECT
            ) from exc
