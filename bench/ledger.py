"""Ledger throughput: earn and redeem operations per second, in separate processes, beside
the machine's floor measured in the same run.

Seeds M generated members (handlers.desk.demo.seed_generated), then runs, each for S
seconds in N processes released together, on random members, each operation in its own
unit of work as the bot does:
  earn    Ledger.earn_purchase of a new order number
  redeem  storage.rewards.redeem of a 10-point voucher with unlimited stock
  floor   the raw driver (psycopg, or sqlite3), one transaction per operation: lock the
          account row, insert an entry, update the balance (tables of its own)
then checks the books: every member's cached balance equals their ledger and their lots,
none is negative, and every redemption spent exactly once (`double_spend` counts members
or redemptions for which that fails).

    .venv/bin/python bench/ledger.py --databases postgres --processes 4 --seconds 10 --json

PostgreSQL: BENCH_DATABASE_URL (or TEST_DATABASE_URL) names a server; a fresh database is
created there and dropped at the end. SQLite uses a temporary file. `--write` replaces the
section of bench/RESULTS.md for this database and process count. The last line with
`--json` is one JSON object: {"database", "processes", "earn", "redeem", "refused",
"double_spend"}, earn and redeem in operations per second.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from report import machine, write_section  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from core.config import load_config  # noqa: E402
from handlers.desk.demo import seed_generated  # noqa: E402
from storage import books  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.ledger import Ledger, LedgerError  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Benefit, LedgerEntry, Member, Redemption  # noqa: E402
from storage.rewards import redeem  # noqa: E402

BENEFIT = "bench_coffee"
WARM_UP = 20  # operations per process before the clock starts
FLOOR_TABLES = {
    "postgres": [
        "CREATE TABLE floor_accounts (member_id integer PRIMARY KEY, balance integer NOT NULL)",
        "CREATE TABLE floor_entries (id bigserial PRIMARY KEY, member_id integer NOT NULL,"
        " points integer NOT NULL, idempotency_key varchar(200) UNIQUE NOT NULL,"
        " created_at timestamptz NOT NULL)",
    ],
    "sqlite": [
        "CREATE TABLE floor_accounts (member_id integer PRIMARY KEY, balance integer NOT NULL)",
        "CREATE TABLE floor_entries (id integer PRIMARY KEY, member_id integer NOT NULL,"
        " points integer NOT NULL, idempotency_key varchar(200) UNIQUE NOT NULL,"
        " created_at timestamp NOT NULL)",
    ],
}


@contextmanager
def database(kind: str) -> Iterator[tuple[str, str]]:
    """(description, SQLAlchemy URL) of a fresh, migrated database."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            upgrade(url, "heads")
            yield f"SQLite {sqlite3.sqlite_version}", url
        return
    admin_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        sys.exit("set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server")
    name = f"memberbot_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar().split()[0]
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url, "heads")
        yield f"PostgreSQL {version}", url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str, kind: str, members: int) -> tuple[float, list[int]]:
    """Seed the members (timed), a cheap benefit everyone may redeem often, and the
    floor's own copy of the accounts."""
    config = load_config(ROOT / "config.yml")
    db = Database(url)
    started = time.perf_counter()
    seed_generated(db, config, datetime.now(UTC), members)
    seeded_in = time.perf_counter() - started
    with db.unit_of_work() as session:
        session.add(
            Benefit(
                code=BENEFIT, name_zh="咖啡券", name_en="Coffee voucher", cost=10, stock=None,
                tiers=[t.name for t in config.tiers], per_member_limit=1_000_000,
                voucher_validity_days=None,
            )
        )  # fmt: skip
        for statement in FLOOR_TABLES[kind]:
            session.execute(text(statement))
        session.execute(
            text("INSERT INTO floor_accounts SELECT member_id, balance FROM points_accounts")
        )
        session.commit()
    with db.unit_of_work(write=False) as session:
        ids = list(session.scalars(select(Member.id).where(Member.member_no.like("G%"))))
    db.dispose()
    return seeded_in, ids


# -- the operations, each in its own transaction -----------------------------------------


def ledger_operation(url: str, name: str):
    config = load_config(ROOT / "config.yml")
    db = Database(url)

    def earn(member_id: int, rng: random.Random) -> None:
        with db.unit_of_work() as session:
            Ledger(session, config).earn_purchase(
                member_id, f"B-{uuid.uuid4().hex[:16]}", Decimal(rng.randint(10, 2000))
            )
            session.commit()

    def spend(member_id: int, rng: random.Random) -> None:
        with db.unit_of_work() as session:
            redeem(Ledger(session, config), member_id, BENEFIT, 1, f"R-{uuid.uuid4().hex[:16]}")
            session.commit()

    return {"earn": earn, "redeem": spend}[name]


def floor_operation(url: str, kind: str):
    """Lock the account row, insert an entry, update the balance: the driver alone."""
    if kind == "postgres":
        import psycopg

        conn = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
        lock = "SELECT balance FROM floor_accounts WHERE member_id = %s FOR UPDATE"
        add = (
            "INSERT INTO floor_entries (member_id, points, idempotency_key, created_at)"
            " VALUES (%s, %s, %s, now())"
        )
        move = "UPDATE floor_accounts SET balance = balance + %s WHERE member_id = %s"

        def operation(member_id: int, rng: random.Random) -> None:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(lock, (member_id,))
                cur.fetchone()
                points = rng.randint(1, 100)
                cur.execute(add, (member_id, points, f"F-{uuid.uuid4().hex[:16]}"))
                cur.execute(move, (points, member_id))

        return operation

    conn = sqlite3.connect(make_url(url).database, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")

    def operation(member_id: int, rng: random.Random) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SELECT balance FROM floor_accounts WHERE member_id = ?", (member_id,))
        points = rng.randint(1, 100)
        conn.execute(
            "INSERT INTO floor_entries (member_id, points, idempotency_key, created_at)"
            " VALUES (?, ?, ?, datetime('now'))",
            (member_id, points, f"F-{uuid.uuid4().hex[:16]}"),
        )
        conn.execute(
            "UPDATE floor_accounts SET balance = balance + ? WHERE member_id = ?",
            (points, member_id),
        )
        conn.execute("COMMIT")

    return operation


def worker(task: tuple, ready, results) -> None:
    """In its own process: warm up, wait for the others, run for the given seconds; puts
    (operations, refused) on `results`."""
    url, kind, name, ids, seed, seconds = task
    rng = random.Random(seed)
    operation = floor_operation(url, kind) if name == "floor" else ledger_operation(url, name)
    for _ in range(WARM_UP):
        operation(rng.choice(ids), rng)
    ready.wait()
    ops = refused = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        try:
            operation(rng.choice(ids), rng)
        except LedgerError:
            refused += 1
        ops += 1
    results.put((ops, refused))


def measure(url: str, kind: str, name: str, ids: list[int], processes: int, seconds: float):
    """(operations per second, refused) of `processes` processes released together."""
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(processes + 1), context.Queue()
    workers = [
        context.Process(target=worker, args=((url, kind, name, ids, n, seconds), ready, results))
        for n in range(processes)
    ]
    for process in workers:
        process.start()
    ready.wait()
    counts = [results.get() for _ in workers]
    for process in workers:
        process.join()
    return sum(ops for ops, _ in counts) / seconds, sum(refused for _, refused in counts)


def double_spends(url: str) -> int:
    """Members whose cached balance is not their ledger's sum and their lots' remainder
    (or is negative), plus redemptions without exactly their one spending entry."""
    db = Database(url)
    with db.unit_of_work(write=False) as session:
        wrong = len(books.unbalanced(session))
        spent = session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "redeem")
        )
        redemptions = session.scalar(select(func.count()).select_from(Redemption))
    db.dispose()
    return wrong + abs(spent - redemptions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    kind, n = args.databases, args.processes

    with database(kind) as (name, url):
        print(f"{name}: seeding {args.members:,} members ...", flush=True)
        seeded_in, ids = prepare(url, kind, args.members)
        rates, refused = {}, 0
        for operation in ("floor", "earn", "redeem"):
            rates[operation], turned_down = measure(url, kind, operation, ids, n, args.seconds)
            refused += turned_down
            print(f"  {operation:6} x{n}: {rates[operation]:7.0f} ops/s", flush=True)
        wrong = double_spends(url)

    floor = rates["floor"]
    earn_ratio, redeem_ratio = rates["earn"] / floor, rates["redeem"] / floor
    print(f"  earn = {earn_ratio:.2f} x floor, redeem = {redeem_ratio:.2f} x floor")
    print(f"  refused {refused}, double spend {wrong}")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    section = (
        f"## Ledger, {name.split()[0]}, {n} processes (issue 14)\n\n"
        f"`.venv/bin/python bench/ledger.py --databases {kind} --processes {n} "
        f"--seconds {args.seconds:g} --write`: {args.members:,} generated members (seeded in "
        f"{seeded_in:.1f} s), each operation its own transaction on a random member, "
        f"{n} separate processes released together, {args.seconds:g} s per row.\n\n"
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, {name}, load average {load} "
        "at the end.\n\n"
        "| operation | ops/s | × floor |\n|---|---:|---:|\n"
        f"| floor: the raw driver, lock + insert + update | {floor:,.0f} | 1.00 |\n"
        f"| earn (`Ledger.earn_purchase`) | {rates['earn']:,.0f} | {earn_ratio:.2f} |\n"
        f"| redeem (`storage.rewards.redeem`) | {rates['redeem']:,.0f} | {redeem_ratio:.2f} |\n"
        f"\nRefused by the rules: {refused}. Double spend: {wrong}.\n"
    )
    if args.write:
        write_section(section)
    if args.json:
        summary = {"database": kind, "processes": n, "earn": round(rates["earn"], 1)}
        summary |= {"redeem": round(rates["redeem"], 1), "refused": refused}
        print(json.dumps(summary | {"double_spend": wrong}))


if __name__ == "__main__":
    main()
