"""Ledger throughput: earn and redeem operations per second on SQLite and PostgreSQL.

Seeds N generated members (default 100,000) with handlers.desk.demo.seed_generated and prints how
long that took, then runs each operation for a few seconds with 1 and 4 worker threads,
each operation in its own unit of work on a random member, as the bot does. Prints one
Markdown table with both databases side by side.

    .venv/bin/python bench/ledger.py [--members 100000] [--seconds 5] [--workers 1,4]

PostgreSQL: BENCH_DATABASE_URL (or TEST_DATABASE_URL) names a server; the script creates a
fresh database there and drops it at the end. Without either, only SQLite runs. SQLite uses
a temporary file.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from report import machine
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from core.config import Config, load_config
from handlers.desk.demo import seed_generated
from storage.db import Database
from storage.ledger import Ledger, LedgerError
from storage.migrate import upgrade
from storage.models import Benefit, Member
from storage.rewards import redeem

ROOT = Path(__file__).resolve().parent.parent
BENEFIT = "bench_coffee"


@dataclass
class Cell:
    ops: int
    refused: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@contextmanager
def sqlite_database() -> Iterator[tuple[str, Database]]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url, "heads")
        database = Database(url)
        try:
            yield f"SQLite {sqlite3.sqlite_version}", database
        finally:
            database.dispose()


@contextmanager
def postgres_database(admin_url: str) -> Iterator[tuple[str, Database]]:
    name = f"memberbot_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar().split()[0]
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    database = None
    try:
        upgrade(url, "heads")
        database = Database(url)
        yield f"PostgreSQL {version}", database
    finally:
        if database is not None:
            database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(db: Database, config: Config, members: int) -> tuple[float, list[int]]:
    """Seed the members (timed) and a cheap benefit everyone may redeem often."""
    at = datetime.now(UTC)
    started = time.perf_counter()
    seed_generated(db, config, at, members)
    seeded_in = time.perf_counter() - started
    with db.unit_of_work() as session:
        session.add(
            Benefit(
                code=BENEFIT,
                name_zh="咖啡券",
                name_en="Coffee voucher",
                cost=10,
                stock=None,
                tiers=[t.name for t in config.tiers],
                per_member_limit=1_000_000,
                voucher_validity_days=None,
            )
        )
        session.commit()
    with db.unit_of_work(write=False) as session:
        ids = list(session.scalars(select(Member.id).where(Member.member_no.like("G%"))))
    return seeded_in, ids


def earn(db: Database, config: Config, member_id: int, rng: random.Random) -> None:
    with db.unit_of_work() as session:
        Ledger(session, config).earn_purchase(
            member_id, f"B-{uuid.uuid4().hex[:16]}", Decimal(rng.randint(10, 2000))
        )
        session.commit()


def spend(db: Database, config: Config, member_id: int, rng: random.Random) -> None:
    with db.unit_of_work() as session:
        redeem(Ledger(session, config), member_id, BENEFIT, 1, f"R-{uuid.uuid4().hex[:16]}")
        session.commit()


def measure(
    db: Database, config: Config, ids: list[int], operation: Callable, workers: int, seconds: float
) -> Cell:
    latencies: list[float] = []
    counts = {"ops": 0, "refused": 0}
    lock = threading.Lock()
    deadline = [0.0]

    def open_the_gate() -> None:  # runs once, before any worker is released
        deadline[0] = time.perf_counter() + seconds

    start = threading.Barrier(workers + 1, action=open_the_gate)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine, refused = [], 0
        for _ in range(20):  # warm the connection pool and caches, untimed
            operation(db, config, rng.choice(ids), rng)
        start.wait()
        while time.perf_counter() < deadline[0]:
            began = time.perf_counter()
            try:
                operation(db, config, rng.choice(ids), rng)
            except LedgerError:
                refused += 1
            mine.append((time.perf_counter() - began) * 1000)
        with lock:
            latencies.extend(mine)
            counts["ops"] += len(mine)
            counts["refused"] += refused

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = deadline[0] - seconds
    for thread in threads:
        thread.join()
    return Cell(counts["ops"], counts["refused"], time.perf_counter() - began, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", default="1,4", help="comma-separated worker counts")
    args = parser.parse_args()
    workers = [int(n) for n in args.workers.split(",")]
    config = load_config(ROOT / "config.yml")
    admin_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")

    backends = [sqlite_database()]
    if admin_url:
        backends.append(postgres_database(admin_url))
    names, seeded, cells = [], [], {}
    for backend in backends:
        with backend as (name, db):
            print(f"{name}: seeding {args.members:,} members ...", flush=True)
            seeded_in, ids = prepare(db, config, args.members)
            names.append(name)
            seeded.append(seeded_in)
            for count in workers:
                for label, operation in (("earn", earn), ("redeem", spend)):
                    cell = measure(db, config, ids, operation, count, args.seconds)
                    cells[(name, label, count)] = cell
                    print(
                        f"  {label:6} x{count}: {cell.rate:7.0f} ops/s "
                        f"(p50 {cell.percentile(50):.1f} ms, p99 {cell.percentile(99):.1f} ms, "
                        f"{cell.refused} refused)",
                        flush=True,
                    )

    print()
    print(
        f"{datetime.now(UTC):%Y-%m-%d}, {machine()}, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.members:,} members, "
        f"{args.seconds:g} s per cell, each operation its own unit of work on a random member"
    )
    print()
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    print(
        f"| seed {args.members:,} members | "
        + " | ".join(f"{s:.1f} s ({args.members / s:,.0f} members/s)" for s in seeded)
        + " |"
    )
    print()
    header = " | ".join(f"{n} ops/s | p50 ms | p99 ms" for n in names)
    print(f"| operation | workers | {header} |")
    print("|---|---:|" + "---:|---:|---:|" * len(names))
    for count in workers:
        for label in ("earn", "redeem"):
            row = " | ".join(
                f"{c.rate:,.0f} | {c.percentile(50):.1f} | {c.percentile(99):.1f}"
                for c in (cells[(n, label, count)] for n in names)
            )
            print(f"| {label} | {count} | {row} |")
    refused = sum(c.refused for c in cells.values())
    if refused:
        print(f"\n{refused} operations were refused by the rules (counted in ops/s).")


if __name__ == "__main__":
    main()
