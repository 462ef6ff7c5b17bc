"""Conversation engine benchmark: messages per second and p50/p99 latency per message
through the whole engine (NLU, handler, database) with 100,000 generated members, on
SQLite and on PostgreSQL, side by side.

    .venv/bin/python bench/engine.py                      # both databases, print the table
    .venv/bin/python bench/engine.py --write              # and update bench/RESULTS.md
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test  (PostgreSQL server)

Each database is fresh: migrated, demo-seeded, then filled with generated members, whose
console identities are g0000000, g0000001, ... Messages are single-threaded, in process,
from random members, in each member's language: balance, tier, history, benefits,
vouchers, rules, greetings, a miss, and a redemption with its confirmation press."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from report import machine, write_section  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.engine import Engine  # noqa: E402
from core.config import load_config  # noqa: E402
from core.messages import Inbound  # noqa: E402
from handlers.desk import demo  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

AT = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SECTION = "## Conversation engine (issue 4)"
TARGET_P99_MS = 20.0

# (weight, zh, en): what members say; None is "redeem, then press confirm".
SAYINGS = [
    (20, "我还有多少积分", "how many points do I have"),
    (10, "我是什么等级", "what tier am I"),
    (10, "积分明细", "show my points history"),
    (10, "有什么可以兑换的", "what rewards can I get"),
    (8, "我的券", "show my vouchers"),
    (6, "积分规则是什么", "how do points work"),
    (8, "你好", "hello"),
    (5, "谢谢", "thank you"),
    (5, "啊吧啊吧", "blorp"),
    (8, None, None),
]


def _fresh_postgres(admin_url: str) -> tuple[str, callable]:
    name = f"memberbot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def _database(kind: str, workdir: Path):
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench-engine.db'}", lambda: None
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        return None, None
    return _fresh_postgres(admin_url)


def _prepare(url: str, config, members: int) -> tuple[Database, float]:
    upgrade(url)
    database = Database(url)
    started = time.perf_counter()
    demo.seed(database, config, AT)
    demo.seed_generated(database, config, AT, members)
    return database, time.perf_counter() - started


def _script(rng: random.Random, members: int, count: int) -> list[tuple[str, str | None]]:
    """(user, text) pairs; a None text is the confirm press of the redemption before it."""
    weights = [w for w, _, _ in SAYINGS]
    plan: list[tuple[str, str | None]] = []
    while len(plan) < count:
        n = rng.randrange(members)
        user, english = f"g{n:07d}", n % 5 == 0  # seed_generated: every fifth member is en
        _, zh, en = rng.choices(SAYINGS, weights)[0]
        if zh is None:
            plan.append((user, "redeem a coffee voucher" if english else "兑换咖啡券"))
            plan.append((user, None))
        else:
            plan.append((user, en if english else zh))
    return plan[:count]


def _run(engine: Engine, plan) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per message: on a busy machine the wall clock
    also counts waiting for a core, the CPU time only this process's work."""
    latencies, cpu = [], []
    last = None
    for user, said in plan:
        if said is None:
            payload = next(
                (
                    b.payload
                    for r in last.replies
                    for b in r.buttons
                    if b.payload.startswith("c:") and b.payload.endswith(":y")
                ),
                None,
            )
            message = Inbound("console", user, button=payload or "g:menu")
        else:
            message = Inbound("console", user, text=said)
        started, used = time.perf_counter(), time.process_time()
        last = engine.handle(message)
        latencies.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        if last.outcome == "error":
            raise SystemExit(f"the engine failed on {message}")
    return latencies, cpu


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def bench(kind: str, members: int, messages: int, warmup: int, parser, config, workdir: Path):
    url, drop = _database(kind, workdir)
    if url is None:
        print(f"{kind}: skipped (TEST_DATABASE_URL not set)", file=sys.stderr)
        return None
    try:
        print(f"{kind}: seeding {members:,} members ...", file=sys.stderr)
        database, seeding = _prepare(url, config, members)
        engine = Engine(database, config, parser, clock=lambda: AT)
        rng = random.Random(4)
        _run(engine, _script(rng, members, warmup))
        plan = _script(rng, members, messages)
        print(f"{kind}: {messages:,} messages ...", file=sys.stderr)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        latencies, cpu = _run(engine, plan)
        elapsed = time.perf_counter() - started
        database.dispose()
        return {
            "database": kind,
            "members": members,
            "messages": messages,
            "per_second": messages / elapsed,
            "p50": _percentile(latencies, 0.50),
            "p99": _percentile(latencies, 0.99),
            "mean": statistics.fmean(latencies),
            "max": max(latencies),
            "cpu_p50": _percentile(cpu, 0.50),
            "cpu_p99": _percentile(cpu, 0.99),
            "seeding_s": seeding,
            "load": max(load, os.getloadavg()[0]),
        }
    finally:
        drop()


def _nlu_only(parser, count: int) -> tuple[float, float]:
    texts = [zh for _, zh, _ in SAYINGS if zh] + [en for _, _, en in SAYINGS if en]
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        parser.parse(texts[i % len(texts)])
        latencies.append((time.perf_counter() - started) * 1000)
    return _percentile(latencies, 0.5), _percentile(latencies, 0.99)


def table(results: list[dict], nlu: tuple[float, float]) -> str:
    rows = [
        "| database | members | messages | messages/s | p50 ms | p99 ms | mean ms | max ms "
        "| CPU p50 ms | CPU p99 ms | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows.append(
            f"| {r['database']} | {r['members']:,} | {r['messages']:,} | {r['per_second']:,.0f} "
            f"| {r['p50']:.2f} | {r['p99']:.2f} | {r['mean']:.2f} | {r['max']:.1f} "
            f"| {r['cpu_p50']:.2f} | {r['cpu_p99']:.2f} | {r['load']:.1f} |"
        )
    rows.append("")
    for r in results:
        rows.append(
            f"Seeding {r['database']} (demo + {r['members']:,} members): {r['seeding_s']:.0f} s."
        )
    rows.append(f"NLU parse alone (embedded engine): p50 {nlu[0]:.2f} ms, p99 {nlu[1]:.2f} ms.")
    return "\n".join(rows)


def main() -> None:
    parser_ = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser_.add_argument("--members", type=int, default=100_000)
    parser_.add_argument("--messages", type=int, default=5_000)
    parser_.add_argument("--warmup", type=int, default=300)
    parser_.add_argument("--databases", default="sqlite,postgres")
    parser_.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser_.parse_args()

    from nlu.service import build_parser

    config = load_config(ROOT / "config.yml")
    nlu = build_parser(config)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as workdir:
        for kind in args.databases.split(","):
            found = bench(
                kind, args.members, args.messages, args.warmup, nlu, config, Path(workdir)
            )
            if found:
                results.append(found)
    body = table(results, _nlu_only(nlu, 2000))
    sqlite = next((r for r in results if r["database"] == "sqlite"), None)
    verdict = ""
    if sqlite:
        met = "met" if sqlite["p99"] < TARGET_P99_MS else "NOT met"
        cpu = "met" if sqlite["cpu_p99"] < TARGET_P99_MS else "NOT met"
        verdict = (
            f"Target p99 < {TARGET_P99_MS:.0f} ms on SQLite: {met} by the wall clock, "
            f"{cpu} by CPU time."
        )
    report = (
        f"Run {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')} on {machine()}.\n"
        f"`.venv/bin/python bench/engine.py` ({args.messages:,} messages after "
        f"{args.warmup} warm-up, one thread, in process, fixed clock; each database fresh "
        f"with the demo seed plus {args.members:,} generated members).\n\n"
        f"{body}\n\n{verdict}\n"
        "Latency is `Engine.handle` end to end: NLU parse, routing, handler, ledger writes "
        "for redemptions, conversation state, message log and commit. `load avg` is the "
        "machine's 1-minute load during the run: above the number of CPUs, the wall clock "
        "includes waiting for a core, and the CPU columns show the engine's own cost.\n"
    )
    print(report)
    if args.write:
        write_section(f"{SECTION}\n\n{report.strip()}\n")


if __name__ == "__main__":
    main()
