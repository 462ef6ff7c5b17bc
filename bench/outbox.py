"""Scheduler and outbox benchmark (issue 7), on SQLite and on PostgreSQL.

    .venv/bin/python bench/outbox.py                     # 1,000,000 members, both databases
    .venv/bin/python bench/outbox.py --members 200000 --databases sqlite --write
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test  (PostgreSQL server)

For each database, fresh: migrate, then generate members (handlers.desk.demo.seed_generated,
in steps of 100,000, stopping early when the next step would pass --seed-minutes; the scan
figure is then extrapolated linearly to --members and marked so). Then:

1. the daily scan: every message job once for the day after seeding (a day with
   birthdays; membership expiry at 30/7/1 days; points entering the 30-day window), timed
   per job, birthday gifts through the ledger included;
2. dispatch throughput over the queued messages, bound to Telegram: to a null sender
   (the dispatcher's own ceiling), then through the real Telegram sender to the fake
   Telegram API with its rate limits off, with 1 and with 4 dispatcher threads;
3. with Telegram's limit on (channels.telegram in config.yml: 30 a second), the rate
   achieved over --limited messages, against 30 a second, with 1 and 4 dispatchers
   sharing one sender (and so one limiter);
4. the yearly tier evaluation on its day: the same job, with the evaluation day set to the
   scan day (on other days, as in the daily scan, it only checks the date). Generated
   members hold all four tiers and no qualifying points, so three in four move down and
   are told: the heaviest evaluation day there can be.

--write replaces this benchmark's section of bench/RESULTS.md, and only it."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for proxy_free in ("NO_PROXY", "no_proxy"):
    os.environ[proxy_free] = "127.0.0.1,localhost"

from report import machine, write_section  # noqa: E402
from sqlalchemy import String, cast, create_engine, func, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.channels.telegram_sender import TelegramSender  # noqa: E402
from core.config import load_config  # noqa: E402
from handlers.desk.demo import seed_generated  # noqa: E402
from handlers.ports import Delivery, Outcome, Outgoing  # noqa: E402
from schedules import tier_evaluation  # noqa: E402
from schedules.dispatcher import Dispatcher  # noqa: E402
from schedules.scheduler import MESSAGE_JOBS  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import ChatIdentity, OutboundMessage  # noqa: E402
from tests.fakes.telegram_api import TOKEN, FakeTelegram  # noqa: E402

SECTION = "## Scheduler and outbox (issue 7)"
SEEDED = datetime.fromisoformat("2026-06-09T10:00:00+08:00")
SCAN_DAY = SEEDED + timedelta(days=1)  # 10 June: a birthday of 1/84 of generated members
STEP = 100_000


class NullSender:
    channel = "telegram"

    def send(self, message: Outgoing) -> Delivery:
        return Delivery(Outcome.SENT)


@dataclass
class Result:
    database: str
    members: int
    seed_seconds: float
    scan_seconds: dict[str, float] = field(default_factory=dict)
    queued: dict[str, int] = field(default_factory=dict)
    dispatch: dict[str, float] = field(default_factory=dict)  # messages per second
    limited: dict[int, float] = field(default_factory=dict)  # dispatchers -> msg/s
    target: int = 0
    evaluated: int = 0
    evaluation_seconds: float = 0.0
    evaluation_queued: int = 0

    @property
    def scan_total(self) -> float:
        return sum(self.scan_seconds.values())

    @property
    def scaled(self) -> float:
        return self.target / self.members


def log(note: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {note}", file=sys.stderr, flush=True)


def fresh(kind: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'outbox.db'}", lambda: None
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        raise SystemExit("TEST_DATABASE_URL is not set: give a PostgreSQL server to bench on")
    name = f"bench_outbox_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def seed(db: Database, config, target: int, budget: float) -> tuple[int, float]:
    """Members in steps, while the next step fits in the budget; (members, seconds)."""
    started, made = time.monotonic(), 0
    while made < target:
        step_started = time.monotonic()
        made = min(target, made + STEP)
        seed_generated(db, config, SEEDED, made)
        spent, step = time.monotonic() - started, time.monotonic() - step_started
        log(f"  {made:,} members seeded ({spent:.0f}s)")
        if made < target and spent + step * 1.1 > budget:
            log(f"  stopping at {made:,}: the next step would pass the seeding budget")
            break
    return made, time.monotonic() - started


def scan(db: Database, config, result: Result) -> None:
    for job in MESSAGE_JOBS:
        started = time.monotonic()
        count = job.run(db, config, SCAN_DAY)
        result.scan_seconds[job.name] = time.monotonic() - started
        result.queued[job.name] = count
        log(f"  {job.name}: {count:,} in {result.scan_seconds[job.name]:.1f}s")


def evaluation_day(db: Database, config, result: Result) -> None:
    """The evaluation job on its day (the scan day), timed."""
    on_scan_day = config.tier_evaluation.model_copy(
        update={"month": SCAN_DAY.month, "day": SCAN_DAY.day}
    )
    configured = config.model_copy(update={"tier_evaluation": on_scan_day})
    with db.unit_of_work(write=False) as session:
        before = session.scalar(select(func.count()).select_from(OutboundMessage))
    started = time.monotonic()
    result.evaluated = tier_evaluation.evaluate(db, configured, SCAN_DAY)
    result.evaluation_seconds = time.monotonic() - started
    with db.unit_of_work(write=False) as session:
        result.evaluation_queued = (
            session.scalar(select(func.count()).select_from(OutboundMessage)) - before
        )
    log(f"  evaluation day: {result.evaluated:,} evaluated in {result.evaluation_seconds:.1f}s")


def bind_to_telegram(db: Database) -> None:
    """Members with queued messages chat on Telegram (numeric chat ids), not the console."""
    with db.unit_of_work() as session:
        session.execute(
            update(ChatIdentity)
            .where(ChatIdentity.member_id.in_(select(OutboundMessage.member_id)))
            .values(channel="telegram", external_id=cast(ChatIdentity.id + 10**9, String(30)))
        )
        session.commit()


def dispatch(db: Database, config, senders: dict, messages: int, threads: int = 1) -> float:
    """Messages per second over `messages` due messages, `threads` dispatchers sharing them."""
    at = SCAN_DAY
    batch = 50
    per_thread = max(1, messages // (batch * threads))
    racers = [
        Dispatcher(db, config, senders, name=f"bench-{n}", clock=lambda: at, batch=batch)
        for n in range(threads)
    ]
    started = time.monotonic()
    workers = [threading.Thread(target=r.run, kwargs={"max_batches": per_thread}) for r in racers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    sent = sum(r.tally["sent"] for r in racers)
    return sent / elapsed


def telegram(config, db: Database, api: FakeTelegram, limited: bool) -> TelegramSender:
    settings = config.channels.telegram
    if not limited:
        settings = settings.model_copy(
            update={"rate_per_second": 1_000_000.0, "per_chat_interval_seconds": 0.0}
        )
    return TelegramSender(TOKEN, settings, db, base_url=api.base_url, clock=lambda: SCAN_DAY)


def bench(kind: str, args, config, workdir: Path) -> Result:
    url, drop = fresh(kind, workdir)
    try:
        upgrade(url, "heads")
        db = Database(url)
        log(f"{kind}: seeding up to {args.members:,} members")
        members, seconds = seed(db, config, args.members, args.seed_minutes * 60)
        result = Result(kind, members, seconds, target=args.members)
        log(f"{kind}: daily scan for {SCAN_DAY:%Y-%m-%d}")
        scan(db, config, result)
        bind_to_telegram(db)
        log(f"{kind}: dispatching")
        nothing = {"telegram": NullSender()}
        result.dispatch["null sender"] = dispatch(db, config, nothing, args.null)
        with FakeTelegram() as api:
            for threads in (1, 4):
                sender = telegram(config, db, api, limited=False)
                try:
                    rate = dispatch(db, config, {"telegram": sender}, args.fake, threads)
                finally:
                    sender.close()
                result.dispatch[f"fake Telegram, {threads} dispatcher(s)"] = rate
            for threads in (1, 4):
                sender = telegram(config, db, api, limited=True)
                try:
                    rate = dispatch(db, config, {"telegram": sender}, args.limited, threads)
                finally:
                    sender.close()
                result.limited[threads] = rate
        log(f"{kind}: {result.dispatch}, limited {result.limited}")
        log(f"{kind}: the yearly tier evaluation on its day")
        evaluation_day(db, config, result)
        db.dispose()
        return result
    finally:
        drop()


def table(results: list[Result]) -> str:
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    load = os.getloadavg()[0]
    lines = [
        f"Run {when} on {machine()}; load average {load:.1f} at the end of the run.",
        "",
        "| | " + " | ".join(r.database for r in results) + " |",
        "|---|" + "---|" * len(results),
        "| members generated | " + " | ".join(f"{r.members:,}" for r in results) + " |",
        "| seeding time | " + " | ".join(f"{r.seed_seconds / 60:.1f} min" for r in results) + " |",
    ]
    for name in results[0].scan_seconds:
        cells = [f"{r.queued[name]:,} in {r.scan_seconds[name]:.1f} s" for r in results]
        lines.append(f"| scan: {name} | " + " | ".join(cells) + " |")
    cells = []
    for r in results:
        total = f"{sum(r.queued.values()):,} in {r.scan_total:.1f} s"
        if r.members < r.target:
            total += f" (about {r.scan_total * r.scaled:.0f} s at {r.target:,}, extrapolated)"
        cells.append(total)
    lines.append("| **daily scan, all jobs** | " + " | ".join(cells) + " |")
    cells = [
        f"{r.evaluated:,} evaluated, {r.evaluation_queued:,} notices in {r.evaluation_seconds:.1f} s"
        for r in results
    ]
    lines.append("| yearly-tier-evaluation on its day | " + " | ".join(cells) + " |")
    for name in results[0].dispatch:
        cells = [f"{r.dispatch[name]:,.0f} msg/s" for r in results]
        lines.append(f"| dispatch: {name} | " + " | ".join(cells) + " |")
    for threads in results[0].limited:
        cells = [f"{r.limited[threads]:.1f} msg/s (limit 30)" for r in results]
        name = f"Telegram limit on, {threads} dispatcher(s)"
        lines.append(f"| dispatch: {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--seed-minutes", type=float, default=10.0)
    parser.add_argument("--null", type=int, default=5000, help="messages to the null sender")
    parser.add_argument("--fake", type=int, default=3000, help="messages per fake-API run")
    parser.add_argument("--limited", type=int, default=450, help="messages at 30/s")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    config = load_config(ROOT / "config.yml")
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as workdir:
        results = [bench(kind, args, config, Path(workdir)) for kind in args.databases.split(",")]
    body = table(results)
    print(body)
    if args.write:
        write_section(f"{SECTION}\n\n{body.strip()}\n")


if __name__ == "__main__":
    main()
